"""The venue family: drawn venues are reproducible, varied, split once, and heard through two radio models."""

from __future__ import annotations

import statistics

import msgspec
import pytest

from maitre.cli import main
from maitre.evaluation.runner import record, registered
from maitre.floorplan import inward
from maitre.sim.crowd import arriving_guest
from maitre.sim.family import KINDS, SPLITS, family, split_seeds, venue
from maitre.sim.radio import Link, RadioModel, SpatialLink
from maitre.sim.scenario import build
from maitre.sim.venue import presence_model


def test_a_seed_always_draws_the_same_venue() -> None:
    assert venue(7) == venue(7)
    assert venue(7).layout != venue(8).layout


def test_the_tuning_and_test_splits_never_share_a_venue() -> None:
    tune, test = set(split_seeds("tune", 999)), set(split_seeds("test", 999))
    assert not tune & test
    assert min(test) == SPLITS["test"]
    with pytest.raises(ValueError, match="no split"):
        split_seeds("train", 3)


def test_a_split_takes_every_kind_of_venue_in_turn() -> None:
    drawn = list(family("tune", len(KINDS)))
    assert [v.kind for v in drawn] == list(KINDS)
    assert len({len(v.layout.gateways) for v in family("tune", 24)}) >= 3  # 2 to 6 gateways


def test_every_drawn_plan_tells_the_service_which_way_is_in() -> None:
    for v in family("tune", 24):
        assert inward(presence_model(v.layout)) == (0.0, 1.0), v.label


def test_the_radio_model_can_be_fixed_without_changing_the_venue_or_its_crowd() -> None:
    drawn = venue(11, "street")
    spatial = venue(11, "street", "spatial")
    assert spatial.scenario.radio.kind == "spatial"
    assert spatial.layout == drawn.layout
    assert spatial.scenario.crowd == drawn.scenario.crowd


def test_a_vestibule_guest_walks_through_the_inner_door() -> None:
    v = venue(3, "vestibule")
    assert v.layout.entry, "a vestibule has an inner door to walk through"
    guest = arriving_guest("g", build(v.scenario, layout=v.layout).people[0].band, v.layout, 0.0)
    ex, ey = v.layout.entry[-1]
    assert any(abs(x - ex) < 0.01 and abs(y - ey) < 0.01 for _, x, y in guest.path)


def test_the_spatial_radio_is_a_different_process_with_the_asked_spread() -> None:
    import random

    model = RadioModel(shadowing_db=6.0, fading_db=0.0, loss=0.0, kind="spatial")
    rng = random.Random(5)
    # Shadowing is a field over the floor: the same place gives the same shadow at any time.
    link = SpatialLink(rng, model)
    here = [link.rssi_at(model, -59, 3.0, 1.0, 2.0, random.Random(k)) for k in range(5)]
    assert len(set(here)) == 1
    # Across many links and places its spread is about shadowing_db.
    levels = [
        SpatialLink(rng, model).rssi_at(model, 0.0, 1.0, rng.uniform(-5, 5), rng.uniform(-5, 5), rng)
        for _ in range(3000)
    ]
    assert 5.0 < statistics.pstdev([v for v in levels if v is not None]) < 7.0
    # The first form's shadowing is a process in time: the same place later gives another level.
    markov = Link(random.Random(5), RadioModel(shadowing_db=6.0, fading_db=0.0, loss=0.0))
    first = markov.rssi(model, -59, 3.0, 0.0, random.Random(1))
    later = markov.rssi(model, -59, 3.0, 60.0, random.Random(1))
    assert first != later


def test_booked_people_waiting_outside_are_known_to_the_service() -> None:
    v = venue(21, "street")
    evening = build(v.scenario, layout=v.layout)
    waiting = [p for p in evening.people if p.kind == "waiter" and p.party is not None]
    assert waiting, "the family books some of the people who wait outside"
    _, _, reservation_of = registered(evening)
    assert all(reservation_of[p.band.advertiser_id] == p.party for p in waiting)


def test_gateway_gains_and_heights_change_what_is_heard() -> None:
    v = venue(5, "three-gateway")
    quiet = msgspec.structs.replace(
        v.scenario, duration=30.0, radio=msgspec.structs.replace(v.scenario.radio, gain_db={})
    )
    loud = msgspec.structs.replace(
        quiet, radio=msgspec.structs.replace(quiet.radio, gain_db={g.name: 6.0 for g in v.layout.gateways})
    )
    assert v.layout.gateways[-1].height is not None
    heard = [record(build(s, layout=v.layout)).advertisements for s in (quiet, loud)]
    assert heard[1] > heard[0]


def test_eval_family_refuses_scenarios_and_a_bad_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--family", "test", "easy"]) == 2
    assert "no scenarios" in capsys.readouterr().err
    assert main(["eval", "--family", "test", "--count", "0"]) == 2
    assert "count must be" in capsys.readouterr().err
    assert main(["eval"]) == 2


def test_a_corner_venue_keeps_its_room_its_host_stand_and_its_gateways_inside_the_building() -> None:
    for seed in range(4, 200, 6):
        v = venue(seed, "corner")
        left = min(w.x0 for w in v.layout.walls)
        assert v.layout.host_stand is not None and v.layout.host_stand[0] > left
        assert all(z.x0 >= left for z in v.layout.zones if z.kind in ("door", "dining"))
        assert all(g.x > left for g in v.layout.gateways if g.y > 2.0)
        assert v.layout.tables[0] > left


def test_pooled_scores_add_every_count_and_keep_every_latency() -> None:
    from maitre.evaluation.family import pooled
    from maitre.evaluation.runner import Score

    a = Score(engine="maitre", parties=3, recalled=2, waiters=1, announced=4, latencies=[0.5, 1.0])
    b = Score(engine="maitre", parties=2, recalled=2, waiter_greets=1, announced_ahead=1, latencies=[2.0])
    total = pooled([a, b])
    assert (total.parties, total.recalled, total.waiters, total.waiter_greets) == (5, 4, 1, 1)
    assert (total.announced, total.announced_ahead) == (4, 1)
    assert total.latencies == [0.5, 1.0, 2.0]
