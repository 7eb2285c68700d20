"""A venue's floor plan as every layer sees it: gateway places, walls, the inside, the way in.

The gateway, the simulator and the service share these types; so does the calibration walk's
route, which the simulator walks and the service compares against.
"""

from __future__ import annotations

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
