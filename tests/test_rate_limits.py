"""What anyone can reach is rate limited per client address; staff routes are not.

The real app, in process, with its lifespan; each client has an address of its own (documentation
addresses, RFC 5737), as phones and probes on a venue's network would. Budgets here refill at one
try a day, so what a test sees does not depend on how fast it runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from maitre.api.app import create_app
from maitre.guests.ratelimit import PublicLimits
from maitre.security.tokens import StaffRole
from tests.conftest import make_settings
from tests.factories import seed_booking, seed_venue

GUEST_BURST = 5
PROBE_BURST = 4
PER_DAY = 1 / (24 * 60)  # per minute


@contextlib.asynccontextmanager
async def running_app(engine: Engine) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(), None, engine=engine)
    app.state.public_limits = PublicLimits(GUEST_BURST, PER_DAY, PROBE_BURST, PER_DAY)
    async with app.router.lifespan_context(app):
        yield app


def client_at(app: FastAPI, address: str, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://venue", headers=headers)


def staff_token(app: FastAPI) -> str:
    token: str = app.state.signer.issue("bistro", StaffRole.MANAGER, 1.0)
    return token


async def guest_token(app: FastAPI) -> str:
    async with client_at(app, "192.0.2.1", staff_token(app)) as staff:
        venue_id = await seed_venue(staff)
        booking = await seed_booking(staff, venue_id, "Ngozi", "Okafor")
    token: str = app.state.signer.issue_guest(booking.reservation_id, booking.guest_id, 30)
    return token


def assert_told_to_wait(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) >= 1
    assert "Too many" in r.json()["detail"]


async def test_a_phone_past_its_budget_is_told_to_wait_while_other_phones_carry_on(engine: Engine) -> None:
    async with running_app(engine) as app:
        token = await guest_token(app)
        async with client_at(app, "192.0.2.10", token) as phone, client_at(app, "192.0.2.11", token) as other:
            answers = [(await phone.get("/api/guest/me")).status_code for _ in range(GUEST_BURST)]
            assert answers == [200] * GUEST_BURST
            assert_told_to_wait(await phone.get("/api/guest/me"))
            assert_told_to_wait(await phone.put("/api/guest/me/consent", json={"greeting": True}))
            assert_told_to_wait(await phone.get("/api/guest/menu"))
            assert (await other.get("/api/guest/me")).status_code == 200


async def test_guessing_guest_tokens_spends_the_same_budget(engine: Engine) -> None:
    async with running_app(engine) as app, client_at(app, "192.0.2.20", "mg1.forged") as prober:
        answers = [(await prober.get("/api/guest/menu")).status_code for _ in range(GUEST_BURST)]
        assert answers == [401] * GUEST_BURST
        assert_told_to_wait(await prober.get("/api/guest/menu"))


async def test_the_code_look_up_is_also_within_the_phone_budget(engine: Engine) -> None:
    async with running_app(engine) as app, client_at(app, "192.0.2.30") as phone:
        await guest_token(app)  # a venue with a booking, made from another address
        # Look-ups have a stricter budget of their own (checkin_burst, 10 by default): the
        # general one, smaller here, runs out first.
        for _ in range(GUEST_BURST):
            r = await phone.post("/api/guest/session", json={"code": "ZZZZZZZZZZ", "last_name": "x"})
            assert r.status_code == 404
        assert_told_to_wait(await phone.post("/api/guest/session", json={"code": "Z", "last_name": "x"}))


async def test_readiness_and_metrics_are_limited_per_address_and_liveness_never(engine: Engine) -> None:
    async with running_app(engine) as app, client_at(app, "192.0.2.40") as scraper:
        paths = ("/readyz", "/metrics")
        answers = [(await scraper.get(paths[n % 2])).status_code for n in range(PROBE_BURST)]
        assert answers == [200] * PROBE_BURST
        assert_told_to_wait(await scraper.get("/readyz"))
        assert_told_to_wait(await scraper.get("/metrics"))
        for _ in range(3 * PROBE_BURST):
            assert (await scraper.get("/healthz")).status_code == 200
        async with client_at(app, "192.0.2.41") as orchestrator:
            assert (await orchestrator.get("/readyz")).status_code == 200


async def test_staff_routes_are_not_rate_limited(engine: Engine) -> None:
    async with running_app(engine) as app, client_at(app, "192.0.2.50", staff_token(app)) as staff:
        await seed_venue(staff)
        for _ in range(3 * (GUEST_BURST + PROBE_BURST)):
            assert (await staff.get("/api/venues/bistro")).status_code == 200
        assert (await staff.get("/api/ingest/stats")).status_code == 200


async def test_without_limits_given_the_app_makes_generous_ones_from_its_settings(engine: Engine) -> None:
    app = create_app(make_settings(), None, engine=engine)
    async with app.router.lifespan_context(app), client_at(app, "192.0.2.60") as probe:
        assert (await probe.get("/readyz")).status_code == 200
    limits: PublicLimits = app.state.public_limits
    assert limits.guest.burst >= 30 and limits.probe.burst >= 30
