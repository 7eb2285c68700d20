"""Forwarded headers are believed only from configured proxies; look-ups are capped per address,
and nobody who knows a confirmation code can lock its guest out."""

from __future__ import annotations

import secrets

import httpx
from sqlalchemy.engine import Engine

from maitre.models import RESERVATION_CODE_ALPHABET
from tests.conftest import live_service
from tests.factories import seed_booking, seed_venue
from tests.test_rate_limits import client_at, running_app, staff_token


def random_code() -> str:
    return "".join(secrets.choice(RESERVATION_CODE_ALPHABET) for _ in range(10))


async def look_ups(client: httpx.AsyncClient, n: int, forged: bool) -> list[int]:
    """`n` check-in look-ups of codes that do not exist, each (if `forged`) claiming another address."""
    statuses = []
    for i in range(n):
        headers = {"X-Forwarded-For": f"198.51.100.{i % 250 + 1}"} if forged else {}
        r = await client.post(
            "/api/guest/session", json={"code": random_code(), "last_name": "x"}, headers=headers
        )
        statuses.append(r.status_code)
    return statuses


async def test_a_forged_forwarded_for_from_loopback_does_not_escape_the_look_up_cap(engine: Engine) -> None:
    """Issue 26: uvicorn believed X-Forwarded-For from 127.0.0.1; 5,346 look-ups a minute went through."""
    async with live_service(engine, None) as live, httpx.AsyncClient(base_url=live.base) as client:
        statuses = await look_ups(client, 40, forged=True)
    burst = live.service.settings.checkin_burst
    assert statuses[:burst] == [404] * burst
    assert statuses.count(429) >= 40 - burst - 1  # a try or so earned back while the test runs


async def test_forwarded_for_is_believed_from_a_configured_proxy(engine: Engine) -> None:
    async with (
        live_service(engine, None, trusted_proxies=["127.0.0.1"]) as live,
        httpx.AsyncClient(base_url=live.base) as client,
    ):
        statuses = await look_ups(client, 40, forged=True)  # forty clients behind the proxy
    assert statuses == [404] * 40


async def test_a_stranger_with_the_code_cannot_lock_its_guest_out(engine: Engine) -> None:
    async with running_app(engine) as app:
        async with client_at(app, "192.0.2.1", staff_token(app)) as staff:
            booking = await seed_booking(staff, await seed_venue(staff), "Ngozi", "Okafor")
        async with client_at(app, "203.0.113.66") as stranger:
            tries = [
                (
                    await stranger.post("/api/guest/session", json={"code": booking.code, "last_name": n})
                ).status_code
                for n in ("Smith", "Jones", "Brown", "Taylor", "Wilson", "Evans", "Thomas", "Roberts")
            ]
        assert 429 in tries  # the stranger is slowed down ...
        async with client_at(app, "192.0.2.44") as phone:
            mine = await phone.post(
                "/api/guest/session", json={"code": booking.code, "last_name": booking.last_name}
            )
        assert mine.status_code == 200  # ... and the guest, on their own phone, still checks in


async def test_sign_in_tries_are_capped_per_address_whatever_forwarded_for_says(engine: Engine) -> None:
    async with live_service(engine, None) as live, httpx.AsyncClient(base_url=live.base) as client:
        statuses = []
        for i in range(live.service.settings.login_burst + 3):
            r = await client.post(
                "/api/login",
                json={"username": "margot", "password": "guess"},
                headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
            )
            statuses.append(r.status_code)
    burst = live.service.settings.login_burst
    assert statuses[:burst] == [401] * burst
    assert 429 in statuses[burst:]
