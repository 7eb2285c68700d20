"""Band firmware: when a band advertises and what its frame says."""

from __future__ import annotations

import random

from gateway.beacons.band import BAND_COMPANY_ID, encode_band

# BLE adds a random 0-10 ms advDelay to every advertising event so that two devices with the
# same interval do not collide forever (Core spec Vol 6 Part B 4.4.2.2.1).
ADV_DELAY_MAX = 0.010
# A typical wristband: 100 ms interval, 0 dBm radio, which measures about -59 dBm at 1 m.
DEFAULT_INTERVAL = 0.100
DEFAULT_POWER_1M = -59


class BandFirmware:
    """One band: a static id, an advertising interval and a calibrated 1 m power."""

    __slots__ = ("_frame", "battery", "ident", "interval", "next_t", "power_1m")

    def __init__(
        self,
        ident: bytes,
        interval: float = DEFAULT_INTERVAL,
        power_1m: int = DEFAULT_POWER_1M,
        battery: int = 90,
        start: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        self.ident = ident
        self.interval = interval
        self.power_1m = power_1m
        self.battery = battery
        # Bands are switched on at different moments: spread the first event over one interval.
        self.next_t = start + (rng or random).uniform(0, interval)
        self._frame = {BAND_COMPANY_ID: encode_band(ident, power_1m, battery)}

    @property
    def advertiser_id(self) -> str:
        return f"band:{self.ident.hex()}"

    def frame(self) -> dict[int, bytes]:
        """Manufacturer data of the current advertisement."""
        return self._frame

    def advance(self, rng: random.Random) -> float:
        """Return the time of the event just due and schedule the next one."""
        t = self.next_t
        self.next_t = t + self.interval + rng.uniform(0, ADV_DELAY_MAX)
        return t
