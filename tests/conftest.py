"""Real parts for the tests: a private Mosquitto per test, SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from maitre.api.app import create_app
from maitre.config import Settings
from maitre.db import make_engine
from maitre.mqtt import BrokerAddress
from maitre.service import VenueService

IN_CI = os.environ.get("CI") == "true"
MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)
PG_URL = os.environ.get("MAITRE_TEST_DATABASE_URL")


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

    def __init__(self, workdir: Path) -> None:
        assert MOSQUITTO is not None
        self.port = free_port()
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
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


def _database_params() -> list[object]:
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=_database_params())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, empty database: SQLite in a temp file, and PostgreSQL when configured."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'maitre.db'}")
    else:
        if not PG_URL:
            missing("MAITRE_TEST_DATABASE_URL is not set; PostgreSQL tests skipped")
        eng = make_engine(str(PG_URL))
        SQLModel.metadata.drop_all(eng)
    SQLModel.metadata.create_all(eng)
    try:
        yield eng
    finally:
        if request.param != "sqlite":
            SQLModel.metadata.drop_all(eng)
        eng.dispose()


def make_settings(**overrides: object) -> Settings:
    return Settings(mqtt_client_id=f"maitre-test-{os.getpid()}-{time.monotonic_ns()}", **overrides)  # type: ignore[arg-type]


class LiveService:
    """The venue service running for real: uvicorn on a free port, ingesting from a broker."""

    def __init__(self, base: str, service: VenueService) -> None:
        self.base = base
        self.ws = base.replace("http://", "ws://")
        self.service = service


@contextlib.asynccontextmanager
async def live_service(
    engine: Engine, broker: BrokerAddress | None, **settings: object
) -> AsyncIterator[LiveService]:
    port = free_port()
    app = create_app(make_settings(**settings), broker, engine=engine)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    service: VenueService = app.state.service
    if broker is not None:
        await asyncio.wait_for(service.ingress.connected.wait(), 10)  # type: ignore[union-attr]
    try:
        yield LiveService(f"http://127.0.0.1:{port}", service)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
