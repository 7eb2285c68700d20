"""`maitre db seed-demo`: the compose stack's simulated gateways hear guests the service knows."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from maitre.db import make_engine, upgrade_schema
from maitre.mqtt import BrokerAddress
from tests.conftest import live_service


def seed_demo(db: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "maitre.cli", "db", "seed-demo", "--guests", "3"],
        env={**os.environ, "MAITRE_DATABASE_URL": db},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.timeout(240)
async def test_simulated_gateways_guests_are_greeted_after_seed_demo(
    broker: BrokerAddress, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'maitre.db'}"
    engine = make_engine(db)
    upgrade_schema(engine)
    first = seed_demo(db)  # as the compose stack's one-shot does after `db upgrade`
    assert first.returncode == 0, first.stderr
    assert "seeded venue 'bistro'" in first.stdout
    again = seed_demo(db)  # a restarted stack runs it again: nothing is added twice
    assert again.returncode == 0 and "already there: nothing seeded" in again.stdout

    async with live_service(engine, broker) as live, live.client() as api:
        gateways = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from maitre.gateway.cli import main; raise SystemExit(main())",
                    *["run", "--simulate", "--venue", "bistro", "--gateway", name],
                    *["--mqtt-url", f"mqtt://{broker.host}:{broker.port}"],
                    *["--spool", str(tmp_path / f"{name}.sqlite3")],
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name in ("door", "street")
        ]
        try:
            names: list[str] = []
            for _ in range(900):  # the first guests cross the door 15 s, 27 s and 39 s in
                r = await api.get("/api/venues/bistro/alerts", params={"since": 0})
                names = [a["payload"]["name"] for a in r.json() if a["kind"] == "greet"]
                if names:
                    break
                await asyncio.sleep(0.1)
            stats = (await api.get("/api/ingest/stats")).json()
            assert stats["batches_by_gateway"].keys() == {"bistro/door", "bistro/street"}
            assert names, f"nobody greeted in 90 s; ingest: {stats}"
            # Only the seeded guests: the simulated passers-by and strangers are never greeted.
            assert set(names) <= {"Sarah", "Siobhán", "Tomás"}
            assert names[0] == "Sarah"  # the first through the door (15 s in; the next at 27 s)
        finally:
            for proc in gateways:
                proc.terminate()
                proc.wait(10)
    engine.dispose()
