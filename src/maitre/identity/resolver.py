"""Central resolution of rotating band ids, precomputed per rotation window.

One resolver for all rotating bands, with a table from every currently valid ephemeral id back
to the band (the pattern of Home Assistant's private_ble_device). The AES work happens once per
band per rotation window, ahead of time, so resolving a sighting is a dictionary probe and a
band is known from its first advertisement in a new window.

An ephemeral id resolves only while its band can physically be advertising it: the band's clock
may have drifted from the service's by at most CLOCK_PPM of the time since the two last agreed,
so the resolver tracks the interval the drift can lie in, narrows it with each id it hears, and
refuses an id whose window that interval cannot reach (a replay, counted as such). A band's
window only ever moves forward: an id of a window before the latest heard is refused too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

from maitre.identity.eid import compute_eid

# The Eddystone-EID spec's crystal tolerance: a band's clock is within 150 ppm (~13 s a day).
CLOCK_PPM = 150e-6
# Beyond the crystal: how late a sighting reaches the resolver (a gateway's batch window and the
# network) and how exactly a band's epoch was recorded when it was set up. A replayed id is
# refused once its window is this long over, whatever the replay's timing.
CLOCK_SLACK_SECONDS = 10.0
# An id of the window before the latest heard still resolves this long after the latest was
# first heard: two gateways' batches either side of a rotation may arrive in either order.
ROTATION_OVERLAP_SECONDS = CLOCK_SLACK_SECONDS
# Windows before the band's present that stay in the table once the band has been heard, so that
# a replay of a recent id is counted as one (Refused.REPLAYED) rather than as an id nobody has.
REPLAY_MEMORY_WINDOWS = 4
# A band unheard for months may be anywhere in a wide interval; its table is capped at this many
# windows around the estimate, so one band can never cost more than this much AES per refresh.
MAX_WINDOWS = 64


class Refused(Enum):
    REPLAYED = "replayed"  # a known band's id, heard outside the time the band can advertise it


@dataclass
class RotatingBand:
    advertiser_id: str  # the band's stable id, e.g. band:0a1b2c3d4e5f6071
    identity_key: bytes
    exponent: int
    epoch: float  # unix time at which the band's time counter read 0
    # Where the band's clock can be, learned from sightings: its counter minus (service time −
    # epoch) lies in [drift_low, drift_high] seconds as of `synced_at` (the epoch, until heard).
    drift_low: float = 0.0
    drift_high: float = 0.0
    synced_at: float | None = None
    latest_window: int = -1  # the latest window heard from the band
    latest_heard_at: float = 0.0  # when that window was first heard
    _windows: dict[int, str] = field(default_factory=dict, repr=False)  # window → "eid:…"

    @property
    def period(self) -> int:
        return 1 << self.exponent

    def drift_bounds(self, now: float) -> tuple[float, float]:
        """The drift interval at `now`: the learned one, widened by what the crystal may add since."""
        since = max(0.0, now - (self.epoch if self.synced_at is None else self.synced_at))
        grown = CLOCK_PPM * since
        return self.drift_low - grown, self.drift_high + grown


class EidResolver:
    """Maps "eid:…" advertiser ids to stable band ids; not thread-safe (one ingest loop owns it)."""

    def __init__(self, slack: float = CLOCK_SLACK_SECONDS) -> None:
        self.slack = slack
        self._bands: dict[str, RotatingBand] = {}
        self._by_eid: dict[str, tuple[str, int]] = {}  # "eid:…" → (band id, window)
        self.computed = 0  # AES-pair computations so far, for tests and metrics
        self.replayed = 0  # ids refused as replays, for tests and metrics
        self.now = 0.0  # latest time the table was filled for

    def __len__(self) -> int:
        return len(self._bands)

    def register(self, band: RotatingBand, now: float) -> None:
        self.forget(band.advertiser_id)
        self._bands[band.advertiser_id] = band
        self._fill(band, now)

    def forget(self, advertiser_id: str) -> None:
        band = self._bands.pop(advertiser_id, None)
        if band is not None:
            for eid in band._windows.values():
                self._by_eid.pop(eid, None)
            band._windows.clear()

    def clear(self) -> None:
        self._bands.clear()
        self._by_eid.clear()

    def refresh(self, now: float) -> None:
        """Precompute the windows around `now` for every band; cheap when nothing rotated."""
        for band in self._bands.values():
            self._fill(band, now)

    def resolve(self, eid: str, now: float) -> str | Refused | None:
        """The stable band id for an ephemeral id heard at `now`; Refused.REPLAYED for a known
        band's id heard when the band cannot be advertising it; None if no band has it."""
        found = self._by_eid.get(eid)
        if found is None:
            return None
        advertiser_id, window = found
        band = self._bands[advertiser_id]
        if window < band.latest_window and not (
            window == band.latest_window - 1 and now - band.latest_heard_at <= ROTATION_OVERLAP_SECONDS
        ):
            self.replayed += 1
            return Refused.REPLAYED
        # The drift this id implies: the band's counter is inside `window` at `now`.
        age = now - band.epoch
        seen_low, seen_high = (
            window * band.period - age - self.slack,
            (window + 1) * band.period - age + self.slack,
        )
        low, high = band.drift_bounds(now)
        if seen_high < low or seen_low > high:
            self.replayed += 1
            return Refused.REPLAYED
        band.drift_low, band.drift_high, band.synced_at = max(low, seen_low), min(high, seen_high), now
        if window > band.latest_window:
            band.latest_window, band.latest_heard_at = window, now
        return advertiser_id

    def _fill(self, band: RotatingBand, now: float) -> None:
        """Keep the band's table to the windows its clock can be in at `now`, the next one, and (once
        heard) the few before (to recognise their replays)."""
        self.now = max(self.now, now)
        low, high = band.drift_bounds(now)
        age, period = now - band.epoch, band.period
        first = math.floor((age + low - self.slack) / period)
        last = math.floor((age + high + self.slack) / period) + 1  # the next one, precomputed
        if last - first + 1 > MAX_WINDOWS:
            centre = math.floor((age + (low + high) / 2) / period)
            first, last = centre - MAX_WINDOWS // 2, centre + MAX_WINDOWS // 2 - 1
        if band.latest_window >= 0:  # a band heard: its ids may have been recorded
            first -= REPLAY_MEMORY_WINDOWS
        wanted = range(max(0, first), max(0, last) + 1)
        for window in [w for w in band._windows if w not in wanted]:
            self._by_eid.pop(band._windows.pop(window), None)
        for window in wanted:
            if window not in band._windows:
                counter = window << band.exponent
                eid = "eid:" + compute_eid(band.identity_key, band.exponent, counter).hex()
                self.computed += 1
                band._windows[window] = eid
                self._by_eid[eid] = (band.advertiser_id, window)
