"""`maitre calibrate`: a live walk through the venue's gateways over a real broker, fitted and stored."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from maitre import wire
from maitre.cli import main
from maitre.cli.calibration_walk import (
    CalibrationRefused,
    calibrate,
    load_model,
    save_calibration,
    where_from,
)
from maitre.db import create_schema, make_engine
from maitre.demo.seed import seed_venue
from maitre.floorplan import Waypoint, route
from maitre.mqtt import BrokerAddress, make_client
from maitre.presence.calibration import CalibrationError
from maitre.presence.grid import expected_levels
from maitre.sim.venue import bistro_layout, presence_model

BAND = "band:00c0ffee00c0ffee"
SPEED = 5.0  # m/s: a brisk test walk; the filters lag a little behind it


@pytest.fixture
def venue_db(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'venue.db'}")
    create_schema(engine)
    seed_venue(engine, bistro_layout())
    yield engine
    engine.dispose()


class Walker:
    """Publishes what the bistro's gateways hear of a band walking the route: the plan's level plus noise."""

    def __init__(self, broker: BrokerAddress, noise_db: float) -> None:
        self.model = presence_model(bistro_layout())
        self.noise_db = noise_db
        self.rng = random.Random(4)
        self.place = (-10.0, 0.0)
        self.leg: tuple[float, float, tuple[float, float], tuple[float, float]] | None = None
        self.client = make_client(broker, client_id="test-walk-gateways")
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._publish, daemon=True)
        self._thread.start()

    def arrive(self, stop: Waypoint) -> None:
        """Walk to the stop (the command's prompt, answered when the walker gets there)."""
        now = time.time()
        here = self.where(now)
        seconds = max(0.05, math.dist(here, (stop.x, stop.y)) / SPEED)
        self.leg = (now, now + seconds, here, (stop.x, stop.y))
        time.sleep(seconds)

    def where(self, t: float) -> tuple[float, float]:
        if self.leg is None:
            return self.place
        t0, t1, (x0, y0), (x1, y1) = self.leg
        f = min(1.0, max(0.0, (t - t0) / (t1 - t0)))
        return x0 + f * (x1 - x0), y0 + f * (y1 - y0)

    def _publish(self) -> None:
        seq = 0
        while not self._stop.wait(0.1):
            t = time.time()
            x, y = self.where(t)
            for name in self.model.gateways:
                level = float(expected_levels(self.model, 2.2, name, np.array([x]), np.array([y]))[0])
                rssi = max(-126.0, min(19.0, round(-59 + level + self.rng.gauss(0, self.noise_db), 1)))
                stranger = wire.Sighting(id="band:0000000000000bad", rssi=-70.0, rssi_max=-70.0, n=1, t=t)
                mine = wire.Sighting(id=BAND, rssi=rssi, rssi_max=rssi, n=3, t=t, tx=-59)
                batch = wire.SightingBatch(
                    v=1, venue="bistro", gateway=name, boot="walk", seq=seq, sent=t, window=0.1,
                    sightings=[mine, stranger],
                )  # fmt: skip
                self.client.publish(wire.sightings_topic("bistro", name), wire.encode(batch), qos=1)
            seq += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.client.disconnect()
        self.client.loop_stop()


def test_a_live_walk_is_heard_by_every_gateway_and_measures_the_noise(
    broker: BrokerAddress, venue_db: Engine
) -> None:
    walker = Walker(broker, noise_db=4.0)
    said: list[str] = []
    try:
        result = calibrate(
            venue_db, broker, "bistro", BAND, stand_s=1.0, arrive=walker.arrive, say=said.append
        )
    finally:
        walker.close()
    assert result.gateways == 5 and result.samples >= 200
    # 4 dB of independent noise per 0.1 s sighting, smoothed by the link filters: a few dB, no bias.
    assert 1.0 < result.spread_db < 6.0, result
    assert abs(result.bias_db) < 1.5, result
    assert any("stand still for 1 s" in line for line in said)
    assert set(result.gains) == {"door", "door-b", "street", "street-b", "dining"}
    assert all(abs(g) < 2.0 for g in result.gains.values()), result  # the walker's gateways carry none
    save_calibration(venue_db, "bistro", result)
    stored = load_model(venue_db, "bistro")
    assert stored.sigma_db == result.sigma_db and stored.gains == result.gains


def test_a_band_nobody_hears_is_a_clear_failure(broker: BrokerAddress, venue_db: Engine) -> None:
    with pytest.raises(CalibrationError, match="no gateway of bistro heard band:0000000000000042"):
        calibrate(venue_db, broker, "bistro", "band:0000000000000042", stand_s=0.0, arrive=lambda stop: None)


def test_a_venue_without_a_plan_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bare.db'}")
    create_schema(engine)
    seed_venue(engine, bistro_layout(), plan=False)
    with pytest.raises(CalibrationRefused, match="has no layout"):
        load_model(engine, "bistro")
    with pytest.raises(CalibrationRefused, match="no venue 'elsewhere'"):
        load_model(engine, "elsewhere")


def test_the_command_says_what_is_missing(
    tmp_path: Path, broker: BrokerAddress, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    create_schema(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
    monkeypatch.setenv("MAITRE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("MAITRE_MQTT_URL", f"mqtt://{broker.host}:{broker.port}")
    assert main(["calibrate", "--venue", "bistro", "--band", BAND]) == 2
    assert "no venue 'bistro'" in capsys.readouterr().err
    assert main(["calibrate", "--venue", "bistro", "--band", BAND, "--stand-seconds", "0"]) == 2
    assert "--stand-seconds" in capsys.readouterr().err


def test_the_route_goes_out_in_and_out_again_across_the_door() -> None:
    model = presence_model(bistro_layout())
    stops = route(model)
    door_y = model.door[1]
    sides = [y > door_y for y in (s.y for s in stops)]
    assert sides[0] is False and sides[-1] is False and any(sides)
    assert sum(s.stand_s > 0 for s in stops) == 5
    # Between marks the walker is where a straight walk at an even pace puts them.
    where = where_from([(0.0, 0.0, 0.0), (2.0, 2.0, 0.0), (3.0, 2.0, 0.0)])
    assert where(1.0) == (1.0, 0.0) and where(2.5) == (2.0, 0.0)
    assert where(-1.0) is None and where(3.5) is None
    assert math.isclose(route(model, 5.0)[2].stand_s, 5.0)
