"""The role rule a batch at a time decides exactly the events it decided one sighting at a time."""

from __future__ import annotations

import math
import random

import msgspec
import numpy as np
import pytest

from maitre import wire
from maitre.evaluation.runner import record
from maitre.presence import PresenceEngine, PresenceEvent, role_kernel
from maitre.sim.scenario import CrowdSpec, RadioSpec, Scenario, build
from maitre.wire import Sighting
from tests.presence_reference import ReferenceRoleRule

VENUE = "bistro"
T0 = 1_700_000_000.0
# Two doors, the facade, a hall gateway deeper inside, and one nobody gave a role.
ROLES = {
    (VENUE, "door"): "door",
    (VENUE, "door-2"): "door",
    (VENUE, "street"): "approach",
    (VENUE, "hall"): "inside",
}
GATEWAYS = ("door", "door-2", "street", "hall", "ghost")


def one_by_one(
    roles: dict[tuple[str, str], str], batches: list[tuple[str, list[Sighting]]]
) -> list[PresenceEvent]:
    reference = ReferenceRoleRule(roles)
    return [e for gateway, ss in batches for s in ss for e in reference.observe(VENUE, gateway, s)]


def batched(engine: PresenceEngine, batches: list[tuple[str, list[Sighting]]]) -> list[PresenceEvent]:
    return [e for gateway, ss in batches for e in engine.observe_batch(VENUE, gateway, ss)]


def wandering(seed: int, bands: int = 40, rounds: int = 400) -> list[tuple[str, list[Sighting]]]:
    """Bands drifting towards and away from every gateway, with what real batches hold at times:
    late and repeated sightings, the same band twice in a batch, gaps past stale_s, no tx power."""
    rng = random.Random(seed)
    ids = [f"band:{i:016x}" for i in range(bands)]
    where = {b: {g: rng.uniform(0.5, 20.0) for g in GATEWAYS} for b in ids}
    out = []
    for k in range(rounds):
        gateway = GATEWAYS[k % len(GATEWAYS)]
        t = T0 + k * 0.1
        sightings = []
        for b in rng.sample(ids, rng.randint(0, bands)):
            d = where[b][gateway] = min(30.0, max(0.3, where[b][gateway] + rng.gauss(-0.2, 1.0)))
            rssi = round(-59 - 22 * math.log10(d) + rng.gauss(0, 3), 1)
            at = t - rng.choice([0.0, 0.0, 0.0, 0.05, 0.3, 3.0])  # some late, some very late
            if rng.random() < 0.02:
                continue  # heard nowhere this round: links go stale
            tx = None if rng.random() < 0.1 else rng.choice([-59, -65])
            sightings.append(Sighting(id=b, rssi=rssi, rssi_max=rssi, n=rng.randint(1, 9), t=at, tx=tx))
        if sightings and rng.random() < 0.2:
            sightings.append(rng.choice(sightings))  # the same sighting again
            s = rng.choice(sightings)
            sightings.append(msgspec.structs.replace(s, t=s.t + 0.01, rssi=s.rssi + 6))  # and a newer one
        out.append((gateway, sightings))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_bands_wandering_between_gateways_give_the_same_events(seed: int) -> None:
    batches = wandering(seed)
    expected = one_by_one(ROLES, batches)
    assert {e.kind for e in expected} == {"approaching", "arrived", "left"}
    assert batched(PresenceEngine(ROLES), batches) == expected


@pytest.mark.parametrize("seed", range(3))
def test_a_venue_without_inside_gateways_gives_the_same_events(seed: int) -> None:
    roles = {k: r for k, r in ROLES.items() if r != "inside"}
    batches = wandering(seed + 20)
    expected = one_by_one(roles, batches)
    assert {e.kind for e in expected} == {"approaching", "arrived", "left"}
    assert batched(PresenceEngine(roles), batches) == expected


def repeating(seed: int) -> list[tuple[str, list[Sighting]]]:
    """Three bands at the door and the facade, each up to three times in a batch at levels near and
    far, so what one sighting's step decides (a dwell started or ended) changes the next one's.
    Levels are whole dBm, as ints: a caller's ints must work as floats do."""
    rng = random.Random(seed)
    out = []
    t = T0
    for _ in range(60):
        t += 0.25
        sightings = [
            Sighting(id=f"band:{b:016x}", rssi=-59 + z, rssi_max=-59 + z, n=rng.randint(1, 9), t=t + k / 20)
            for b in range(3)
            for k in range(rng.choice([1, 1, 2, 3]))
            for z in [rng.choice([0, -3, -8, -15, -25])]
        ]
        out.append((rng.choice(["door", "street", "door"]), sightings))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_a_band_up_to_three_times_in_one_batch_gives_the_same_events(seed: int) -> None:
    """Each band's k-th sighting in a batch is taken in the k-th round, after the step of the one
    before (taking them all in one pass changes the events of 7 of these 40)."""
    batches = repeating(seed)
    expected = one_by_one(ROLES, batches)
    assert expected  # approaching, arrived or left: something to get wrong
    assert batched(PresenceEngine(ROLES), batches) == expected


def test_occurrences_numbers_each_rows_repeats_within_one_batch() -> None:
    mark, seen = np.zeros(4, dtype=np.int64), np.zeros(4, dtype=np.int64)
    out = np.empty(6, dtype=np.int64)
    rows = np.array([3, 1, 3, 3, 2, 1], dtype=np.intp)
    assert role_kernel.occurrences(rows, mark, seen, 1, out) == 2
    assert out.tolist() == [0, 0, 1, 2, 0, 1]
    # The next batch (a new stamp) counts afresh.
    again = np.empty(2, dtype=np.int64)
    assert role_kernel.occurrences(np.array([1, 3], dtype=np.intp), mark, seen, 2, again) == 0
    assert again.tolist() == [0, 0]


def test_one_by_one_and_batched_calls_share_one_state() -> None:
    batches = wandering(11)
    engine = PresenceEngine(ROLES)
    events = []
    for i, (gateway, ss) in enumerate(batches):
        if i % 3:
            events += engine.observe_batch(VENUE, gateway, ss)
        else:
            events += [e for s in ss for e in engine.observe(VENUE, gateway, s)]
    assert events == one_by_one(ROLES, batches)


def test_a_simulated_evening_gives_the_same_events_batched_as_one_by_one() -> None:
    """The simulator's crowd through the gateways' own windows: what the service really sees."""
    scenario = Scenario(
        name="batch",
        seed=3,
        duration=180,
        radio=RadioSpec(shadowing_db=4.0, fading_db=3.0, loss=0.1),
        crowd=CrowdSpec(
            parties=5, passers_by_per_minute=10, known_passer_share=0.5, waiters_outside=2, staff=1
        ),
    )
    evening = build(scenario)
    roles = {(VENUE, g.name): g.role for g in evening.layout.gateways}
    assert evening.layout.venue == VENUE
    batches = [(gw, wire.decode_batch(payload).sightings) for _, gw, payload in record(evening).batches]
    expected = one_by_one(roles, batches)
    assert sum(e.kind == "arrived" for e in expected) >= 5
    assert batched(PresenceEngine(roles), batches) == expected


def test_forgotten_bands_start_afresh_in_a_reused_row() -> None:
    batches = wandering(5, bands=10, rounds=100)
    engine = PresenceEngine(ROLES)
    batched(engine, batches)
    assert len(engine) == 10
    assert engine.expire(T0 + 1000) == 10
    assert len(engine) == 0
    # Heard again: the same events as an engine that never knew them.
    later = [(g, [msgspec.structs.replace(s, t=s.t + 2000) for s in ss]) for g, ss in batches]
    assert batched(engine, later) == one_by_one(ROLES, later)


def test_every_link_filter_holds_the_same_bits_as_one_by_one() -> None:
    """Stronger than the events: the arrays hold exactly what RssiKalman held, link by link."""
    batches = wandering(2)
    reference = ReferenceRoleRule(ROLES)
    for gateway, ss in batches:
        for s in ss:
            reference.observe(VENUE, gateway, s)
    engine = PresenceEngine(ROLES)
    batched(engine, batches)
    rule = engine._rules[VENUE]
    links = 0
    for (_, band), state in reference._bands.items():
        row = rule.rows[band]
        for gateway, k in state.links.items():
            column = rule.columns[gateway]
            assert rule._links[row, column].tolist() == [k.x, k.rate, k.p00, k.p01, k.p11, k.last_t]
            links += 1
    assert links > 150
