"""Real parts for the tests: a private Mosquitto per test, SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from maitre.api.app import create_app
from maitre.api.hardening import server_options
from maitre.api.screen_socket import PER_MESSAGE_DEFLATE, ScreenSocketProtocol
from maitre.config import Settings
from maitre.db import create_schema, make_engine
from maitre.mqtt import BrokerAddress, make_client
from maitre.runtime.service import VenueService
from maitre.security.tokens import StaffRole, TokenSigner

IN_CI = os.environ.get("CI") == "true"
MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)
PG_URL = os.environ.get("MAITRE_TEST_DATABASE_URL")
# Debian's Chromium; Playwright drives it instead of a browser it would download.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


# What makes a test end-to-end: it starts a broker, the service, a browser or another process.
# Tests are marked `e2e` by what they (or the fixtures they use) do, so `-m "not e2e"` is the
# fast lane without anyone having to remember a marker.
E2E_FIXTURES = {"broker", "mosquitto", "browser"}
E2E_CALLS = ("live_service(", "subprocess.", "MqttRecorder(", "start_embedded_broker(", "sys.executable")


def _starts_something(obj: object) -> bool:
    try:
        source = inspect.getsource(obj)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return False
    return any(call in source for call in E2E_CALLS)


def _starters(module: object) -> set[str]:
    """The module's own helper functions that start something (a `serve()` wrapping subprocess.run)."""
    return {
        name
        for name, obj in vars(module).items()
        if inspect.isfunction(obj)
        and obj.__module__ == getattr(module, "__name__", None)
        and not name.startswith("test_")
        and _starts_something(obj)
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    starters: dict[str, set[str]] = {}
    for item in items:
        if item.get_closest_marker("e2e") or not isinstance(item, pytest.Function):
            continue
        names = set(item.fixturenames)
        definitions = item._fixtureinfo.name2fixturedefs
        module = item.module
        helpers = starters.setdefault(module.__name__, _starters(module))
        try:
            source = inspect.getsource(item.function)
        except (OSError, TypeError):
            source = ""
        if (
            names & E2E_FIXTURES
            or _starts_something(item.function)
            or any(f"{helper}(" in source for helper in helpers)
            or any(_starts_something(d.func) for name in names for d in definitions.get(name, ()))
        ):
            item.add_marker(pytest.mark.e2e)


def missing(reason: str) -> None:
    """Skip for a missing component on a developer machine; in CI, fail instead."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: required)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listening on {port} after {timeout}s")


class MosquittoProcess:
    """A private Mosquitto on a free port, restartable (for broker-restart tests)."""

    def __init__(self, workdir: Path, anonymous: bool = True) -> None:
        assert MOSQUITTO is not None
        self.port = free_port()
        self.conf = workdir / "mosquitto.conf"
        # anonymous=False with no password file: the broker refuses every client (bad credentials).
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous {str(anonymous).lower()}\npersistence false\n"
            "max_queued_messages 100000\nmax_inflight_messages 100\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> BrokerAddress:
        return BrokerAddress(host="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(MOSQUITTO), "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)
            self.proc = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[BrokerAddress]:
    """A real MQTT broker: private Mosquitto when the binary exists, else the embedded rumqttd."""
    if MOSQUITTO is not None:
        mosq = MosquittoProcess(tmp_path)
        mosq.start()
        try:
            yield mosq.address
        finally:
            mosq.stop()
        return
    if IN_CI:
        pytest.fail("mosquitto is not installed (CI=true: required)")
    from iotcore import Broker

    port = free_port()
    with Broker(port=port, listen="127.0.0.1"):
        yield BrokerAddress(host="127.0.0.1", port=port)


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoProcess]:
    """A private Mosquitto the test can stop and start again on the same port."""
    if MOSQUITTO is None:
        missing("mosquitto is not installed; broker-restart tests skipped")
    mosq = MosquittoProcess(tmp_path)
    mosq.start()
    try:
        yield mosq
    finally:
        mosq.stop()


def _database_params() -> list[object]:
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _private_schema_url(url: str, schema: str) -> str:
    """The same database, but every table in a schema of this test process's own.

    Several test runs may share one PostgreSQL (developers, CI); a schema each keeps their
    drop_all/create_all from pulling tables out from under each other.
    """
    base = make_engine(url)
    with base.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    base.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    if not PG_URL:
        missing("MAITRE_TEST_DATABASE_URL is not set; PostgreSQL tests skipped")
    schema = f"maitre_test_{os.getpid()}"
    yield _private_schema_url(str(PG_URL), schema)
    base = make_engine(str(PG_URL))
    with base.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    base.dispose()


@pytest.fixture(params=_database_params())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, empty database: SQLite in a temp file, and PostgreSQL when configured."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'maitre.db'}")
    else:
        eng = make_engine(request.getfixturevalue("pg_url"))
        drop_schema(eng)
    create_schema(eng)  # the models' tables, recorded as the newest migration
    try:
        yield eng
    finally:
        if request.param != "sqlite":
            drop_schema(eng)
        eng.dispose()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite database only: for tests about pages and screens (browsers), which the
    database tests already cover on PostgreSQL too."""
    engine = make_engine(f"sqlite:///{tmp_path / 'pages.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


def drop_schema(engine: Engine) -> None:
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def make_settings(**overrides: object) -> Settings:
    return Settings(mqtt_client_id=f"maitre-test-{os.getpid()}-{time.monotonic_ns()}", **overrides)  # type: ignore[arg-type]


class LiveService:
    """The venue service running for real: uvicorn on a free port, ingesting from a broker."""

    def __init__(self, base: str, service: VenueService, signer: TokenSigner | None = None) -> None:
        self.base = base
        self.ws = base.replace("http://", "ws://")
        self.service = service
        self.signer = signer

    def token(self, role: str = "host", venue: str = "bistro", hours: float = 1.0) -> str:
        """A staff token this service accepts."""
        assert self.signer is not None
        return self.signer.issue(venue, StaffRole(role), hours)

    def headers(self, role: str = "manager", venue: str = "bistro") -> dict[str, str]:
        """The Authorization header of a member of staff with this role at this venue."""
        return {"Authorization": f"Bearer {self.token(role, venue)}"}

    def client(self, role: str = "manager", venue: str = "bistro") -> httpx.AsyncClient:
        """An API client signed in as staff (default: the bistro's manager, who may do anything there)."""
        return httpx.AsyncClient(base_url=self.base, headers=self.headers(role, venue))


@contextlib.asynccontextmanager
async def live_service(
    engine: Engine, broker: BrokerAddress | None, port: int | None = None, **settings: object
) -> AsyncIterator[LiveService]:
    """The service on `port` (default: a free one); pass the same port and secret_key to restart it."""
    port = port or free_port()
    configured = make_settings(**settings)
    app = create_app(configured, broker, engine=engine)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            ws=ScreenSocketProtocol,
            ws_per_message_deflate=PER_MESSAGE_DEFLATE,
            **server_options(configured.trusted_proxies),  # as `maitre serve` runs it
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    service: VenueService = app.state.service
    if broker is not None:
        await wait_until(service.mqtt_connected, what="the service's MQTT sessions")
    try:
        yield LiveService(f"http://127.0.0.1:{port}", service, app.state.signer)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def wait_until(predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll until the predicate holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


class MqttRecorder:
    """A plain MQTT client that subscribes to topics and records what arrives, in order."""

    def __init__(self, broker: BrokerAddress, *topics: str) -> None:
        self.topics = topics
        self.messages: list[tuple[str, bytes, bool]] = []  # (topic, payload, retained)
        self.subscribed = False
        self._lock = threading.Lock()
        self.client = make_client(broker, client_id=f"recorder-{time.monotonic_ns()}")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.connect_async(broker.host, broker.port, keepalive=15)
        self.client.loop_start()

    def payloads(self, topic: str) -> list[bytes]:
        with self._lock:
            return [p for t, p, _ in self.messages if t == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: Any, userdata: object, flags: Any, reason: Any, properties: Any) -> None:
        if not reason.is_failure:
            client.subscribe([(t, 1) for t in self.topics])

    def _on_subscribe(self, client: Any, userdata: object, mid: int, reasons: Any, properties: Any) -> None:
        self.subscribed = True

    def _on_disconnect(self, client: Any, userdata: object, flags: Any, reason: Any, properties: Any) -> None:
        self.subscribed = False

    def _on_message(self, client: Any, userdata: object, msg: Any) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium driven by Playwright (a playwright.async_api.Browser)."""
    if not Path(CHROMIUM).exists():
        missing(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
