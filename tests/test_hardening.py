"""Request-body limits, security headers, revocable short-lived staff tokens, a cap on screens per
address, and readiness that checks the schema."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets
from sqlalchemy import text
from sqlalchemy.engine import Engine

from maitre import cli
from maitre.api.hardening import CONTENT_SECURITY_POLICY
from maitre.security.revocation import RevocationList
from maitre.security.tokens import StaffRole, TokenSigner
from tests.conftest import live_service
from tests.factories import open_screen, seed_venue
from tests.test_rate_limits import client_at, running_app

BIG = 2 * 1024 * 1024  # twice the default limit


async def test_a_body_over_the_limit_is_refused_before_it_is_parsed(engine: Engine) -> None:
    async with running_app(engine) as app, client_at(app, "192.0.2.7") as anyone:
        login = await anyone.post("/api/login", content=b'{"username": "' + b"a" * BIG + b'"}')
        checkin = await anyone.post("/api/guest/session", content=b"[" * BIG)

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
            for _ in range(BIG // 65536):
                yield b" " * 65536

        streamed = await anyone.post("/api/guest/session", content=chunks())
        small = await anyone.post("/api/guest/session", json={"code": "ABCDEFGHJK", "last_name": "x"})
    for refused in (login, checkin, streamed):
        assert refused.status_code == 413
        assert "larger than this service accepts (1048576 bytes)" in refused.json()["detail"]
    assert small.status_code == 404  # an honest look-up is answered as before


async def test_every_response_carries_the_security_headers(engine: Engine) -> None:
    async with running_app(engine) as app:
        async with client_at(app, "192.0.2.8") as plain:
            pages = [await plain.get(p) for p in ("/screens/host.html", "/healthz", "/api/venues", "/docs")]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app, client=("192.0.2.8", 1)), base_url="https://venue"
        ) as tls:
            secure = await tls.get("/healthz")
    for page in pages:
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in page.headers  # never over plain HTTP
    assert pages[0].headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert secure.headers["strict-transport-security"].startswith("max-age=")


async def test_a_revoked_token_is_refused_and_others_still_work(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as manager:
        await seed_venue(manager)
        lost, kept = live.token("host"), live.token("host")
        r = await manager.post("/api/venues/bistro/tokens/revoke", json={"token": lost})
        assert r.status_code == 200, r.text
        async with httpx.AsyncClient(base_url=live.base) as anyone:

            async def alerts(token: str) -> int:
                headers = {"Authorization": f"Bearer {token}"}
                return (await anyone.get("/api/venues/bistro/alerts", headers=headers)).status_code

            assert await alerts(lost) == 401
            assert await alerts(kept) == 200
        # The lost tablet's screen cannot open its feed either.
        ws = await websockets.connect(f"{live.ws}/ws/bistro/host")
        await ws.send(json.dumps({"type": "hello", "token": lost}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.reason == "token revoked"
        # Another venue's manager cannot revoke this venue's tokens.
        async with live.client(venue="cafe") as cafe:
            other = await cafe.post("/api/venues/bistro/tokens/revoke", json={"token": kept})
        assert other.status_code == 403


async def test_revoking_a_venue_refuses_every_token_issued_before(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as manager:
        await seed_venue(manager)
        before = live.token("kitchen")
        assert (await manager.post("/api/venues/bistro/tokens/revoke", json={"all": True})).status_code == 200
        time.sleep(0.01)
        after = live.token("kitchen")
        async with httpx.AsyncClient(base_url=live.base) as anyone:
            statuses = [
                (
                    await anyone.get("/api/venues/bistro/alerts", headers={"Authorization": f"Bearer {t}"})
                ).status_code
                for t in (before, after)
            ]
        assert statuses == [401, 200]


def test_maitre_token_revoke_refuses_a_token_from_the_next_request(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "revocation-test-secret-0123456789abcdef"
    monkeypatch.setenv("MAITRE_SECRET_KEY", secret)
    monkeypatch.setenv("MAITRE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    token = TokenSigner(secret.encode()).issue("bistro", StaffRole.HOST)
    assert cli.main(["token", "revoke", "--token", token]) == 0
    assert "refused from now on" in capsys.readouterr().out
    signer = TokenSigner(secret.encode())
    revocations = RevocationList(engine)  # as a running service reads it
    assert revocations.revoked(signer.verify(token))
    assert not revocations.revoked(signer.verify(signer.issue("bistro", StaffRole.HOST)))


def test_staff_tokens_live_at_most_a_day() -> None:
    signer = TokenSigner(b"k" * 32)
    with pytest.raises(ValueError, match="lasts at most 24 hours"):
        signer.issue("bistro", StaffRole.MANAGER, hours=744)
    # A token signed for 744 h before this limit existed is refused now.
    month = TokenSigner(b"k" * 32, max_hours=744).issue("bistro", StaffRole.MANAGER, hours=744)
    with pytest.raises(Exception, match="longer than this service allows"):
        signer.verify(month)


async def test_screens_per_address_are_capped(engine: Engine) -> None:
    async with live_service(engine, None, screens_per_address=3) as live, live.client() as manager:
        await seed_venue(manager)
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(3):
                ws, _ = await open_screen(live.ws, live.token("host"))
                await stack.enter_async_context(ws)
            extra = await websockets.connect(f"{live.ws}/ws/bistro/host")
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await extra.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
        # Closed ones free their places.
        ws, opening = await open_screen(live.ws, live.token("host"))
        async with ws:
            assert opening["type"] == "snapshot"


async def test_readiness_says_not_ready_when_the_schema_is_not_this_versions(engine: Engine) -> None:
    async with live_service(engine, None) as live, httpx.AsyncClient(base_url=live.base) as anyone:
        assert (await anyone.get("/readyz")).status_code == 200
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        ready = await anyone.get("/readyz")
    assert ready.status_code == 503
    assert "run `maitre db upgrade`" in ready.json()["database"]


def test_the_revocation_list_read_last_stands_while_the_database_is_away(engine: Engine) -> None:
    from maitre.db import make_engine, session_scope
    from maitre.security.revocation import revoke_token

    signer = TokenSigner(b"k" * 32)
    lost = signer.verify(signer.issue("bistro", StaffRole.HOST))
    with session_scope(engine) as session:
        revoke_token(session, lost)
    revocations = RevocationList(engine)
    assert revocations.revoked(lost)
    revocations.engine = make_engine("sqlite:////nonexistent/dir/maitre.db")  # the database is gone
    revocations.invalidate()
    assert revocations.revoked(lost)  # still refused: the last list read stands
    assert not revocations.revoked(signer.verify(signer.issue("bistro", StaffRole.HOST)))


async def test_a_client_still_sending_a_large_body_reads_the_413(engine: Engine) -> None:
    async with live_service(engine, None) as live, httpx.AsyncClient(base_url=live.base) as anyone:
        started = time.perf_counter()
        r = await anyone.post("/api/login", content=b'{"username": "' + b"a" * (20 * BIG) + b'"}')
        took = time.perf_counter() - started
    assert r.status_code == 413 and "larger than this service accepts" in r.json()["detail"]
    assert took < 5.0  # thrown away as it arrives, never parsed (it was parsed, ~1 s per 50 MB)
