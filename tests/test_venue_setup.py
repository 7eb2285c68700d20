"""Setting up a venue through the API alone: a plan the service cannot use is refused with the reason."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.conftest import LiveService, live_service
from tests.factories import seed_guest, seed_venue

pytestmark = pytest.mark.e2e

PLAN = {
    "walls": [{"x0": -8, "y0": 2, "x1": -0.75, "y1": 2}, {"x0": 0.75, "y0": 2, "x1": 8, "y1": 2}],
    "inside": [[-8, 2, 8, 14]],
    "door": [0, 2],
}


@pytest.fixture
async def live(engine: Engine) -> AsyncIterator[LiveService]:
    async with live_service(engine, None) as running:
        yield running


@pytest.fixture
async def client(live: LiveService) -> AsyncIterator[httpx.AsyncClient]:
    async with live.client() as c:
        yield c


async def test_a_plan_whose_inside_does_not_start_at_the_door_is_refused_and_the_old_one_kept(
    client: httpx.AsyncClient, live: LiveService
) -> None:
    await seed_venue(client)
    assert (await client.put("/api/venues/bistro/layout", json=PLAN)).status_code == 200
    r = await client.put("/api/venues/bistro/layout", json={**PLAN, "inside": [[-8, 4, 8, 14]]})
    assert r.status_code == 422
    assert "which side of the door" in r.json()["detail"]["errors"][0]
    assert (await client.get("/api/venues/bistro/layout")).json()["inside"] == [[-8, 2, 8, 14]]
    assert live.service.directory.venue_models["bistro"].inside == [(-8, 2, 8, 14)]


async def test_a_usable_plan_comes_back_with_its_warnings(client: httpx.AsyncClient) -> None:
    await seed_venue(client)  # door at (0, 4), street at (4, 1.5): one outside, fine
    r = await client.post(
        "/api/venues/bistro/gateways", json={"name": "lintel", "role": "approach", "x": 0, "y": 1.9}
    )
    assert r.status_code == 201
    r = await client.put("/api/venues/bistro/layout", json=PLAN)
    assert r.status_code == 200
    assert any("lintel" in w and "over the door" in w for w in r.json()["warnings"])
    check = (await client.get("/api/venues/bistro/layout/check")).json()
    assert check["errors"] == [] and check["warnings"] == r.json()["warnings"]
    # Ready, but the operator is told: on /readyz and in /metrics.
    ready = (await client.get("/readyz")).json()
    assert ready["status"] == "ready" and any("lintel" in p for p in ready["plans"]["bistro"])
    assert 'maitre_venue_plan_problems{venue="bistro"}' in (await client.get("/metrics")).text


async def test_a_gateway_is_moved_refused_outside_the_bounds_and_deleted(
    client: httpx.AsyncClient, live: LiveService
) -> None:
    await seed_venue(client)
    assert (
        await client.put("/api/venues/bistro/layout", json={**PLAN, "bounds": [-10, -5, 10, 16]})
    ).status_code == 200
    r = await client.patch("/api/venues/bistro/gateways/door", json={"x": 1.0, "y": 3.0})
    assert r.status_code == 200 and (r.json()["x"], r.json()["y"]) == (1.0, 3.0)
    assert live.service.directory.venue_models["bistro"].gateways["door"] == (1.0, 3.0)
    r = await client.patch("/api/venues/bistro/gateways/door", json={"y": 40.0})
    assert r.status_code == 422 and "outside the bounds" in r.text
    assert (await client.get("/api/venues/bistro/gateways")).json()[0]["y"] == 3.0  # kept
    r = await client.post(
        "/api/venues/bistro/gateways", json={"name": "far", "role": "inside", "x": 0, "y": 30}
    )
    assert r.status_code == 422
    assert [g["name"] for g in (await client.get("/api/venues/bistro/gateways")).json()] == ["door", "street"]
    assert (await client.delete("/api/venues/bistro/gateways/street")).status_code == 204
    assert ("bistro", "street") not in live.service.directory.gateways
    assert (await client.delete("/api/venues/bistro/gateways/street")).status_code == 404


async def test_a_reservation_is_booked_by_the_venue_slug(client: httpx.AsyncClient) -> None:
    venue_id = await seed_venue(client)
    guest = await seed_guest(client, venue_id, "Sarah", reservation_in=None)
    at = datetime.now(UTC).isoformat()
    r = await client.post(
        "/api/venues/bistro/reservations", json={"guest_id": guest.guest_id, "party_size": 2, "at": at}
    )
    assert r.status_code == 201 and r.json()["venue_id"] == venue_id
    r = await client.post(
        "/api/venues/nowhere/reservations", json={"guest_id": guest.guest_id, "party_size": 2, "at": at}
    )
    assert r.status_code in (403, 404)


@pytest.mark.timeout(600)  # a child process simulating an evening: seconds idle, minutes on a loaded box
async def test_a_prediction_of_the_plan_runs_apart_and_its_report_comes_back(
    client: httpx.AsyncClient,
) -> None:
    await seed_venue(client)
    assert (await client.get("/api/venues/bistro/layout/prediction")).status_code == 404  # none yet
    r = await client.post("/api/venues/bistro/layout/prediction", json={"radios": 1})
    assert r.status_code == 404 and "no layout" in r.text
    assert (await client.put("/api/venues/bistro/layout", json=PLAN)).status_code == 200
    assert (await client.post("/api/venues/bistro/layout/prediction", json={"radios": 0})).status_code == 422
    quick = {"radios": 1, "advice": False, "evening_seconds": 150}
    r = await client.post("/api/venues/bistro/layout/prediction", json=quick)
    assert r.status_code == 202 and r.json()["status"] == "running"
    again = await client.post("/api/venues/bistro/layout/prediction", json={"radios": 1})
    assert again.status_code == 409  # one at a time per venue
    for _ in range(1200):  # one simulated evening: seconds on an idle machine
        job = (await client.get("/api/venues/bistro/layout/prediction")).json()
        if job["status"] != "running":
            break
        await asyncio.sleep(0.5)
    assert job["status"] == "done", job["error"]
    report = job["report"]
    assert 0.0 <= report["as_registered"]["within_3s"] <= 1.0
    assert report["as_registered"]["parties"] == 12 and report["as_registered"]["evenings"] == 1
    assert report["one_more_gateway"] == []  # advice not asked for
