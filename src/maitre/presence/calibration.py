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
from dataclasses import dataclass

import numpy as np

from maitre.presence.engine import PresenceConfig, follow_link
from maitre.presence.grid import expected_levels
from maitre.presence.kalman import RssiKalman
from maitre.presence.venue_model import VenueModel
from maitre.wire import Sighting

# A link's first updates are the filter finding its feet, not the venue: they are left out.
SETTLE_UPDATES = 3
MIN_SAMPLES = 200  # fewer and the spread is a guess: walk the route again, or slower
# Bounds on what the engine is told: below 4 dB one lucky walk would make it rash; above 16 dB
# the model says nothing and the venue needs its gateways moved, not a wider sigma.
MIN_SIGMA_DB, MAX_SIGMA_DB = 4.0, 16.0
# The walk sees each link for a minute or two; an evening sees thousands. What the engine
# assumes is the walk's spread plus this much, chosen on the tuning evenings (docs/presence.md).
MARGIN_DB = 0.5
STAND_S = 15.0  # seconds at each stop of the route: several times the shadowing's memory
ROOM_DEPTH_M = 7.0  # how far into the room the route goes, at most


@dataclass(frozen=True, slots=True)
class Waypoint:
    """A place on the calibration route; the walker stands there `stand_s` seconds (0: walks through)."""

    name: str
    x: float
    y: float
    stand_s: float = 0.0


def inward(model: VenueModel) -> tuple[float, float]:
    """The unit direction from the door into the venue: the one whose first metre is inside."""
    dx, dy = model.door
    for ux, uy in ((0.0, 1.0), (0.0, -1.0), (1.0, 0.0), (-1.0, 0.0)):
        if _inside(model, dx + ux, dy + uy) and not _inside(model, dx - ux, dy - uy):
            return ux, uy
    raise CalibrationError(
        f"cannot tell which side of the door {model.door} is inside: the layout's inside rectangles "
        "should start at the door and the pavement lie outside them"
    )


def route(model: VenueModel, stand_s: float = STAND_S) -> list[Waypoint]:
    """The walk, from the plan: the pavement, outside the door, the host stand, the room, and out.

    Along the pavement from 10 m to one side, a stop just outside the door, in to a metre past
    it (where the host stand usually is), into the room, back to the stand, out, a stop just
    outside the door's other side, and 10 m along the pavement the other way.
    """
    dx, dy = model.door
    ix, iy = inward(model)
    ax, ay = iy, -ix  # along the facade

    def at(name: str, into: float, along: float, stand: float = 0.0) -> Waypoint:
        return Waypoint(name, dx + ix * into + ax * along, dy + iy * into + ay * along, stand)

    depth = ROOM_DEPTH_M
    while depth > 1.5 and not _inside(model, dx + ix * depth + ax * 1.5, dy + iy * depth + ay * 1.5):
        depth -= 0.5
    return [
        at("the pavement, 10 m to one side", -2.0, -10.0),
        at("the pavement, 2 m before the door", -1.5, -2.0),
        at("just outside the door, to one side", -0.8, -0.8, stand_s),
        at("the doorway, outside", -0.3, 0.0),
        at("the doorway, inside", 0.3, 0.0),
        at("the host stand", 1.0, 0.3, stand_s),
        at("the room", depth, 1.5, stand_s),
        at("beside the host stand", 1.0, 1.1, stand_s),
        at("the doorway, inside", 0.3, 0.0),
        at("the doorway, outside", -0.3, 0.0),
        at("just outside the door, to the other side", -0.8, 0.8, stand_s),
        at("the pavement, 2 m past the door", -1.5, 2.0),
        at("the pavement, 10 m to the other side", -2.0, 10.0),
    ]


def _inside(model: VenueModel, x: float, y: float) -> bool:
    return any(x0 <= x <= x1 and y0 <= y <= y1 for x0, y0, x1, y1 in model.inside)


class CalibrationError(ValueError):
    """The walk cannot calibrate the venue (too few sightings on the route, unknown gateways)."""


@dataclass(frozen=True, slots=True)
class Calibration:
    samples: int  # filtered levels compared with the model
    gateways: int  # gateways that heard the walk
    spread_db: float  # root mean square of (filtered level − model): shadowing, bodies, lag, bias
    bias_db: float  # median of the same: the model reads this much high (−) or low (+) here
    sigma_db: float  # what the engine should assume for this venue

    def describe(self) -> str:
        return (
            f"{self.samples:,} levels from {self.gateways} gateways: spread {self.spread_db:.1f} dB, "
            f"bias {self.bias_db:+.1f} dB → sigma {self.sigma_db:.1f} dB"
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
    heard: set[str] = set()
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
        heard.add(gateway)
    if len(residuals) < MIN_SAMPLES:
        raise CalibrationError(
            f"the walk gave {len(residuals)} levels on the route, at least {MIN_SAMPLES} are needed: "
            "walk it again, more slowly, with the gateways running"
        )
    r = np.array(residuals)
    spread = float(np.sqrt(np.mean(r * r)))
    sigma = min(MAX_SIGMA_DB, max(MIN_SIGMA_DB, spread + MARGIN_DB))
    return Calibration(
        samples=len(r),
        gateways=len(heard),
        spread_db=round(spread, 2),
        bias_db=round(float(np.median(r)), 2),
        sigma_db=round(sigma, 1),
    )
