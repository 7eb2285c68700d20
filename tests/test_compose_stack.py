"""The compose stack started as compose would (tests/compose_processes.py), attacked from a gateway.

Every service's health check must pass, a guest walking past a simulated gateway (logged in with
its own credentials, over TLS) must be greeted, and while one gateway's login attacks the broker
the next guest must still be greeted.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from maitre import wire
from maitre.db import make_engine
from maitre.mqtt import BrokerAddress, make_client
from tests.compose_processes import (
    BIN,
    ComposeStack,
    compose_credentials_command,
    os_environ_without_settings,
    read_env_file,
)
from tests.conftest import MOSQUITTO, PG_URL, _private_schema_url, missing

ROOT = Path(__file__).resolve().parent.parent
SERVICE_CLIENT_ID = "maitre-venue-service"  # MAITRE_MQTT_CLIENT_ID's default; compose keeps it
# The demo crowd: a guest reaches the door 15 s after the gateways start, then one every 12 s.
NEXT_GUEST_SECONDS = 40.0
STARTUP_BUDGET_SECONDS = 60.0
# One stack at a time on this machine: test workers (and other checkouts' runs) take turns.
STACK_LOCK = Path(tempfile.gettempdir()) / "maitre-compose-stack.lock"
# Waiting a turn, starting the stack and a guest's walk in, within the test's time limit.
pytestmark = pytest.mark.timeout(400)


@pytest.fixture(scope="module")
def stack() -> Iterator[ComposeStack]:
    """docker-compose.yml's services as local processes, up and healthy (one stack at a time)."""
    with STACK_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield from _stack()


def _stack() -> Iterator[ComposeStack]:
    if MOSQUITTO is None or shutil.which("mosquitto_sub") is None:
        missing("mosquitto and mosquitto_sub (mosquitto-clients) are needed to run the compose stack")
    if shutil.which("pg_isready") is None:
        missing("pg_isready (postgresql-client) is needed for the postgres service's health check")
    if not PG_URL:
        missing("MAITRE_TEST_DATABASE_URL is not set: the compose stack needs PostgreSQL")
    schema = f"maitre_stack_{os.getpid()}"
    database_url = _private_schema_url(str(PG_URL), schema)
    # World-traversable, as a container's root is: Mosquitto, started as root, drops to its own user.
    workdir = Path(tempfile.mkdtemp(prefix="maitre-stack-"))
    workdir.chmod(0o755)
    env = {
        "MAITRE_BROKER_DIR": str(workdir / "broker"),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
        "MAITRE_SECRET_KEY": secrets.token_urlsafe(32),
        "MAITRE_DEMO_VENUE": "bistro",
    }
    compose = ComposeStack(workdir, env, database_url)
    try:
        command = compose_credentials_command()  # as the compose file's header tells the operator
        written = subprocess.run(
            [str(BIN / command[0]), *command[1:]],
            cwd=workdir,
            env=os_environ_without_settings(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert written.returncode == 0, written.stderr
        compose.up()
        yield compose
    finally:
        compose.down()
        engine = make_engine(str(PG_URL))
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


# -- talking to the stack ---------------------------------------------------------------------------


def api(stack: ComposeStack) -> httpx.Client:
    token = subprocess.run(
        [str(BIN / "maitre"), "token", "--venue", "bistro", "--role", "manager", "--hours", "1"],
        env={**os_environ_without_settings(), "MAITRE_SECRET_KEY": stack.env["MAITRE_SECRET_KEY"]},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return httpx.Client(
        base_url=f"http://127.0.0.1:{stack.port('maitre', 8000)}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


def greetings(client: httpx.Client) -> list[str]:
    r = client.get("/api/venues/bistro/alerts", params={"since": 0})
    r.raise_for_status()
    return [a["payload"]["name"] for a in r.json() if a["kind"] == "greet"]


def next_greeting(client: httpx.Client, seen: int, timeout: float = NEXT_GUEST_SECONDS) -> list[str]:
    """Every greeting so far, once there are more than `seen`; fails if none comes in `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        names = greetings(client)
        if len(names) > seen:
            return names
        time.sleep(0.2)
    raise AssertionError(f"no guest greeted in {timeout} s; ingest: {client.get('/api/ingest/stats').json()}")


def login(stack: ComposeStack, env_file: str) -> BrokerAddress:
    """A client's own broker login, as its env file gives it, reaching the stack's broker here."""
    url = read_env_file(Path(stack.env["MAITRE_BROKER_DIR"]) / env_file)["MAITRE_MQTT_URL"]
    address = BrokerAddress.parse(stack.translate("maitre", url))
    return BrokerAddress(
        address.host,
        address.port,
        address.tls,
        address.username,
        address.password,
        ca_file=str(Path(stack.env["MAITRE_BROKER_DIR"]) / "ca.crt"),
    )


class Client:
    """A connected MQTT client recording what it receives and how the broker answered."""

    def __init__(self, address: BrokerAddress, client_id: str, port: int | None = None) -> None:
        self.answer: Any = None
        self.answered = threading.Event()
        self.disconnected = threading.Event()
        self.received: list[tuple[str, bytes]] = []
        self.client = make_client(address, client_id=client_id)
        self.client.reconnect_delay_set(60, 60)  # an attacker connection, not a resilient one
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.disconnected.set()
        self.client.on_message = lambda c, u, m: self.received.append((m.topic, m.payload))
        self.client.connect(address.host, port or address.port, keepalive=30)
        self.client.loop_start()

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.answer = reason
        self.answered.set()

    def connected(self) -> bool:
        assert self.answered.wait(5), "no CONNACK"
        return not self.answer.is_failure

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, 1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# -- the stack --------------------------------------------------------------------------------------


def test_compose_stack_starts_healthy_and_a_gateway_with_its_own_login_gets_a_guest_greeted(
    stack: ComposeStack,
) -> None:
    with api(stack) as client:
        names = next_greeting(client, 0)
        stats = client.get("/api/ingest/stats").json()

    assert names[0] == "Sarah"  # the first seeded guest through the door
    assert stats["batches_by_gateway"].keys() == {"bistro/door", "bistro/street"}
    log = stack.logs["mosquitto"].read_text()
    # Each gateway logged in as itself, and its user name became its client id.
    for gateway in ("door", "street"):
        assert f"as gw.bistro.{gateway} (" in log and f"u'gw.bistro.{gateway}'" in log
    assert f"as {SERVICE_CLIENT_ID} (" in log and "u'maitre-service'" in log
    assert stack.startup_seconds < STARTUP_BUDGET_SECONDS


# -- attacks from one gateway's login, with guests walking in meanwhile -------------------------------


def test_a_gateway_cannot_read_another_gateways_topics_nor_poison_its_sequence(stack: ComposeStack) -> None:
    street, service = login(stack, "gateway-street.env"), login(stack, "service.env")
    # What a worst-case attacker knows: the door's boot id and last sequence number, seen here by
    # a client holding the service's own login (which may read them).
    oracle = Client(service, "test-oracle")
    oracle.subscribe(wire.status_topic("bistro", "door"))
    oracle.subscribe(wire.sightings_topic("bistro", "door"))
    attacker = Client(street, "anything")
    assert oracle.connected() and attacker.connected()
    for topic in ("maitre/#", wire.status_topic("bistro", "door"), wire.sightings_topic("bistro", "door")):
        attacker.subscribe(topic)
    deadline = time.monotonic() + 10
    while not any(t.endswith("/sightings") for t, _ in oracle.received) and time.monotonic() < deadline:
        time.sleep(0.05)
    last = max(
        (wire.decode_batch(p) for t, p in oracle.received if t.endswith("/sightings")), key=lambda b: b.seq
    )
    with api(stack) as client:
        seen = len(greetings(client))
        before = client.get("/api/ingest/stats").json()["dropped_messages"]
        for seq in range(last.seq + 1, last.seq + 41):  # the door's next 40 batches, empty
            forged = wire.SightingBatch(
                v=1,
                venue="bistro",
                gateway="door",
                boot=last.boot,
                seq=seq,
                sent=time.time(),
                window=0.5,
                sightings=[],
            )
            attacker.client.publish(wire.sightings_topic("bistro", "door"), wire.encode(forged), qos=1)
        names = next_greeting(client, seen)  # a guest walks in through the door meanwhile
        after = client.get("/api/ingest/stats").json()["dropped_messages"]
    attacker.close()
    oracle.close()

    assert len(names) > seen
    assert after.get("duplicate_batch", 0) == before.get("duplicate_batch", 0)  # 0 batches lost
    assert attacker.received == []  # not the door's status (its boot id), sightings, nor anything
    assert not [
        p for t, p in oracle.received if t.endswith("/sightings") and not wire.decode_batch(p).sightings
    ]


def test_no_other_login_can_take_the_services_client_id(stack: ComposeStack) -> None:
    street = login(stack, "gateway-street.env")
    service_port = stack.port("mosquitto", 8884)
    log_before = len(stack.logs["mosquitto"].read_text())
    ready: list[str] = []
    refused_on_service_listener = 0
    with api(stack) as client:
        seen = len(greetings(client))
        for _ in range(10):  # a takeover attempt every 0.5 s, on each listener
            for port in (None, service_port):
                attempt = Client(street, SERVICE_CLIENT_ID, port=port)
                if port is not None and not attempt.connected():
                    refused_on_service_listener += 1
                attempt.answered.wait(5)
                attempt.close()
            time.sleep(0.5)
            ready.append(client.get("/readyz").json().get("mqtt", "absent"))
        names = next_greeting(client, seen)

    log = stack.logs["mosquitto"].read_text()[log_before:]
    assert ready == ["ok"] * 10  # the service stayed connected in every sample
    assert refused_on_service_listener == 10  # a gateway's password does not open the service's listener
    assert f"Client {SERVICE_CLIENT_ID} already connected" not in log  # 0 takeovers of its session
    assert len(names) > seen


def test_broker_refuses_oversized_payloads(stack: ComposeStack) -> None:
    street, service = login(stack, "gateway-street.env"), login(stack, "service.env")
    oracle = Client(service, "test-oracle-size")
    oracle.subscribe(wire.sightings_topic("bistro", "street"))
    assert oracle.connected()
    with api(stack) as client:
        seen = len(greetings(client))
        before = client.get("/api/ingest/stats").json()["dropped_messages"].get("oversized", 0)
        refused = 0
        for size in (1024 * 1024, 10 * 1024 * 1024):  # on the attacker's own topic, which it may write
            attacker = Client(street, "anything")
            assert attacker.connected()
            attacker.client.publish(wire.sightings_topic("bistro", "street"), b"x" * size, qos=0)
            refused += attacker.disconnected.wait(10)  # Mosquitto closes the connection that sent it
            attacker.close()
        names = next_greeting(client, seen)
        after = client.get("/api/ingest/stats").json()["dropped_messages"].get("oversized", 0)
    oracle.close()

    assert refused == 2
    assert max((len(p) for _, p in oracle.received), default=0) <= wire.MAX_PAYLOAD_BYTES
    assert after == before  # none reached the service to be counted
    assert len(names) > seen
