"""Two `maitre serve` processes, one venue: the owner is killed, the standby takes the venue over.

Real parts only: a private Mosquitto, PostgreSQL (venue claims are advisory locks there) and the
service as its own process, killed with SIGKILL mid-evening. Every guest is greeted, none twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from maitre.db import make_engine, session_scope
from maitre.models import Reservation
from tests.conftest import MosquittoProcess, drop_schema
from tests.test_faults import Door, ServeProcess, background_load, greets, seed

pytestmark = pytest.mark.postgres

GUESTS = 6


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    eng = make_engine(pg_url)
    drop_schema(eng)
    try:
        yield eng
    finally:
        drop_schema(eng)
        eng.dispose()


def wait_for(predicate: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_standby_takes_over_a_killed_owners_venue_and_no_guest_is_lost_or_greeted_twice(
    pg_engine: Engine, pg_url: str, mosquitto: MosquittoProcess
) -> None:
    booked = seed(pg_engine, GUESTS)
    # One MQTT client id base for both: the venue's session (…-bistro) is shared, not the instance's.
    common = {"MAITRE_MQTT_CLIENT_ID": "maitre-ha-test", "MAITRE_CLAIM_POLL_SECONDS": "0.5"}
    owner = ServeProcess(pg_url, mosquitto.address, MAITRE_VENUES=json.dumps(["bistro"]), **common)
    standby = ServeProcess(pg_url, mosquitto.address, MAITRE_STANDBY_VENUES=json.dumps(["bistro"]), **common)
    door = Door(mosquitto.address)
    owner.start()
    standby.start()
    try:
        assert owner.readiness()["venues"] == {"bistro": "serving"}
        assert standby.readiness()["venues"] == {"bistro": "standby"}
        with background_load(door, 120):
            killed = False
            for i, (band, _) in enumerate(booked):
                for _ in range(8):  # two seconds at the host stand
                    door.send("door", [(band, -45.0)])
                    time.sleep(0.25)
                if not killed and i >= 1 and len(greets(pg_engine)) >= 2:
                    owner.kill()  # batches in flight: received, some not yet acknowledged
                    killed = True
            assert killed, "the owner was never killed"
            wait_for(lambda: len(greets(pg_engine)) >= GUESTS, "every guest greeted", 60)
            time.sleep(1.0)  # room for a duplicate to appear
        assert greets(pg_engine) == sorted(rid for _, rid in booked)  # everyone, once each
        with session_scope(pg_engine) as session:
            assert {r.status for r in session.exec(select(Reservation))} == {"arrived"}
        assert standby.readiness()["venues"] == {"bistro": "serving"}

        # The owner comes back: it is not refused as a second owner, it waits for the venue.
        owner.start()
        assert owner.readiness() == {
            "status": "ready",
            "database": "ok",
            "mqtt": "ok",
            "venues": {"bistro": "standby"},
        }
        assert standby.readiness()["venues"] == {"bistro": "serving"}
    finally:
        door.close()
        owner.stop()
        standby.stop()


def test_an_instance_serving_every_venue_refuses_to_start_beside_another(
    pg_engine: Engine, pg_url: str, mosquitto: MosquittoProcess
) -> None:
    seed(pg_engine, 1)
    first = ServeProcess(pg_url, mosquitto.address, MAITRE_MQTT_CLIENT_ID="maitre-solo-test")
    second = ServeProcess(pg_url, mosquitto.address, MAITRE_MQTT_CLIENT_ID="maitre-solo-test")
    first.start()
    try:
        with pytest.raises(AssertionError, match="maitre serve exited"):
            second.start()
        assert second.proc is not None and second.proc.returncode == 1
        assert "MAITRE_MQTT_CLIENT_ID 'maitre-solo-test' is in use by another running instance" in (
            second.stderr()
        )
    finally:
        first.stop()
        second.stop()
