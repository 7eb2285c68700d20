"""A venue learns its gateways' gains from its own guests: the moment after a greeting, they stand
at the host stand, a place the plan knows.

Every gateway hears a band a few dB louder or softer than the path-loss model says (antenna,
enclosure, mounting; ±6 dB is common), and nobody measured it. After the engine greets a band,
its wearer stands at the host stand for a few seconds: each gateway's mean level over those
seconds, minus the level the plan expects at the host stand, is one look at that gateway's gain.
The median over many greetings is the gain the engine then uses (VenueModel.gains). A gateway
whose recent looks stray far from what was learned has been moved, turned or blocked: that is
drift, reported rather than silently learned over.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass

import msgspec
import numpy as np

from maitre.floorplan import FloorPlanError, VenueModel, host_stand_depth, inward
from maitre.presence.grid import expected_levels

SETTLE_S = 0.5  # after the greeting: the last step to the stand
SPAN_S = 3.0  # seconds of standing that make one look
MIN_SIGHTINGS = 2  # a gateway's look needs at least this many sightings in the span
MIN_LOOKS = 5  # looks at a gateway before its gain is learned
KEEP = 60  # looks kept per gateway: the learned gain follows slow change, not one odd evening
RECENT = 12  # the latest looks, compared against the learned gain for drift
DRIFT_DB = 6.0  # recent looks this far (median) from the learned gain: the gateway moved
UPDATE_DB = 0.5  # a learned gain that moves less than this does not rebuild the engine's grid
MAX_GAIN_DB = 15.0  # a look further off than this is not a gain but a band elsewhere


@dataclass(frozen=True, slots=True)
class GatewayGain:
    """What the venue learned of one gateway."""

    gain_db: float | None  # None: too few looks yet
    looks: int
    drift_db: float | None  # recent looks' median minus the learned gain, once there are enough


class _Look:
    __slots__ = ("sums", "t0")

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.sums: dict[str, list[float]] = {}


class GainLearner:
    """One venue's gateways' gains, learned from bands at the host stand just after their greeting."""

    def __init__(self, model: VenueModel, exponent: float) -> None:
        self.stand = _stand(model)
        bare = model if not model.gains else _without_gains(model)
        xs, ys = np.array([self.stand[0]]), np.array([self.stand[1]])
        self.expected = {g: float(expected_levels(bare, exponent, g, xs, ys)[0]) for g in model.gateways}
        self._open: dict[str, _Look] = {}
        self._looks: dict[str, deque[float]] = {g: deque(maxlen=KEEP) for g in model.gateways}
        self.applied: dict[str, float] = dict(model.gains)
        # The latest report, replaced whole after each look: other threads (metrics, /readyz) read it.
        self.snapshot: dict[str, GatewayGain] = self.report()

    def greeted(self, band: str, t: float) -> None:
        """The engine just greeted `band`: its next few seconds are a look at the host stand."""
        for old in [b for b, look in self._open.items() if look.t0 < t - 60.0]:
            del self._open[old]  # greeted, then never heard again: nothing to look at
        self._open[band] = _Look(t + SETTLE_S)

    def forget(self, band: str) -> None:
        self._open.pop(band, None)

    def heard(self, band: str, gateway: str, t: float, level: float) -> bool:
        """A sighting of a greeted band; True when a look closed and the gains may have moved."""
        look = self._open.get(band)
        if look is None:
            return False
        if t > look.t0 + SPAN_S:
            del self._open[band]
            return self._close(look)
        if t >= look.t0 and gateway in self.expected:
            look.sums.setdefault(gateway, []).append(level)
        return False

    def _close(self, look: _Look) -> bool:
        took = False
        for gateway, levels in look.sums.items():
            if len(levels) < MIN_SIGHTINGS:
                continue
            residual = statistics.fmean(levels) - self.expected[gateway]
            if abs(residual) <= MAX_GAIN_DB:
                self._looks[gateway].append(residual)
                took = True
        if took:
            self.snapshot = self.report()
        return took

    def report(self) -> dict[str, GatewayGain]:
        """Every gateway's learned gain, its looks, and how far its recent looks stray."""
        out = {}
        for gateway, looks in self._looks.items():
            if len(looks) < MIN_LOOKS:
                out[gateway] = GatewayGain(None, len(looks), None)
                continue
            gain = statistics.median(looks)
            recent = list(looks)[-RECENT:]
            drift = statistics.median(recent) - gain if len(looks) >= 2 * RECENT else None
            out[gateway] = GatewayGain(round(gain, 1), len(looks), None if drift is None else round(drift, 1))
        return out

    def update(self) -> dict[str, float] | None:
        """The gains to use now, when they moved enough to rebuild the engine's view; else None."""
        learned = {g: r.gain_db for g, r in self.snapshot.items() if r.gain_db is not None}
        if not learned:
            return None
        gains = {**self.applied, **learned}
        moved = any(abs(gains[g] - self.applied.get(g, 0.0)) >= UPDATE_DB for g in gains)
        if not moved:
            return None
        self.applied = gains
        return gains

    def drifting(self) -> list[str]:
        """Gateways whose recent looks stray DRIFT_DB or more from what the venue learned."""
        return sorted(
            g for g, r in self.snapshot.items() if r.drift_db is not None and abs(r.drift_db) >= DRIFT_DB
        )


def _stand(model: VenueModel) -> tuple[float, float]:
    """Where greeted guests stand: the plan's host stand, or a metre inside the door."""
    if model.host_stand is not None:
        return model.host_stand
    try:
        ix, iy = inward(model)
        depth = host_stand_depth(model)
    except FloorPlanError:
        return model.door
    return model.door[0] + ix * depth, model.door[1] + iy * depth


def _without_gains(model: VenueModel) -> VenueModel:
    return msgspec.structs.replace(model, gains={})
