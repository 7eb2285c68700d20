"""Schemathesis against the live service's OpenAPI spec, signed in as a manager: never a 5xx."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

from sqlalchemy.engine import Engine

from tests.conftest import live_service
from tests.factories import seed_guest, seed_venue

# Bounded for CI (a few examples per operation, every phase); raise it locally to dig deeper.
MAX_EXAMPLES = 4
SEED = 7  # the same examples every run: a failure here is reproducible


async def test_no_request_the_spec_allows_makes_the_service_fail(engine: Engine, tmp_path: Path) -> None:
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert schemathesis is not None, "schemathesis is in the dev dependency group"
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)  # something to find: ids 1 and the bistro exist
        await seed_guest(client, venue_id, "Sarah")
        proc = await asyncio.create_subprocess_exec(
            schemathesis,
            "run",
            f"{live.base}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--workers",
            "1",
            "--header",
            f"Authorization: Bearer {live.token('manager')}",
            "--request-timeout",
            "10",
            "--no-color",
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
    report = out.decode(errors="replace")
    assert proc.returncode == 0, report[-6000:]
    assert " passed" in report  # it did run cases
