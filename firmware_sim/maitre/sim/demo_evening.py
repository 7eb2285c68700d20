"""A small simulated evening for `maitre-gateway run --simulate`: the demo bistro and a crowd."""

from __future__ import annotations

from maitre.sim.air import Air
from maitre.sim.band import BandFirmware
from maitre.sim.scene import Scene
from maitre.sim.venue import demo_layout

# Enough traffic to watch batches flow: someone walks in every 12 s, someone walks past every 5 s.
ARRIVAL_GAP = 12.0
PASSER_BY_GAP = 5.0
HORIZON = 3600.0  # an hour of people; after that the street is empty


def demo_air(venue: str, seed: int = 1) -> Air:
    """The demo bistro's air (gateways "door" and "street"), with a crowd scheduled for an hour."""
    air = Air(demo_layout(venue), seed=seed)
    scene = Scene(air, seed=seed)
    for k in range(int(HORIZON / ARRIVAL_GAP)):
        scene.guest_arrives(f"guest {k}", scene.new_band(), 2.0 + k * ARRIVAL_GAP, from_left=k % 2 == 0)
    for k in range(int(HORIZON / PASSER_BY_GAP)):
        scene.passer_by(f"passer-by {k}", scene.new_band(), 1.0 + k * PASSER_BY_GAP)
    return air


def placements(air: Air) -> list[str]:
    """The gateway names the simulated layout has room for."""
    return [g.name for g in air.layout.gateways]


def demo_guest_bands(venue: str, count: int, seed: int = 1) -> list[tuple[BandFirmware, float]]:
    """The first `count` arriving guests' bands, each with when it reaches the door (seconds after
    the simulated gateways start): `maitre db seed-demo` books them so the gateways' crowd is greeted."""
    people = [p for p in demo_air(venue, seed).people if p.kind == "guest"][:count]
    return [(p.band, 2.0 + k * ARRIVAL_GAP) for k, p in enumerate(people)]
