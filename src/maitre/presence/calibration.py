"""A venue calibration walk: how far filtered levels stray from the venue model, to weigh evidence by.

Someone wearing a band walks a known route through the venue (along the pavement, in at the
door, to the host stand, into the room and out again) at a known pace. Each gateway's sightings
of that band go through the same Kalman filter the engine runs; at every sighting the filtered
level is compared with what the venue model (path loss, walls) predicts at the walker's true
place. The spread of those differences is what this venue's shadowing, bodies and filter lag
do to the engine's evidence: the grid weighs cells with it (`VenueModel.sigma_db`) instead of
one figure for every venue. A venue with little shadowing then decides sooner; one with much
needs more evidence before it names anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from maitre.floorplan import VenueModel
from maitre.presence.config import PresenceConfig
from maitre.presence.grid import expected_levels
from maitre.presence.kalman import RssiKalman
from maitre.presence.link import follow_link
from maitre.wire import Sighting

# A link's first updates are the filter finding its feet, not the venue: they are left out.
SETTLE_UPDATES = 3
MIN_SAMPLES = 200  # fewer and the spread is a guess: walk the route again, or slower
MIN_GATEWAY_SAMPLES = 30  # a gateway heard fewer times on the walk keeps the plan's gain (0)
# Antennas, enclosures and mountings differ by a few dB; further off, the plan is wrong (a wall
# missing, a gateway misplaced) and that is left in the spread, not explained away as a gain.
MAX_GAIN_DB = 12.0
# Bounds on what the engine is told: below 4 dB one lucky walk would make it rash; above 16 dB
# the model says nothing and the venue needs its gateways moved, not a wider sigma.
MIN_SIGMA_DB, MAX_SIGMA_DB = 4.0, 16.0
# The walk sees each link for a minute or two; an evening sees thousands. What the engine assumes
# is the walk's spread plus this much, chosen on the tuning evenings
# (docs/evaluation/2026-11-27-presence.md).
MARGIN_DB = 0.5


class CalibrationError(ValueError):
    """The walk cannot calibrate the venue (too few sightings on the route, unknown gateways)."""


@dataclass(frozen=True, slots=True)
class Calibration:
    samples: int  # filtered levels compared with the model
    gateways: int  # gateways that heard the walk
    spread_db: float  # root mean square of (filtered level − model − gain): shadowing, bodies, lag
    bias_db: float  # median of all (filtered level − model): the model reads this much high (−) or low (+)
    sigma_db: float  # what the engine should assume for this venue
    # Each gateway's gain against the model (its median residual), dB; the spread is taken around it.
    gains: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        gains = ", ".join(f"{g} {v:+.1f}" for g, v in sorted(self.gains.items()))
        return (
            f"{self.samples:,} levels from {self.gateways} gateways: gains {gains or 'none'} dB; "
            f"spread around them {self.spread_db:.1f} dB → sigma {self.sigma_db:.1f} dB"
        )


def fit(
    model: VenueModel,
    where: Callable[[float], tuple[float, float] | None],
    sightings: Iterable[tuple[str, Sighting]],
    config: PresenceConfig | None = None,
) -> Calibration:
    """Calibrate from one band's sightings, (gateway, sighting) in time order; `where(t)` is the truth.

    `where` gives the walker's place at a sighting's time (None: off the route, not used).
    Raises CalibrationError when the walk says too little.
    """
    cfg = config or PresenceConfig()
    filters: dict[str, RssiKalman] = {}
    updates: dict[str, tuple[RssiKalman, int]] = {}  # gateway → its filter, updates since it (re)started
    residuals: list[float] = []
    of: list[str] = []  # the gateway of each residual
    for gateway, s in sightings:
        if gateway not in model.gateways:
            continue
        k = follow_link(filters, gateway, s, cfg)  # the engine's own link filter
        if k is None:
            continue
        before, n = updates.get(gateway, (None, 0))
        n = n + 1 if before is k else 1
        updates[gateway] = (k, n)
        place = where(s.t)
        if n < SETTLE_UPDATES or place is None:
            continue
        x, y = place
        expected = expected_levels(model, cfg.path_loss_exponent, gateway, np.array([x]), np.array([y]))
        residuals.append(k.x - float(expected[0]))
        of.append(gateway)
    if len(residuals) < MIN_SAMPLES:
        raise CalibrationError(
            f"the walk gave {len(residuals)} levels on the route, at least {MIN_SAMPLES} are needed: "
            "walk it again, more slowly, with the gateways running"
        )
    r = np.array(residuals)
    names = np.array(of)
    # Each gateway's own gain (its median residual, from enough levels), then the spread around it.
    gains = {
        g: round(max(-MAX_GAIN_DB, min(MAX_GAIN_DB, float(np.median(r[names == g])))), 1)
        for g in sorted(set(of))
        if int(np.sum(names == g)) >= MIN_GATEWAY_SAMPLES
    }
    centred = r - np.array([gains.get(g, 0.0) for g in of])
    spread = float(np.sqrt(np.mean(centred * centred)))
    sigma = min(MAX_SIGMA_DB, max(MIN_SIGMA_DB, spread + MARGIN_DB))
    return Calibration(
        samples=len(r),
        gateways=len(set(of)),
        spread_db=round(spread, 2),
        bias_db=round(float(np.median(r)), 2),
        sigma_db=round(sigma, 1),
        gains=gains,
    )
