"""A venue learns its gateways' gains from guests at the host stand, and notices a gateway moved."""

from __future__ import annotations

import random

import numpy as np
import pytest

from maitre.floorplan import VenueModel, WallSpec
from maitre.presence.grid import expected_levels
from maitre.presence.selfcal import DRIFT_DB, MIN_LOOKS, RECENT, SETTLE_S, SPAN_S, GainLearner

EXPONENT = 2.2
MODEL = VenueModel(
    gateways={"door": (0.5, 3.0), "street": (2.0, 1.0), "dining": (0.0, 9.0)},
    walls=[WallSpec(-8, 2, -1, 2, 6.0), WallSpec(1, 2, 8, 2, 6.0)],
    inside=[(-8.0, 2.0, 8.0, 14.0)],
    door=(0.0, 2.0),
    host_stand=(0.0, 4.0),
    heights={"dining": 2.8},
)
TRUE_GAINS = {"door": 4.0, "street": -5.0, "dining": 1.5}


def at_stand(gateway: str) -> float:
    x, y = MODEL.host_stand or (0.0, 0.0)
    return float(expected_levels(MODEL, EXPONENT, gateway, np.array([x]), np.array([y]))[0])


def greet_and_stand(
    learner: GainLearner, band: str, t: float, gains: dict[str, float], rng: random.Random, noise: float = 4.0
) -> float:
    """A band greeted at t, then heard by every gateway at the host stand for the look's span."""
    learner.greeted(band, t)
    k = t
    while k <= t + SETTLE_S + SPAN_S + 0.6:
        for g in MODEL.gateways:
            learner.heard(band, g, k, at_stand(g) + gains[g] + rng.gauss(0.0, noise))
        k += 0.25
    return k


def test_gains_are_learned_from_guests_standing_at_the_host_stand() -> None:
    learner = GainLearner(MODEL, EXPONENT)
    rng = random.Random(7)
    t = 0.0
    for i in range(MIN_LOOKS - 1):
        t = greet_and_stand(learner, f"band-{i}", t, TRUE_GAINS, rng) + 10
    assert all(r.gain_db is None for r in learner.report().values())  # too few looks yet
    assert learner.update() is None
    for i in range(MIN_LOOKS - 1, 30):
        t = greet_and_stand(learner, f"band-{i}", t, TRUE_GAINS, rng) + 10
    report = learner.report()
    for g, gain in TRUE_GAINS.items():
        assert report[g].gain_db == pytest.approx(gain, abs=1.0)
        assert report[g].looks == 30
    gains = learner.update()
    assert gains is not None and gains.keys() == TRUE_GAINS.keys()
    assert learner.update() is None  # nothing moved since: the engine's grid is not rebuilt
    assert learner.drifting() == []


def test_a_gateway_moved_after_learning_is_reported_as_drift_not_learned_over_at_once() -> None:
    learner = GainLearner(MODEL, EXPONENT)
    rng = random.Random(3)
    t = 0.0
    for i in range(2 * RECENT):
        t = greet_and_stand(learner, f"before-{i}", t, TRUE_GAINS, rng, noise=2.0) + 10
    learner.update()
    moved = {**TRUE_GAINS, "door": TRUE_GAINS["door"] - DRIFT_DB - 4.0}  # turned to face the wall
    for i in range(RECENT):
        t = greet_and_stand(learner, f"after-{i}", t, moved, rng, noise=2.0) + 10
    assert learner.drifting() == ["door"]
    # The learned gain is a median over many evenings' looks: it has not swung to the new reading.
    assert learner.report()["door"].gain_db == pytest.approx(TRUE_GAINS["door"], abs=1.5)


def test_looks_that_cannot_be_at_the_host_stand_and_bands_never_heard_again_are_dropped() -> None:
    learner = GainLearner(MODEL, EXPONENT)
    rng = random.Random(1)
    t = 0.0
    far_off = dict.fromkeys(TRUE_GAINS, 30.0)  # 30 dB louder than the stand allows: not there
    for i in range(MIN_LOOKS + 2):
        t = greet_and_stand(learner, f"odd-{i}", t, far_off, rng, noise=0.5) + 10
    assert all(r.looks == 0 for r in learner.report().values())
    learner.greeted("gone", t)  # greeted, then never heard again
    learner.greeted("later", t + 120.0)  # a greeting a while later clears it out
    assert "gone" not in learner._open
    learner.forget("later")  # erasure: nothing of the band is kept
    assert learner._open == {}


def test_a_band_heard_by_an_unknown_gateway_teaches_nothing() -> None:
    learner = GainLearner(MODEL, EXPONENT)
    learner.greeted("b", 0.0)
    learner.heard("b", "not-in-the-plan", 1.0, -40.0)
    learner.heard("b", "not-in-the-plan", 1.5, -40.0)
    assert learner.heard("b", "door", 10.0, -40.0) is False  # the look closes with nothing in it
    assert "not-in-the-plan" not in learner.report()


def test_the_engine_builds_its_grid_from_the_gains_it_learned_and_reports_drift() -> None:
    from maitre.presence import PresenceEngine

    engine = PresenceEngine({("v", g): "door" for g in MODEL.gateways}, models={"v": MODEL})
    rng = random.Random(5)
    t = 0.0

    def stand(band: str, gains: dict[str, float]) -> None:
        nonlocal t
        engine._learner("v").greeted(band, t)
        k = t
        while k <= t + SETTLE_S + SPAN_S + 0.6:
            for g in MODEL.gateways:
                engine._learn("v", band, g, k, at_stand(g) + gains[g] + rng.gauss(0.0, 2.0))
            k += 0.25
        t = k + 10

    assert engine._grid("v").model.gains == {}
    for i in range(2 * RECENT):
        stand(f"b{i}", TRUE_GAINS)
    learned = engine._grid("v").model.gains
    assert learned == pytest.approx(TRUE_GAINS, abs=1.0)
    assert engine.drift_warnings("v") == [] and engine.drift_warnings("elsewhere") == []
    for i in range(RECENT):
        stand(f"moved{i}", {**TRUE_GAINS, "street": TRUE_GAINS["street"] + 10.0})
    (warning,) = engine.drift_warnings("v")
    assert warning.startswith("gateway street reads +") and "moved, turned or blocked" in warning


def test_shifting_a_built_grid_and_door_test_by_new_gains_equals_building_them_again() -> None:
    import msgspec

    from maitre.floorplan import inward
    from maitre.presence.door_test import DoorTest
    from maitre.presence.grid import VenueGrid

    gained = msgspec.structs.replace(MODEL, gains={"door": 3.5, "dining": -2.0})
    grid, door = VenueGrid(MODEL, EXPONENT, 8.0), DoorTest(MODEL, inward(MODEL), EXPONENT, 8.0)
    grid.locate({"door": -20.0})  # a cached term that must not outlive the shift
    grid.shift_gains(gained, {"door": 3.5, "street": 0.0, "dining": -2.0})
    door.shift_gains({"door": 3.5, "street": 0.0, "dining": -2.0})
    fresh_grid, fresh_door = VenueGrid(gained, EXPONENT, 8.0), DoorTest(gained, inward(gained), EXPONENT, 8.0)
    for g in MODEL.gateways:
        np.testing.assert_allclose(grid.expected[g], fresh_grid.expected[g], atol=1e-9)
    assert grid.loglik({"door": -20.0}) == pytest.approx(fresh_grid.loglik({"door": -20.0}))
    for a, b in ((door.mu1, fresh_door.mu1), (door.mu0, fresh_door.mu0), (door.mu_stay, fresh_door.mu_stay)):
        np.testing.assert_allclose(a, b, atol=1e-9)
