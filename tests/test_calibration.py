"""A venue's calibration walk measures how far its signals stray from the plan, and the engine uses it."""

from __future__ import annotations

import msgspec
import pytest

from maitre.evaluation.runner import calibrate
from maitre.hospitality.directory import venue_model
from maitre.presence import PresenceEngine
from maitre.presence.calibration import MAX_SIGMA_DB, MIN_SAMPLES, CalibrationError, fit
from maitre.sim.band import BandFirmware
from maitre.sim.calibration import walker
from maitre.sim.scenario import RadioSpec, load_scenario
from maitre.sim.venue import bistro_layout, presence_model
from maitre.wire import Sighting


def test_more_shadowing_calibrates_to_a_wider_sigma() -> None:
    quiet = msgspec.structs.replace(load_scenario("medium"), radio=RadioSpec(shadowing_db=2.0))
    rough = msgspec.structs.replace(load_scenario("medium"), radio=RadioSpec(shadowing_db=8.0))
    a, b = calibrate(quiet), calibrate(rough)
    assert a.samples >= MIN_SAMPLES and b.samples >= MIN_SAMPLES
    assert a.gateways == b.gateways == 5  # the walk passes every gateway of the bistro
    # The walk sees the radio it walks through: near the simulator's shadowing, not the default 8.
    assert 1.5 < a.spread_db < 4.0
    assert 6.5 < b.spread_db < 9.5
    assert a.sigma_db < b.sigma_db


def test_the_walk_is_another_draw_than_the_evening_and_repeatable() -> None:
    scenario = load_scenario("crowded-door")
    assert calibrate(scenario) == calibrate(scenario)  # deterministic from the scenario's seed
    other = calibrate(msgspec.structs.replace(scenario, seed=scenario.seed + 1))
    assert other != calibrate(scenario)


def test_too_short_a_walk_is_refused_with_the_reason() -> None:
    layout = bistro_layout()
    model = presence_model(layout)
    few = [
        ("door", Sighting(id="band:0000000000000001", rssi=-60.0, rssi_max=-58.0, n=3, t=float(t)))
        for t in range(20)
    ]
    with pytest.raises(CalibrationError, match="at least"):
        fit(model, lambda t: layout.host_stand, few)


def test_gateways_the_plan_does_not_know_are_not_counted() -> None:
    layout = bistro_layout()
    model = presence_model(layout)
    stray = [
        ("cellar", Sighting(id="band:0000000000000001", rssi=-60.0, rssi_max=-58.0, n=3, t=t * 0.5))
        for t in range(2 * MIN_SAMPLES)
    ]
    with pytest.raises(CalibrationError):
        fit(model, lambda t: (0.0, 3.0), stray)


def test_the_walk_measures_each_gateways_gain_and_the_spread_around_it() -> None:
    gains = {"door": 5.0, "street": -4.0, "dining": 3.0}
    scenario = msgspec.structs.replace(
        load_scenario("medium"), radio=RadioSpec(shadowing_db=3.0, gain_db=gains)
    )
    plain = calibrate(msgspec.structs.replace(scenario, radio=RadioSpec(shadowing_db=3.0)))
    walked = calibrate(scenario)
    for gateway, gain in gains.items():
        assert walked.gains[gateway] == pytest.approx(gain + plain.gains[gateway], abs=1.5)
    # Gains taken out, the spread is what the radio strays by, not the installers' differences.
    assert walked.spread_db < plain.spread_db + 1.0


def test_a_wildly_wrong_plan_is_capped_not_believed() -> None:
    layout = bistro_layout()
    model = presence_model(layout)
    # Every level 40 dB below what the plan predicts at the walker's place: the plan is wrong.
    sightings = [
        (g.name, Sighting(id="band:0000000000000001", rssi=-140.0 + 40, rssi_max=-99.0, n=3, t=k * 0.5))
        for k in range(400)
        for g in layout.gateways
    ]
    calibration = fit(model, lambda t: layout.host_stand, sightings)
    assert calibration.sigma_db == MAX_SIGMA_DB
    assert calibration.bias_db < -20


def test_the_walk_route_goes_in_at_the_door_and_out_again() -> None:
    layout = bistro_layout()
    route = walker(layout, BandFirmware(b"\x01" * 8))
    ys = [y for _, _, y in route.path]
    assert route.door_crossing is not None and route.door_crossing > 0
    assert min(ys) < layout.door[1] < max(ys)  # outside, inside, and outside again
    assert ys[-1] < layout.door[1]
    assert (layout.host_stand[0], layout.host_stand[1]) in [(x, y) for _, x, y in route.path]  # type: ignore[index]


def test_the_engine_weighs_a_calibrated_venue_with_its_own_sigma() -> None:
    model = presence_model(bistro_layout())
    calibrated = msgspec.structs.replace(model, sigma_db=6.5)
    engine = PresenceEngine({}, models={"bistro": model, "cafe": calibrated})
    assert engine._grid("bistro").sigma == engine.config.model_sigma_db
    assert engine._grid("cafe").sigma == 6.5


def test_a_stored_layout_carries_the_calibrated_sigma_to_the_engine() -> None:
    stored = {"inside": [[-3, 2, 3, 20]], "door": [0, 2], "sigma_db": 7.2}
    assert venue_model(stored, {"door": (0.0, 3.5)}).sigma_db == 7.2
    assert venue_model({"inside": [[-3, 2, 3, 20]], "door": [0, 2]}, {}).sigma_db is None
