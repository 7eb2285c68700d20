"""A venue's physical layout: zones, the door and where the gateways hang (metres)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec

from maitre.floorplan import VenueModel, WallSpec


class Zone(msgspec.Struct, frozen=True):
    name: str
    kind: Literal["street", "approach", "door", "dining"]
    x0: float
    y0: float
    x1: float
    y1: float

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1


class Wall(msgspec.Struct, frozen=True):
    """A straight wall segment and what it costs a signal to cross it."""

    x0: float
    y0: float
    x1: float
    y1: float
    loss_db: float = 6.0  # a glazed shop front; brick is nearer 10-15 dB

    def crosses(self, ax: float, ay: float, bx: float, by: float) -> bool:
        """Does the segment a→b pass through this wall?"""
        d1 = _side(self.x0, self.y0, self.x1, self.y1, ax, ay)
        d2 = _side(self.x0, self.y0, self.x1, self.y1, bx, by)
        if d1 * d2 >= 0:
            return False
        d3 = _side(ax, ay, bx, by, self.x0, self.y0)
        d4 = _side(ax, ay, bx, by, self.x1, self.y1)
        return d3 * d4 < 0


def _side(x0: float, y0: float, x1: float, y1: float, px: float, py: float) -> float:
    return (x1 - x0) * (py - y0) - (y1 - y0) * (px - x0)


class GatewayPlacement(msgspec.Struct, frozen=True):
    name: str
    x: float
    y: float
    # "door": at the host stand, decides arrival; "approach": outside, hears guests coming;
    # "inside": deeper in the room, tells inside from outside.
    role: Literal["door", "approach", "inside"]
    height: float | None = None  # metres above the floor; None: at a band's height (no vertical gap)


class Layout(msgspec.Struct, frozen=True):
    venue: str
    door: tuple[float, float]
    zones: list[Zone]
    gateways: list[GatewayPlacement]
    # The pavement passers-by walk along, as a y coordinate, and how far it runs either way.
    street_y: float = 0.0
    street_half_length: float = 30.0
    walls: list[Wall] = []
    host_stand: tuple[float, float] | None = None  # where arriving guests stop to be greeted
    tables: tuple[float, float] = (2.0, 8.0)  # where seated guests end up (centre of the room)
    entry: list[tuple[float, float]] = []  # places walked through after the door, before the host stand

    def zone_at(self, x: float, y: float) -> Zone | None:
        for zone in self.zones:
            if zone.contains(x, y):
                return zone
        return None


def presence_model(layout: Layout) -> VenueModel:
    """What the venue service is told about this layout: gateway places, walls, the inside."""
    inside = [(z.x0, z.y0, z.x1, z.y1) for z in layout.zones if z.kind in ("door", "dining")]
    xs = [v for z in layout.zones for v in (z.x0, z.x1)]
    ys = [v for z in layout.zones for v in (z.y0, z.y1)]
    return VenueModel(
        gateways={g.name: (g.x, g.y) for g in layout.gateways},
        walls=[WallSpec(w.x0, w.y0, w.x1, w.y1, w.loss_db) for w in layout.walls],
        inside=inside,
        door=layout.door,
        bounds=(max(min(xs), -20.0), min(ys), min(max(xs), 20.0), max(ys)),
        # What an installer measures with a tape: where the host stand is, how high each gateway hangs.
        host_stand=layout.host_stand,
        heights={g.name: g.height for g in layout.gateways if g.height is not None},
    )


def load_layout(path: str | Path) -> Layout:
    """Read a layout from a JSON file (the fields of Layout, in metres)."""
    return msgspec.json.decode(Path(path).read_bytes(), type=Layout)


def demo_layout(venue: str = "bistro") -> Layout:
    """A small bistro on a pavement: the door 2 m in from the kerb line, host stand 2 m inside."""
    return Layout(
        venue=venue,
        door=(0.0, 2.0),
        zones=[
            Zone(name="street", kind="street", x0=-30, y0=-2, x1=30, y1=1),
            Zone(name="approach", kind="approach", x0=-3, y0=1, x1=3, y1=2),
            Zone(name="host-stand", kind="door", x0=-3, y0=2, x1=3, y1=5),
            Zone(name="dining", kind="dining", x0=-10, y0=5, x1=10, y1=20),
        ],
        gateways=[
            GatewayPlacement(name="door", x=0.0, y=4.0, role="door"),
            GatewayPlacement(name="street", x=4.0, y=1.5, role="approach"),
        ],
    )


def bistro_layout(venue: str = "bistro") -> Layout:
    """A bistro on a pavement with a glazed front: door gap 1.5 m, host stand 1 m inside.

    Five gateways, hung where the decision is made (docs/operate/placement.md, "Where to hang the
    gateways"): two on the host stand itself (door), one either side of the door gap on the
    facade outside (approach) and one in the dining room (inside). The pavement runs along
    y = 0; the facade is the line y = 2.
    """
    return msgspec.structs.replace(
        bistro_facade_layout(venue),
        gateways=[
            # On the host stand, 0.5 m behind where guests stop: two, so one can die.
            GatewayPlacement(name="door", x=0.7, y=3.5, role="door"),
            GatewayPlacement(name="door-b", x=-0.1, y=3.5, role="door"),
            # Outside, on the facade either side of the door gap: loud for whoever waits there.
            GatewayPlacement(name="street", x=1.3, y=1.9, role="approach"),
            GatewayPlacement(name="street-b", x=-1.3, y=1.9, role="approach"),
            GatewayPlacement(name="dining", x=0.0, y=9.0, role="inside"),
        ],
    )


def bistro_lintel_layout(venue: str = "bistro") -> Layout:
    """The bistro with a sixth gateway over the door, on the lintel outside: for the roughest radio.

    Everyone who goes in walks right under it, so the door test (maitre/presence/door_test.py)
    becomes sure enough to have the last word on every greeting (PresenceConfig.overhead_m);
    docs/evaluation/2026-11-27-presence.md, "A gateway over the door", has its numbers.
    """
    base = bistro_layout(venue)
    lintel = GatewayPlacement(name="lintel", x=0.0, y=1.9, role="approach")
    return msgspec.structs.replace(base, gateways=[*base.gateways, lintel])


def bistro_facade_layout(venue: str = "bistro") -> Layout:
    """The same bistro with the gateways of the first installations: around the door, not on the stand.

    Two gateways just inside either side of the door (door), two on the facade 3.5 m either side
    of it (approach), one in the dining room (inside). Kept to compare placements:
    `maitre eval --layout bistro-facade`.
    """
    return Layout(
        venue=venue,
        door=(0.0, 2.0),
        zones=[
            Zone(name="street", kind="street", x0=-30, y0=-2, x1=30, y1=1.2),
            Zone(name="approach", kind="approach", x0=-1.5, y0=1.2, x1=1.5, y1=2),
            Zone(name="host-stand", kind="door", x0=-3, y0=2, x1=3, y1=4.5),
            Zone(name="dining", kind="dining", x0=-8, y0=4.5, x1=8, y1=14),
        ],
        gateways=[
            GatewayPlacement(name="door", x=1.0, y=3.2, role="door"),
            # A second gateway at the door, so the door is still heard if one dies.
            GatewayPlacement(name="door-b", x=-1.2, y=3.0, role="door"),
            GatewayPlacement(name="street", x=3.5, y=1.9, role="approach"),
            GatewayPlacement(name="street-b", x=-3.5, y=1.9, role="approach"),
            GatewayPlacement(name="dining", x=0.0, y=9.0, role="inside"),
        ],
        walls=[
            Wall(-8, 2, -0.75, 2),  # the glazed front, either side of the door
            Wall(0.75, 2, 8, 2),
            Wall(-8, 2, -8, 14, loss_db=12.0),  # party walls and the back: brick
            Wall(8, 2, 8, 14, loss_db=12.0),
            Wall(-8, 14, 8, 14, loss_db=12.0),
        ],
        host_stand=(0.3, 3.0),
        tables=(1.5, 9.0),
    )


LAYOUTS = {
    "bistro": bistro_layout,
    "bistro-lintel": bistro_lintel_layout,
    "bistro-facade": bistro_facade_layout,
}


def named_layout(name: str, venue: str = "bistro") -> Layout:
    """A layout by name (LAYOUTS) or by path to a layout JSON file."""
    make = LAYOUTS.get(name)
    if make is not None:
        return make(venue)
    if Path(name).exists():
        return msgspec.structs.replace(load_layout(name), venue=venue)
    raise FileNotFoundError(f"no layout {name!r}; known: {', '.join(LAYOUTS)} (or a path to a layout file)")
