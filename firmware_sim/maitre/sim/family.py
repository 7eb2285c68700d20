"""A family of venues drawn from a seed: facades, doors, gateways hung as installers hang them, radio.

Every venue the product meets is one it has never seen, so the engine is judged on venues drawn
here rather than on the bistro it grew up in. A seed gives one venue, its radio and an evening's
crowd; seeds are split once into a tuning set and a test set (SPLITS), and nothing is tuned on
the test set. Geometry is in a canonical frame: the facade runs along y = FACADE_Y, inside is
y > FACADE_Y, the street (or walkway) below it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import msgspec

from maitre.sim.scenario import CrowdSpec, RadioSpec, Scenario
from maitre.sim.venue import GatewayPlacement, Layout, Wall, Zone

FACADE_Y = 2.0
VenueKind = Literal["street", "double-door", "vestibule", "corner", "walkway", "three-gateway"]
KINDS: tuple[VenueKind, ...] = ("street", "double-door", "vestibule", "corner", "walkway", "three-gateway")
# Seeds 1..999 are for tuning, 100001..100999 the published test set: far apart, so an offset
# added while tuning never walks into the test set.
SPLITS = {"tune": 1, "test": 100_001}
SPLIT_SIZE = 999
ROOM_DEPTH = 12.0
ROOM_HALF_WIDTH = 8.0
PARTY_WALL_DB = 12.0  # brick between the venue and its neighbours


@dataclass(frozen=True)
class FamilyVenue:
    """One drawn venue: where it is, how its radio behaves, and the evening played in it."""

    seed: int
    kind: VenueKind
    layout: Layout
    scenario: Scenario
    placement: str  # how its gateways were hung

    @property
    def label(self) -> str:
        return f"{self.kind}#{self.seed}"


def split_seeds(split: str, count: int) -> list[int]:
    """The first `count` seeds of a split ('tune' or 'test')."""
    if split not in SPLITS:
        raise ValueError(f"no split {split!r}; splits: {', '.join(SPLITS)}")
    if not 0 < count <= SPLIT_SIZE:
        raise ValueError(f"count must be 1..{SPLIT_SIZE}")
    return [SPLITS[split] + k for k in range(count)]


def family(split: str, count: int, radio_kind: str = "") -> Iterator[FamilyVenue]:
    """`count` venues of a split, the kinds taken in turn so every kind is there; `radio_kind`
    puts every venue on one radio model (default: each venue draws one)."""
    for k, seed in enumerate(split_seeds(split, count)):
        yield venue(seed, KINDS[k % len(KINDS)], radio_kind)


def venue(seed: int, kind: VenueKind | None = None, radio_kind: str = "") -> FamilyVenue:
    """The venue, radio and evening of one seed; `kind` fixes the kind of venue (default: drawn)."""
    rng = random.Random(seed * 7_919 + 17)
    chosen: VenueKind = rng.choice(KINDS) if kind is None else kind
    width = rng.uniform(2.2, 3.0) if chosen == "double-door" else rng.uniform(0.9, 2.2)
    glazed = rng.random() < 0.5
    facade_db = rng.uniform(3.0, 6.0) if glazed else rng.uniform(8.0, 15.0)
    if chosen == "walkway":
        facade_db = rng.uniform(3.0, 5.0)  # resort fronts are mostly glass
    door = (0.0, FACADE_Y)
    host_in = rng.uniform(1.0, 3.5)  # how far in guests stop to be greeted
    host = (rng.uniform(-1.5, 1.5), FACADE_Y + host_in)
    walls, left = _facade(width, facade_db, chosen, rng)
    host = (max(host[0], left + 0.5), host[1])  # a corner building may end just past the door
    entry: list[tuple[float, float]] = []
    if chosen == "vestibule":
        depth = rng.uniform(1.2, 2.5)
        inner_x = rng.uniform(-1.0, 1.0)
        inner_db = rng.uniform(3.0, 10.0)
        y = FACADE_Y + depth
        walls += [
            Wall(-ROOM_HALF_WIDTH, y, inner_x - 0.6, y, inner_db),
            Wall(inner_x + 0.6, y, ROOM_HALF_WIDTH, y, inner_db),
        ]
        entry = [(inner_x, y - 0.3), (inner_x, y + 0.3)]
        host = (inner_x + rng.uniform(-1.0, 1.0), max(host[1], y + 1.0))
    if chosen == "walkway":
        street_from_facade = rng.uniform(1.5, 2.5)
    else:
        street_from_facade = rng.uniform(2.3, 3.3)  # passers-by then walk 1.3-4.8 m from the facade
    street_y = FACADE_Y - street_from_facade
    gateways, placement = _gateways(chosen, width, host, street_y, rng)
    # Whatever hangs inside hangs inside the building (a corner building's side wall is near).
    gateways = [
        msgspec.structs.replace(g, x=max(g.x, round(left + 0.3, 2))) if g.y > FACADE_Y else g
        for g in gateways
    ]
    layout = Layout(
        venue="family",
        door=door,
        zones=[
            Zone("street", "street", -30.0, street_y - 2.0, 30.0, FACADE_Y - 0.8),
            Zone("approach", "approach", -width / 2, FACADE_Y - 0.8, width / 2, FACADE_Y),
            Zone("entrance", "door", max(-3.0, left), FACADE_Y, 3.0, host[1] + 1.0),
            Zone(
                "dining",
                "dining",
                left,
                host[1] + 1.0,
                ROOM_HALF_WIDTH,
                FACADE_Y + ROOM_DEPTH,
            ),
        ],
        gateways=gateways,
        street_y=street_y,
        walls=walls,
        host_stand=host,
        tables=(max(rng.uniform(-3.0, 3.0), left + 1.0), host[1] + rng.uniform(3.0, 6.0)),
        entry=entry,
    )
    scenario = Scenario(
        name=f"family-{chosen}-{seed}",
        description=f"{chosen}, gateways {placement}, door {width:.1f} m, facade {facade_db:.0f} dB",
        seed=seed,
        duration=600.0,
        advertising_interval=rng.choice((0.1, 0.2, 0.25, 0.5, 1.0)),
        radio=draw_radio(rng, [g.name for g in gateways], radio_kind),
        crowd=CrowdSpec(
            parties=rng.randint(15, 25),
            max_party_size=rng.randint(2, 5),
            passers_by_per_minute=rng.uniform(2.0, 6.0) if chosen == "walkway" else rng.uniform(4.0, 14.0),
            known_passer_share=0.3,
            waiters_outside=rng.randint(1, 5),
            known_waiter_share=0.6,
            party_waits_outside_share=rng.uniform(0.0, 0.15),
            staff=rng.randint(1, 4),
        ),
    )
    return FamilyVenue(seed, chosen, layout, scenario, placement)


def _facade(width: float, loss_db: float, kind: VenueKind, rng: random.Random) -> tuple[list[Wall], float]:
    """The facade with its door gap, the party walls and the back; and where the building's left
    side is (a corner building ends just past the door, its side wall on the street)."""
    left = -ROOM_HALF_WIDTH
    if kind == "corner":
        left = -width / 2 - rng.uniform(0.4, 2.0)  # the building ends just past the door
    back = FACADE_Y + ROOM_DEPTH
    return [
        Wall(left, FACADE_Y, -width / 2, FACADE_Y, loss_db),
        Wall(width / 2, FACADE_Y, ROOM_HALF_WIDTH, FACADE_Y, loss_db),
        Wall(left, FACADE_Y, left, back, loss_db if kind == "corner" else PARTY_WALL_DB),
        Wall(ROOM_HALF_WIDTH, FACADE_Y, ROOM_HALF_WIDTH, back, PARTY_WALL_DB),
        Wall(left, back, ROOM_HALF_WIDTH, back, PARTY_WALL_DB),
    ], left


def _gateways(
    kind: VenueKind, width: float, host: tuple[float, float], street_y: float, rng: random.Random
) -> tuple[list[GatewayPlacement], str]:
    """Gateways as an installer might hang them, now and then badly; each hangs at a height."""
    hx, hy = host
    ceiling = rng.uniform(2.4, 3.2)

    def gw(name: str, x: float, y: float, role: str, height: float = 1.2) -> GatewayPlacement:
        return GatewayPlacement(name, round(x, 2), round(y, 2), role, height=round(height, 2))  # type: ignore[arg-type]

    if kind == "three-gateway":
        # The independent evaluation's venue: inside the door, on the host stand, across the street.
        side = rng.choice((-1.0, 1.0))
        return [
            gw("door", rng.uniform(-0.3, 0.3), FACADE_Y + 0.6, "door", rng.uniform(1.0, 2.2)),
            gw("host", hx + side * 1.5, hy, "door", rng.uniform(0.9, 1.3)),
            gw("street", rng.uniform(-1.0, 1.0), FACADE_Y - 5.0, "approach", rng.uniform(2.5, 3.5)),
        ], "ordinary-3"
    style = rng.choice(("ordinary", "host-stand", "facade", "ceiling", "lintel", "poor"))
    side = rng.choice((-1.0, 1.0))
    if style == "ordinary":
        out = [
            gw("door", rng.uniform(-0.3, 0.3), FACADE_Y + rng.uniform(0.4, 1.0), "door", ceiling - 0.6),
            gw("host", hx + side * rng.uniform(0.8, 2.0), hy, "door"),
            gw("street", rng.uniform(-1.5, 1.5), street_y - rng.uniform(0.5, 2.5), "approach", ceiling),
        ]
    elif style == "host-stand":
        out = [
            gw("door", hx + 0.4, hy + 0.5, "door"),
            gw("door-b", hx - 0.4, hy + 0.5, "door"),
            gw("street", width / 2 + 0.4, FACADE_Y - 0.1, "approach", rng.uniform(1.5, 2.5)),
            gw("street-b", -width / 2 - 0.4, FACADE_Y - 0.1, "approach", rng.uniform(1.5, 2.5)),
            gw("dining", rng.uniform(-2.0, 2.0), hy + rng.uniform(4.0, 7.0), "inside", ceiling),
        ]
    elif style == "facade":
        out = [
            gw("door", width / 2 + 0.5, FACADE_Y + 1.0, "door", rng.uniform(1.5, 2.5)),
            gw("door-b", -width / 2 - 0.5, FACADE_Y + 1.0, "door", rng.uniform(1.5, 2.5)),
            gw("street", side * rng.uniform(2.5, 4.5), FACADE_Y - 0.1, "approach", rng.uniform(1.5, 3.0)),
            gw("dining", 0.0, hy + rng.uniform(4.0, 7.0), "inside", ceiling),
        ]
    elif style == "ceiling":
        out = [
            gw("door", rng.uniform(-0.5, 0.5), FACADE_Y + rng.uniform(1.0, 2.5), "door", ceiling),
            gw("street", side * rng.uniform(1.0, 3.0), FACADE_Y - 0.1, "approach", rng.uniform(2.0, 3.0)),
            gw("dining", rng.uniform(-3.0, 3.0), hy + rng.uniform(3.0, 6.0), "inside", ceiling),
        ]
    elif style == "lintel":
        out = [
            gw("door", hx + side * 0.5, hy + 0.4, "door"),
            gw("lintel", 0.0, FACADE_Y - 0.1, "approach", rng.uniform(2.1, 2.6)),
            gw("street", -side * rng.uniform(2.0, 4.0), FACADE_Y - 0.1, "approach", rng.uniform(1.5, 3.0)),
            gw("dining", 0.0, hy + rng.uniform(4.0, 7.0), "inside", ceiling),
        ]
        if rng.random() < 0.5:
            out.append(gw("door-b", hx - side * 0.5, hy + 0.4, "door"))
    else:  # poor: nothing outside, the door gateway far from the door
        out = [
            gw("door", side * rng.uniform(2.5, 4.0), FACADE_Y + rng.uniform(2.5, 4.5), "door", ceiling),
            gw("dining", -side * rng.uniform(0.0, 3.0), hy + rng.uniform(4.0, 7.0), "inside", ceiling),
        ]
    if kind == "corner" and rng.random() < 0.5:
        out.append(gw("corner", -width / 2 - 2.5, FACADE_Y - 0.5, "approach", rng.uniform(2.0, 3.0)))
    return out, style


def draw_radio(rng: random.Random, gateways: list[str], kind: str = "", gain_db: float = 6.0) -> RadioSpec:
    """A radio as the family draws one: path loss, shadowing, fading, loss, bodies, and each
    gateway's gain within ±`gain_db`; `kind` fixes the radio model (default: drawn)."""
    drawn = rng.choice(("gauss-markov", "spatial"))  # drawn even when given: the crowd stays the same
    return RadioSpec(
        exponent=rng.uniform(1.8, 3.2),
        shadowing_db=rng.uniform(3.0, 10.0),
        shadowing_tau=rng.uniform(0.5, 6.0),
        fading_db=rng.uniform(1.0, 5.0),
        loss=rng.uniform(0.05, 0.30),
        body_loss_db=rng.uniform(3.0, 10.0),
        gain_db={g: round(rng.uniform(-gain_db, gain_db), 1) for g in gateways},
        kind=kind or drawn,
    )
