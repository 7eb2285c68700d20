"""Central resolution of rotating band ids, precomputed per rotation window.

One resolver for all rotating bands, with a table from every currently valid ephemeral id back
to the band (the pattern of Home Assistant's private_ble_device). The AES work happens once per
band per rotation window, ahead of time, so resolving a sighting is a dictionary probe and a
band is known from its first advertisement in a new window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from maitre.identity.eid import compute_eid

# Windows either side of the expected one that still resolve: a band's clock may drift (the
# spec allows 150 ppm, ~13 s a day) and rotate a little before or after the service expects.
TOLERANCE_WINDOWS = 1


@dataclass
class RotatingBand:
    advertiser_id: str  # the band's stable id, e.g. band:0a1b2c3d4e5f6071
    identity_key: bytes
    exponent: int
    epoch: float  # unix time at which the band's time counter read 0
    # Learned from sightings: how many windows the band's clock runs ahead (+) or behind (-).
    drift_windows: int = 0
    _windows: dict[int, str] = field(default_factory=dict, repr=False)  # window → "eid:…"


class EidResolver:
    """Maps "eid:…" advertiser ids to stable band ids; not thread-safe (one ingest loop owns it)."""

    def __init__(self, tolerance: int = TOLERANCE_WINDOWS) -> None:
        self.tolerance = tolerance
        self._bands: dict[str, RotatingBand] = {}
        self._by_eid: dict[str, tuple[str, int]] = {}  # "eid:…" → (band id, window)
        self.computed = 0  # AES-pair computations so far, for tests and metrics
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

    def resolve(self, eid: str, now: float) -> str | None:
        """The stable band id for an ephemeral id heard at `now`, or None if no registered band has it."""
        found = self._by_eid.get(eid)
        if found is None:
            return None
        advertiser_id, window = found
        band = self._bands[advertiser_id]
        position = (now - band.epoch) / (1 << band.exponent) + band.drift_windows
        # The band is somewhere inside `window`; half a window either way is ordinary jitter
        # around a rotation. Further off, its clock has drifted: follow it.
        if not window - 0.5 <= position < window + 1.5:
            band.drift_windows += window - int(position // 1)
            self._fill(band, now)
        return advertiser_id

    def _expected_window(self, band: RotatingBand, now: float) -> int:
        return int((now - band.epoch) // (1 << band.exponent)) + band.drift_windows

    def _fill(self, band: RotatingBand, now: float) -> None:
        self.now = max(self.now, now)
        centre = self._expected_window(band, now)
        wanted = range(max(0, centre - self.tolerance), centre + self.tolerance + 1)
        for window in [w for w in band._windows if w not in wanted]:
            self._by_eid.pop(band._windows.pop(window), None)
        for window in wanted:
            if window not in band._windows:
                counter = window << band.exponent
                eid = "eid:" + compute_eid(band.identity_key, band.exponent, counter).hex()
                self.computed += 1
                band._windows[window] = eid
                self._by_eid[eid] = (band.advertiser_id, window)
