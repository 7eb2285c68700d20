"""The REST API, called as a client would: create and read, with clear errors for bad requests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.conftest import LiveService, live_service
from tests.factories import seed_guest, seed_venue


@pytest.fixture
async def live(engine: Engine) -> AsyncIterator[LiveService]:
    async with live_service(engine, None) as running:
        yield running


@pytest.fixture
async def client(live: LiveService) -> AsyncIterator[httpx.AsyncClient]:
    async with live.client() as c:
        yield c


async def test_venue_is_created_and_read_back(client: httpx.AsyncClient) -> None:
    await seed_venue(client)
    venue = (await client.get("/api/venues/bistro")).json()
    assert venue["name"] == "Le Petit Bistro"
    gateways = (await client.get("/api/venues/bistro/gateways")).json()
    assert [(g["name"], g["role"]) for g in gateways] == [("door", "door"), ("street", "approach")]


async def test_duplicate_venue_is_a_conflict(client: httpx.AsyncClient) -> None:
    await seed_venue(client)
    r = await client.post("/api/venues", json={"slug": "bistro", "name": "Again"})
    assert r.status_code == 409
    assert "already exists" in r.json()["detail"]


@pytest.mark.parametrize("slug", ["a/b", "with space", "", "#"])
async def test_venue_slug_that_would_break_topics_is_refused(client: httpx.AsyncClient, slug: str) -> None:
    r = await client.post("/api/venues", json={"slug": slug, "name": "x"})
    assert r.status_code == 422


async def test_guest_preferences_band_and_reservation_round_trip(client: httpx.AsyncClient) -> None:
    venue_id = await seed_venue(client)
    g = await seed_guest(client, venue_id, "Siobhán", allergies=("peanuts", "sesame"))
    prefs = (await client.get(f"/api/guests/{g.guest_id}/preferences")).json()
    assert prefs["allergies"] == ["peanuts", "sesame"]
    bands = (await client.get("/api/bands", params={"guest_id": g.guest_id})).json()
    assert [b["advertiser_id"] for b in bands] == [g.advertiser_id]
    reservation = (await client.get(f"/api/reservations/{g.reservation_id}")).json()
    assert reservation["status"] == "expected" and reservation["party_size"] == 2
    items = (await client.get(f"/api/reservations/{g.reservation_id}/items")).json()
    assert [i["name"] for i in items] == ["Burrata"]
    listed = (await client.get("/api/venues/bistro/reservations")).json()
    assert [r["id"] for r in listed] == [g.reservation_id]


async def test_band_already_registered_is_a_conflict(client: httpx.AsyncClient) -> None:
    venue_id = await seed_venue(client)
    g = await seed_guest(client, venue_id, "Sarah")
    r = await client.post("/api/bands", json={"advertiser_id": g.advertiser_id})
    assert r.status_code == 409


async def test_missing_things_are_404_with_a_reason(client: httpx.AsyncClient, live: LiveService) -> None:
    for path, venue in (
        ("/api/venues/nowhere", "nowhere"),  # the manager of a venue not made yet
        ("/api/guests/999", "bistro"),
        ("/api/reservations/999", "bistro"),
    ):  # /api/venues/{slug}/alerts needs a staff token: tests/test_auth.py
        r = await client.get(path, headers=live.headers("manager", venue))
        assert r.status_code == 404, path
        assert "no " in r.json()["detail"]


async def test_reservation_for_unknown_guest_is_refused(client: httpx.AsyncClient) -> None:
    venue_id = await seed_venue(client)
    r = await client.post(
        "/api/reservations",
        json={"venue_id": venue_id, "guest_id": 42, "party_size": 2, "at": "2026-01-01T19:00:00Z"},
    )
    assert r.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"party_size": 0},
        {"party_size": "two"},
        {"at": "tomorrow-ish"},
        {},
    ],
)
async def test_invalid_reservation_bodies_are_422(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    venue_id = await seed_venue(client)
    g = await seed_guest(client, venue_id, "Sarah", reservation_in=None)
    full = {
        "venue_id": venue_id,
        "guest_id": g.guest_id,
        "party_size": 2,
        "at": "2026-01-01T19:00:00Z",
        **body,
    }
    if not body:
        full = {}
    r = await client.post("/api/reservations", json=full)
    assert r.status_code == 422


async def test_openapi_docs_are_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    assert "/api/reservations" in spec["paths"]


async def test_a_calibrated_layout_reaches_the_presence_engine(
    client: httpx.AsyncClient, live: LiveService
) -> None:
    await seed_venue(client)
    plan = {"inside": [[-3, 2, 3, 20]], "door": [0, 2], "sigma_db": 7.2}
    r = await client.put("/api/venues/bistro/layout", json=plan)
    assert r.status_code == 200
    assert (await client.get("/api/venues/bistro/layout")).json()["sigma_db"] == 7.2
    assert live.service.directory.venue_models["bistro"].sigma_db == 7.2
    # A walk that says 2 dB was not a walk through a real venue: refused, the stored plan kept.
    r = await client.put("/api/venues/bistro/layout", json={**plan, "sigma_db": 2.0})
    assert r.status_code == 422 and "sigma_db" in r.text
    assert live.service.directory.venue_models["bistro"].sigma_db == 7.2
