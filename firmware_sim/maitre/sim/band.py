"""Band firmware: when a band advertises and what its frame says."""

from __future__ import annotations

import random
from dataclasses import dataclass

from maitre.gateway.beacons.band import BAND_COMPANY_ID, encode_band
from maitre.identity.eid import compute_eid

# BLE adds a random 0-10 ms advDelay to every advertising event so that two devices with the
# same interval do not collide forever (Core spec Vol 6 Part B 4.4.2.2.1).
ADV_DELAY_MAX = 0.010
# A typical wristband: 100 ms interval, 0 dBm radio, which measures about -59 dBm at 1 m.
DEFAULT_INTERVAL = 0.100
DEFAULT_POWER_1M = -59


@dataclass(frozen=True)
class Rotation:
    """Rotating ids in the Eddystone-EID manner, with a band clock that drifts."""

    identity_key: bytes
    exponent: int = 10  # a new id every 2^K seconds
    epoch: float = 0.0  # unix time at which the band's time counter read 0
    drift_ppm: float = 0.0  # the band's crystal: + runs fast, - runs slow (spec allows ±150)

    def counter(self, unix: float) -> int:
        return int((unix - self.epoch) * (1 + self.drift_ppm * 1e-6))


class BandFirmware:
    """One band: an id (static, or rotating), an advertising interval and a calibrated 1 m power."""

    __slots__ = ("_frame", "_window", "battery", "ident", "interval", "next_t", "power_1m", "rotation")

    def __init__(
        self,
        ident: bytes,
        interval: float = DEFAULT_INTERVAL,
        power_1m: int = DEFAULT_POWER_1M,
        battery: int = 90,
        start: float = 0.0,
        rng: random.Random | None = None,
        rotation: Rotation | None = None,
    ) -> None:
        self.ident = ident
        self.interval = interval
        self.power_1m = power_1m
        self.battery = battery
        self.rotation = rotation
        # Bands are switched on at different moments: spread the first event over one interval.
        self.next_t = start + (rng or random).uniform(0, interval)
        self._frame = {BAND_COMPANY_ID: encode_band(ident, power_1m, battery)}
        self._window = -1

    @property
    def advertiser_id(self) -> str:
        """The stable id the service knows the band by (a rotating band never advertises it)."""
        return f"band:{self.ident.hex()}"

    def frame(self, unix: float) -> dict[int, bytes]:
        """Manufacturer data of the advertisement sent at unix time `unix`."""
        rot = self.rotation
        if rot is None:
            return self._frame
        counter = rot.counter(unix)
        window = counter >> rot.exponent
        if window != self._window:
            eid = compute_eid(rot.identity_key, rot.exponent, counter)
            self._frame = {BAND_COMPANY_ID: encode_band(eid, self.power_1m, self.battery, rotating=True)}
            self._window = window
        return self._frame

    def advance(self, rng: random.Random) -> float:
        """Return the time of the event just due and schedule the next one."""
        t = self.next_t
        self.next_t = t + self.interval + rng.uniform(0, ADV_DELAY_MAX)
        return t
