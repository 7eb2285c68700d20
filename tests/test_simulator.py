"""The simulator: bands advertise on time, walls and distance cost signal, ground truth is kept."""

from __future__ import annotations

import numpy as np

from maitre.gateway.advertisement import Advertisement
from maitre.gateway.beacons import decode
from maitre.sim.air import Air
from maitre.sim.band import BandFirmware, Rotation
from maitre.sim.bulk import BulkAir
from maitre.sim.crowd import PathBuilder, Person, crossing_time
from maitre.sim.radio import RadioModel
from maitre.sim.scenario import Scenario, build, load_scenario
from maitre.sim.venue import bistro_facade_layout, bistro_layout

QUIET = RadioModel(shadowing_db=0.0, fading_db=0.0, loss=0.0, body_loss_db=0.0)


def standing(name: str, x: float, y: float, seconds: float = 10.0) -> Person:
    return Person(name, "staff", BandFirmware(b"\x01" * 8), PathBuilder(0.0, x, y).wait(seconds).points)


def test_band_advertises_about_ten_times_a_second_with_adv_delay() -> None:
    air = Air(bistro_layout(), QUIET, seed=1, epoch=0.0)
    air.add(standing("a", 0.0, 3.0))
    heard: list[float] = []
    air.listen("door", lambda adv: heard.append(adv.t))
    air.advance(10.0)
    gaps = np.diff(heard)
    assert 90 <= len(heard) <= 101
    assert gaps.min() >= 0.100 and gaps.max() <= 0.110  # interval plus 0-10 ms advDelay


def test_the_glazed_front_costs_its_loss() -> None:
    layout = bistro_facade_layout()
    air = Air(layout, QUIET, seed=1, epoch=0.0)
    # Same distance from the door gateway (1.0, 3.2): one inside, one behind the glass.
    air.add(standing("in", 1.0, 4.6))
    air.add(standing("out", 1.0, 1.8))
    levels: dict[str, list[float]] = {"in": [], "out": []}
    air.listen("door", lambda adv: levels[adv.address].append(adv.rssi))
    air.advance(2.0)
    glass = next(w for w in layout.walls if w.y0 == w.y1 == 2.0).loss_db
    assert np.median(levels["in"]) - np.median(levels["out"]) == glass


def test_rotating_band_changes_id_every_window_and_decodes_as_eid() -> None:
    band = BandFirmware(b"\x02" * 8, rotation=Rotation(bytes(16), exponent=4, epoch=0.0))
    ids = {
        decode(Advertisement("x", -60, 0.0, manufacturer_data=band.frame(t)))[0] for t in (1.0, 17.0, 33.0)
    }  # type: ignore[index]
    assert len(ids) == 3 and all(i.startswith("eid:") for i in ids)


def test_door_crossing_is_ground_truth_from_the_path() -> None:
    path = PathBuilder(0.0, 0.0, 0.0).to(0.0, 4.0).points  # 4 m at 1.3 m/s
    assert abs(crossing_time(path, 2.0) - 2.0 / 1.3) < 1e-9  # type: ignore[operator]
    assert crossing_time(PathBuilder(0.0, -5.0, 0.0).to(5.0, 0.0).points, 2.0) is None


def test_same_seed_same_evening() -> None:
    scenario = Scenario(name="t", duration=120, crowd=load_scenario("easy").crowd)
    a, b = build(scenario), build(scenario)
    assert [p.path for p in a.people] == [p.path for p in b.people]
    assert [p.first_crossing for p in a.parties] == [p.first_crossing for p in b.parties]


def test_bulk_air_hears_near_bands_louder_than_far_ones() -> None:
    air = BulkAir(bistro_layout(), 200, radio=QUIET, seed=3)
    got: list[tuple[np.ndarray, np.ndarray]] = []
    air.listen("door", lambda idx, rssi, t: got.append((idx, rssi)))
    positions = air.pos.copy()
    air.step(0.1)
    idx = np.concatenate([g[0] for g in got])
    rssi = np.concatenate([g[1] for g in got])
    d = np.hypot(positions[idx, 0] - 1.0, positions[idx, 1] - 3.2)
    assert len(idx) > 150  # nearly every band fires once per 100 ms tick
    assert np.corrcoef(np.log10(np.maximum(d, 0.1)), rssi)[0, 1] < -0.8
