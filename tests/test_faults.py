"""Faults under load, with real parts: the service killed outright, the broker restarted.

Every guest who reaches the door must be greeted, and greeted once, whatever dies meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from maitre import wire
from maitre.db import create_schema, make_engine, session_scope
from maitre.models import Alert, Band, Gateway, GatewayRole, Guest, Reservation, Venue, row_id, utcnow
from maitre.mqtt import BrokerAddress, make_client
from tests.conftest import MosquittoProcess, free_port

GUESTS = 6
SECRET = "fault-test-secret-key-0123456789"


def seed(engine: Engine, guests: int) -> list[tuple[str, int]]:
    """The bistro with door and street gateways and `guests` booked guests; (band, reservation id) each."""
    create_schema(engine)
    out = []
    with session_scope(engine) as session:
        venue = Venue(slug="bistro", name="Bistro")
        session.add(venue)
        session.flush()
        session.add(Gateway(name="door", role=GatewayRole.DOOR, venue_id=row_id(venue)))
        session.add(Gateway(name="street", role=GatewayRole.APPROACH, venue_id=row_id(venue), x=4.0))
        for i in range(guests):
            guest = Guest(first_name=f"G{i}", last_name="T", consent_greeting=True, consent_kitchen=True)
            session.add(guest)
            session.flush()
            band = f"band:{i:016x}"
            session.add(Band(advertiser_id=band, guest_id=row_id(guest)))
            booking = Reservation(
                venue_id=row_id(venue),
                guest_id=row_id(guest),
                party_size=2,
                at=utcnow() + timedelta(minutes=5),
            )
            session.add(booking)
            session.flush()
            out.append((band, row_id(booking)))
    return out


def greets(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        rows = session.exec(select(Alert.reservation_id).where(Alert.kind == "greet"))
        return sorted(r for r in rows if r is not None)


class ServeProcess:
    """`maitre serve` as its own process, killed and started again on the same session and port."""

    def __init__(self, db: str, broker: BrokerAddress, **env: str) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "MAITRE_DATABASE_URL": db,
            "MAITRE_MQTT_URL": f"mqtt://{broker.host}:{broker.port}",
            "MAITRE_HTTP_PORT": str(self.port),
            "MAITRE_SECRET_KEY": SECRET,
            # The same client id on every start: the broker keeps the session while the service is dead.
            "MAITRE_MQTT_CLIENT_ID": f"fault-test-{os.getpid()}-{self.port}",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # what it says on stderr, every start

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "maitre.cli", "serve"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + 60
        while not self._ready():
            assert self.proc.poll() is None, "maitre serve exited"
            assert time.monotonic() < deadline, "maitre serve was not ready in 60 s"
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def _ready(self) -> bool:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1) as r:
                return r.status == 200
        return False

    def readiness(self) -> dict[str, object]:
        """What /readyz says (ready or not)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=5) as r:
                body = r.read()
        except urllib.error.HTTPError as exc:
            body = exc.read()
        result: dict[str, object] = json.loads(body)
        return result


class Door:
    """Gateways publishing at QoS 1 from a thread: background sightings, and guests walking in."""

    def __init__(self, broker: BrokerAddress) -> None:
        self.client = make_client(broker, client_id=f"fault-door-{time.monotonic_ns()}")
        self.client.max_inflight_messages_set(1000)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.seq = {"door": 0, "street": 0}
        self.boot = f"fault-{time.monotonic_ns()}"  # each Door is a gateway boot of its own
        self.lock = threading.Lock()

    def send(self, gateway: str, sightings: list[tuple[str, float]]) -> None:
        now = time.time()
        with self.lock:
            seq = self.seq[gateway]
            self.seq[gateway] += 1
        body = wire.SightingBatch(
            v=1,
            venue="bistro",
            gateway=gateway,
            boot=self.boot,
            seq=seq,
            sent=now,
            window=0.25,
            sightings=[wire.Sighting(id=b, rssi=r, rssi_max=r, n=3, t=now, tx=-59) for b, r in sightings],
        )
        self.client.publish(wire.sightings_topic("bistro", gateway), wire.encode(body), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextlib.contextmanager
def background_load(door: Door, seconds: float) -> Iterator[None]:
    """Passers-by, heard faintly by both gateways, 40 batches a second, for as long as the test runs."""
    stop = threading.Event()
    crowd = [(f"band:{0xFF00 + i:016x}", -88.0) for i in range(200)]

    def run() -> None:
        deadline = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < deadline:
            door.send("street", crowd)
            door.send("door", crowd)
            time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def test_service_killed_under_load_loses_no_arrival_and_greets_none_twice(
    tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    db = f"sqlite:///{tmp_path / 'maitre.db'}"
    engine = make_engine(db)
    booked = seed(engine, GUESTS)
    service = ServeProcess(db, mosquitto.address)
    door = Door(mosquitto.address)
    service.start()
    try:
        with background_load(door, 120):
            killed = False
            for i, (band, _) in enumerate(booked):
                # Each guest stands at the host stand for two seconds, as guests do while greeted.
                for _ in range(8):
                    door.send("door", [(band, -45.0)])
                    time.sleep(0.25)
                if not killed and len(greets(engine)) >= 2 and i >= 2:
                    service.kill()  # mid-stream: batches in flight, some received and not yet acknowledged
                    killed = True
                    service.start()  # the next guest walks in while it starts
            assert killed, "the service was never killed"
            deadline = time.monotonic() + 60
            while len(greets(engine)) < GUESTS and time.monotonic() < deadline:
                time.sleep(0.2)
        assert greets(engine) == sorted(rid for _, rid in booked)  # everyone, once each
        with session_scope(engine) as session:
            statuses = {r.status for r in session.exec(select(Reservation))}
        assert statuses == {"arrived"}
    finally:
        door.close()
        service.stop()
        engine.dispose()


def test_broker_restart_loses_no_greeting(tmp_path: Path, mosquitto: MosquittoProcess) -> None:
    db = f"sqlite:///{tmp_path / 'maitre.db'}"
    engine = make_engine(db)
    booked = seed(engine, 2)
    service = ServeProcess(db, mosquitto.address)
    service.start()
    try:
        for n, (band, _) in enumerate(booked):
            if n == 1:
                mosquitto.stop()
                deadline = time.monotonic() + 30
                while service._ready():  # until the service has noticed
                    assert time.monotonic() < deadline, "the service did not notice the broker go"
                    time.sleep(0.05)
                mosquitto.start()  # a new broker, sessions lost: the service must subscribe again
                while not service._ready():
                    assert time.monotonic() < deadline, "the service did not reconnect"
                    time.sleep(0.1)
            door = Door(mosquitto.address)
            try:
                for _ in range(8):
                    door.send("door", [(band, -45.0)])
                    time.sleep(0.25)
            finally:
                door.close()
            deadline = time.monotonic() + 20
            while len(greets(engine)) < n + 1 and time.monotonic() < deadline:
                time.sleep(0.1)
        assert greets(engine) == sorted(rid for _, rid in booked)
    finally:
        service.stop()
        engine.dispose()


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("MAITRE_")]:
        monkeypatch.delenv(key)
