"""A venue's floor plan as every layer sees it: gateway places, walls, the inside, the way in.

The gateway, the simulator and the service share these types; so does the calibration walk's
route, which the simulator walks and the service compares against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import msgspec

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1, metres


class WallSpec(msgspec.Struct, frozen=True):
    x0: float
    y0: float
    x1: float
    y1: float
    loss_db: float = 6.0


class VenueModel(msgspec.Struct, frozen=True):
    """Gateways by name → (x, y); walls that attenuate; rectangles that count as "arrived"."""

    gateways: dict[str, tuple[float, float]]
    walls: list[WallSpec] = []
    inside: list[Rect] = []
    door: tuple[float, float] = (0.0, 0.0)  # where guests come in, for direction and ETA
    bounds: Rect | None = None  # area to consider; default: around the gateways, 8 m margin
    # How far filtered levels stray from this model here, dB, as a calibration walk measured it
    # (maitre.presence.calibration); None: the engine's default (PresenceConfig.model_sigma_db).
    sigma_db: float | None = None
    # Where arriving guests stop to be greeted; None: a metre inside the door (where host stands
    # usually are). How far in it is shapes what "walked in" looks like to the door test.
    host_stand: tuple[float, float] | None = None
    # Gateways' heights above the floor, metres; a gateway not named hangs at a band's height.
    heights: dict[str, float] = {}
    # Gateways' gains against the path-loss model, dB (antenna, enclosure, mounting), as the venue
    # learned them (maitre.presence.selfcal) or a calibration walk measured them; unnamed: 0.
    gains: dict[str, float] = {}



class FloorPlanError(ValueError):
    """The plan cannot answer the question asked of it (which way is in, where the route goes)."""


def is_inside(model: VenueModel, x: float, y: float) -> bool:
    """Whether (x, y) lies in one of the plan's inside rectangles."""
    return any(x0 <= x <= x1 and y0 <= y <= y1 for x0, y0, x1, y1 in model.inside)


def inward(model: VenueModel) -> tuple[float, float]:
    """The unit direction from the door into the venue: the one whose first metre is inside."""
    dx, dy = model.door
    for ux, uy in ((0.0, 1.0), (0.0, -1.0), (1.0, 0.0), (-1.0, 0.0)):
        if is_inside(model, dx + ux, dy + uy) and not is_inside(model, dx - ux, dy - uy):
            return ux, uy
    raise FloorPlanError(
        f"cannot tell which side of the door {model.door} is inside: the layout's inside rectangles "
        "should start at the door and the pavement lie outside them"
    )


STAND_S = 15.0  # seconds at each stop of the calibration route: several times the shadowing's memory
ROOM_DEPTH_M = 7.0  # how far into the room the route goes, at most


@dataclass(frozen=True, slots=True)
class Waypoint:
    """A place on the calibration route; the walker stands there `stand_s` seconds (0: walks through)."""

    name: str
    x: float
    y: float
    stand_s: float = 0.0


def route(model: VenueModel, stand_s: float = STAND_S) -> list[Waypoint]:
    """The calibration walk, from the plan: the pavement, outside the door, the host stand, the room, and out.

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
    while depth > 1.5 and not is_inside(model, dx + ix * depth + ax * 1.5, dy + iy * depth + ay * 1.5):
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


BAND_HEIGHT_M = 1.0  # a band on a wrist at the side, or a beacon in a pocket
HOST_STAND_IN_M = 1.0  # where guests stop when the plan does not say: a metre inside the door
OVERHEAD_REACH_M = 0.5  # a gateway this close to the door's middle hangs "over the door" (the engine's rule)
DOOR_ON_WALL_M = 1.0  # a door this far from every wall is not in the plan's facade
DEFAULT_MARGIN_M = 8.0  # how far past the gateways, the door and the inside the area goes by default


@dataclass(frozen=True, slots=True)
class PlanCheck:
    """What a plan cannot be used for (errors: refused) and what it will do that may surprise (warnings)."""

    errors: list[str]
    warnings: list[str]


def default_bounds(model: VenueModel) -> Rect:
    """The area the engine considers when the plan gives none: every gateway, the door and the
    inside area, with a margin, so no part of the room is cut off."""
    xs = [x for x, _ in model.gateways.values()] + [model.door[0]]
    ys = [y for _, y in model.gateways.values()] + [model.door[1]]
    for x0, y0, x1, y1 in model.inside:
        xs += [x0, x1]
        ys += [y0, y1]
    m = DEFAULT_MARGIN_M
    return min(xs) - m, min(ys) - m, max(xs) + m, max(ys) + m


def check_plan(model: VenueModel, roles: dict[str, str] | None = None) -> PlanCheck:
    """Check a venue's plan against its gateways before the engine relies on it.

    Errors are plans the engine cannot use as meant (it cannot tell which way is in, or parts of
    the plan lie outside its own bounds); warnings are plans it will use, but not as an operator
    may expect. `roles` (gateway → door/approach/inside), when given, adds checks of the roles.
    """
    errors: list[str] = []
    warnings: list[str] = []
    if not model.inside:
        errors.append("the inside area is empty: nothing would ever count as arrived")
    else:
        try:
            inward(model)
        except FloorPlanError as exc:
            errors.append(f"{exc}; without it the door test is off and greetings come late or not at all")
    if model.bounds is not None:
        bx0, by0, bx1, by1 = model.bounds
        if bx0 >= bx1 or by0 >= by1:
            errors.append(f"bounds {model.bounds} are empty: give x0 < x1 and y0 < y1")
        outside = [
            name
            for name, (x, y) in sorted(model.gateways.items())
            if not (bx0 <= x <= bx1 and by0 <= y <= by1)
        ]
        if outside:
            errors.append(f"gateways {', '.join(outside)} lie outside the bounds {model.bounds}")
        cut = [r for r in model.inside if r[0] < bx0 or r[1] < by0 or r[2] > bx1 or r[3] > by1]
        if cut:
            errors.append(f"the inside area {cut} reaches past the bounds {model.bounds}")
        dx, dy = model.door
        if not (bx0 <= dx <= bx1 and by0 <= dy <= by1):
            errors.append(f"the door {model.door} lies outside the bounds {model.bounds}")
    if model.walls and min(_distance_to_wall(model.door, w) for w in model.walls) > DOOR_ON_WALL_M:
        warnings.append(
            f"the door {model.door} is more than {DOOR_ON_WALL_M} m from every wall: is the facade drawn "
            "where the door is?"
        )
    if not model.walls:
        warnings.append("no walls: the engine cannot tell the street side of the facade from the room")
    dx, dy = model.door
    overhead = [
        n for n, (x, y) in sorted(model.gateways.items()) if math.hypot(x - dx, y - dy) <= OVERHEAD_REACH_M
    ]
    if overhead:
        warnings.append(
            f"gateway {', '.join(overhead)} hangs within {OVERHEAD_REACH_M} m of the door: the door test "
            "gets the last word on every greeting (the rules for a gateway over the door)"
        )
    if model.inside and model.gateways:
        outside = [n for n, (x, y) in model.gateways.items() if not is_inside(model, x, y)]
        if not outside:
            warnings.append(
                "every gateway hangs inside: passers-by close to the facade are hard to tell from guests; "
                "hang one outside (docs/operate/placement.md)"
            )
    if model.host_stand is not None and not errors:
        depth = host_stand_depth(model)
        if not 0.3 <= depth <= 6.0:
            errors.append(
                f"the host stand {model.host_stand} is {depth:.1f} m inside the door: it should be "
                "0.3-6 m in, on the inside"
            )
    unknown = sorted(set(model.heights) - set(model.gateways))
    if unknown:
        warnings.append(f"heights given for gateways the venue does not have: {', '.join(unknown)}")
    if len(model.gateways) < 2:
        warnings.append("fewer than two gateways: one cannot tell which side of the door a band is on")
    if roles is not None and model.gateways and "door" not in {roles.get(n) for n in model.gateways}:
        warnings.append("no gateway has the door role")
    return PlanCheck(errors, warnings)


def _distance_to_wall(p: tuple[float, float], w: WallSpec) -> float:
    px, py = p
    vx, vy = w.x1 - w.x0, w.y1 - w.y0
    length2 = vx * vx + vy * vy
    f = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - w.x0) * vx + (py - w.y0) * vy) / length2))
    return math.hypot(px - (w.x0 + f * vx), py - (w.y0 + f * vy))


def host_stand_depth(model: VenueModel) -> float:
    """How far inside the door guests stop to be greeted, metres along the way in."""
    if model.host_stand is None:
        return HOST_STAND_IN_M
    ix, iy = inward(model)
    hx, hy = model.host_stand
    dx, dy = model.door
    return (hx - dx) * ix + (hy - dy) * iy
