"""A venue's physical layout: zones, the door and where the gateways hang (metres)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec


class Zone(msgspec.Struct, frozen=True):
    name: str
    kind: Literal["street", "approach", "door", "dining"]
    x0: float
    y0: float
    x1: float
    y1: float

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1


class GatewayPlacement(msgspec.Struct, frozen=True):
    name: str
    x: float
    y: float
    # "door": at the host stand, decides arrival; "approach": outside, hears guests coming.
    role: Literal["door", "approach"]


class Layout(msgspec.Struct, frozen=True):
    venue: str
    door: tuple[float, float]
    zones: list[Zone]
    gateways: list[GatewayPlacement]
    # The pavement passers-by walk along, as a y coordinate, and how far it runs either way.
    street_y: float = 0.0
    street_half_length: float = 30.0

    def zone_at(self, x: float, y: float) -> Zone | None:
        for zone in self.zones:
            if zone.contains(x, y):
                return zone
        return None


def load_layout(path: str | Path) -> Layout:
    """Read a layout from a JSON file (see firmware_sim/scenarios/)."""
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
