"""Staff tokens: signed, venue-bound, expiring; the REST routes that show guest data require one."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest
from sqlalchemy.engine import Engine

from maitre import cli
from maitre.security.tokens import InvalidToken, StaffRole, TokenSigner
from tests.conftest import live_service
from tests.factories import seed_guest, seed_venue

SIGNER = TokenSigner(b"k" * 32)


def test_token_carries_venue_role_and_expiry() -> None:
    claims = SIGNER.verify(SIGNER.issue("bistro", StaffRole.HOST, hours=2))
    assert (claims.venue, claims.role) == ("bistro", StaffRole.HOST)
    assert 2 * 3600 - 5 < claims.expires - time.time() <= 2 * 3600
    assert claims.may_open("bistro", "host")
    assert not claims.may_open("bistro", "kitchen")
    assert not claims.may_open("other", "host")


def test_manager_opens_every_screen_of_their_venue_only() -> None:
    claims = SIGNER.verify(SIGNER.issue("bistro", StaffRole.MANAGER))
    assert claims.may_open("bistro", "host") and claims.may_open("bistro", "kitchen")
    assert not claims.may_open("other", "kitchen")


def test_expired_token_is_refused() -> None:
    token = SIGNER.issue("bistro", StaffRole.HOST, hours=1)
    with pytest.raises(InvalidToken, match="expired"):
        SIGNER.verify(token, now=time.time() + 3601)


def test_token_with_changed_claims_is_refused() -> None:
    version, _, signature = SIGNER.issue("bistro", StaffRole.HOST).split(".")
    promoted = {"venue": "bistro", "role": "manager", "exp": int(time.time()) + 3600}
    body = base64.urlsafe_b64encode(json.dumps(promoted).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="signature"):
        SIGNER.verify(f"{version}.{body}.{signature}")


def test_token_signed_with_another_key_is_refused() -> None:
    with pytest.raises(InvalidToken, match="signature"):
        SIGNER.verify(TokenSigner(b"x" * 32).issue("bistro", StaffRole.HOST))


@pytest.mark.parametrize(
    "token",
    ["", "abc", "mt1.x", "mt2.e30.e30", "mt1..", "mt1.%%%.%%%", "mt1.é.é", "mt1." + "A" * 2000 + ".AA"],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        SIGNER.verify(token)


def test_short_secret_is_rejected() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        TokenSigner(b"short")


def test_cli_prints_a_token_the_service_accepts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "a-venue-secret-of-some-length"
    monkeypatch.setenv("MAITRE_SECRET_KEY", secret)
    assert cli.main(["token", "--venue", "bistro", "--role", "kitchen", "--hours", "3"]) == 0
    claims = TokenSigner(secret.encode()).verify(capsys.readouterr().out.strip())
    assert (claims.venue, claims.role) == ("bistro", StaffRole.KITCHEN)


def test_cli_refuses_to_sign_without_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MAITRE_SECRET_KEY", raising=False)
    assert cli.main(["token", "--venue", "bistro", "--role", "host"]) == 2
    assert "MAITRE_SECRET_KEY" in capsys.readouterr().err


async def test_alert_log_needs_a_token_for_its_venue_and_screen(engine: Engine) -> None:
    async with live_service(engine, None) as live, httpx.AsyncClient(base_url=live.base) as client:
        async with live.client() as manager:
            await seed_venue(manager)

        async def get(
            token: str | None, path: str = "/api/venues/bistro/alerts", **params: str
        ) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
            return await client.get(path, headers=headers, params=params)

        assert (await get(None)).status_code == 401
        assert (await get("mt1.forged.token")).status_code == 401
        expired = TokenSigner(b"k" * 32).issue("bistro", StaffRole.HOST)  # not this service's key
        assert (await get(expired)).status_code == 401
        assert (await get(live.token("host", venue="elsewhere"))).status_code == 403
        assert (await get(live.token("kitchen"), role="host")).status_code == 403
        missing = await get(live.token("host", venue="nowhere"), "/api/venues/nowhere/alerts")
        assert missing.status_code == 404 and "no " in missing.json()["detail"]
        assert (await get(live.token("host"))).json() == []
        assert (await get(live.token("manager"), role="kitchen")).status_code == 200


async def test_staff_actions_need_the_right_role(engine: Engine) -> None:
    async with (
        live_service(engine, None) as live,
        httpx.AsyncClient(base_url=live.base) as client,
        live.client() as manager,
    ):
        venue_id = await seed_venue(manager)
        sarah = await seed_guest(manager, venue_id, "Sarah")
        seat = {"action_id": "a" * 16, "kind": "seat", "reservation_id": sarah.reservation_id, "table": "4"}

        async def post(token: str | None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
            return await client.post("/api/venues/bistro/actions", json=seat, headers=headers)

        assert (await post(None)).status_code == 401
        assert (await post(live.token("kitchen"))).status_code == 403
        assert (await post(live.token("host", venue="elsewhere"))).status_code == 403
        reservation = (await manager.get(f"/api/reservations/{sarah.reservation_id}")).json()
        assert reservation["status"] == "expected"  # none of the refused ones did anything
        assert (await post(live.token("manager"))).status_code == 201
