"""Staff sign in with a password and get a token for their venue and role; every admin route asks for one."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import PasswordHasher, extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy.engine import Engine
from sqlmodel import select

from maitre import cli
from maitre.db import session_scope
from maitre.models import StaffAccount
from maitre.security.staff import add_account, hash_password, needs_rehash, verify_password
from maitre.security.tokens import StaffRole
from tests.conftest import LiveService, live_service
from tests.factories import seed_guest, seed_venue

PASSWORD = "correct horse battery staple"
# Routes anyone may call. A new public route belongs here, with a reason; every other route in
# the OpenAPI spec must refuse a request without a token.
PUBLIC = {
    ("POST", "/api/login"),  # how a staff token is had (rate-limited)
    ("POST", "/api/guest/session"),  # how a guest token is had: code and last name (rate-limited)
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),  # open unless MAITRE_METRICS_TOKEN is set (tests/test_metrics.py)
}
# The admin API: a manager's, and no screen token opens it.
ADMIN = [
    ("POST", "/api/venues"),
    ("GET", "/api/venues"),
    ("GET", "/api/venues/{slug}"),
    ("PUT", "/api/venues/{slug}/layout"),
    ("GET", "/api/venues/{slug}/layout"),
    ("POST", "/api/venues/{slug}/zones"),
    ("GET", "/api/venues/{slug}/zones"),
    ("POST", "/api/venues/{slug}/gateways"),
    ("GET", "/api/venues/{slug}/gateways"),
    ("GET", "/api/venues/{slug}/reservations"),
    ("POST", "/api/guests"),
    ("GET", "/api/guests/{guest_id}"),
    ("PUT", "/api/guests/{guest_id}"),
    ("PUT", "/api/guests/{guest_id}/preferences"),
    ("GET", "/api/guests/{guest_id}/preferences"),
    ("POST", "/api/bands"),
    ("GET", "/api/bands"),
    ("POST", "/api/reservations"),
    ("GET", "/api/reservations/{reservation_id}"),
    ("PATCH", "/api/reservations/{reservation_id}"),
    ("POST", "/api/reservations/{reservation_id}/items"),
    ("GET", "/api/reservations/{reservation_id}/items"),
    ("POST", "/api/reservations/{reservation_id}/party"),
    ("GET", "/api/reservations/{reservation_id}/party"),
    ("GET", "/api/ingest/stats"),
]


def add_staff(engine: Engine, username: str, role: str, venue: str = "bistro") -> None:
    with session_scope(engine) as session:
        add_account(session, username, PASSWORD, venue, StaffRole(role))


def scrypt_hash(password: str) -> str:
    """A hash as security/staff.py wrote them before Argon2: `scrypt$<n>$<r>$<p>$<salt>$<key>`,
    n=2^14, r=8, p=1, a 16-byte salt and a 32-byte key, both base64url without padding."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"scrypt${2**14}$8$1${b64(salt)}${b64(key)}"


def stored_hash(engine: Engine, username: str) -> str:
    with session_scope(engine) as session:
        account = session.exec(select(StaffAccount).where(StaffAccount.username == username)).one()
        return account.password_hash


def set_stored_hash(engine: Engine, username: str, password_hash: str) -> None:
    with session_scope(engine) as session:
        account = session.exec(select(StaffAccount).where(StaffAccount.username == username)).one()
        account.password_hash = password_hash
        session.add(account)


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/login", json={"username": username, "password": password})


def operations(spec: dict[str, object]) -> list[tuple[str, str]]:
    paths = spec["paths"]
    assert isinstance(paths, dict)
    return sorted((method.upper(), path) for path, ops in paths.items() for method in ops)


def concrete(path: str) -> str:
    return re.sub(r"\{slug\}", "bistro", re.sub(r"\{\w+_id\}", "1", path))


def test_password_hashes_are_salted_and_verify() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$v=19$") and second.startswith("$argon2id$")
    assert extract_parameters(first) == RFC_9106_LOW_MEMORY  # t=3, m=64 MiB, p=4
    assert first != second and PASSWORD not in first
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)
    assert not verify_password(PASSWORD + "!", first)
    assert not verify_password(PASSWORD, "md5$whatever")
    assert not verify_password(PASSWORD, "scrypt$1$1$1$!!$!!")
    assert not verify_password(PASSWORD, "$argon2id$v=19$m=65536,t=3,p=4$broken")
    assert not needs_rehash(first)


def test_scrypt_hashes_from_before_argon2_still_verify_and_ask_to_be_rehashed() -> None:
    old = scrypt_hash(PASSWORD)
    assert verify_password(PASSWORD, old)
    assert not verify_password(PASSWORD + "!", old)
    assert not verify_password(PASSWORD, old.replace("scrypt$16384$", "scrypt$8192$"))  # its cost is in it
    assert needs_rehash(old)
    cheaper = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    assert verify_password(PASSWORD, cheaper) and needs_rehash(cheaper)


async def test_manager_signs_in_and_manages_only_their_own_venue(engine: Engine) -> None:
    add_staff(engine, "margot", "manager")
    add_staff(engine, "anton", "manager", venue="annex")
    async with live_service(engine, None) as live, httpx.AsyncClient(base_url=live.base) as client:
        r = await login(client, "margot")
        assert r.status_code == 200
        body = r.json()
        assert (body["venue"], body["role"]) == ("bistro", "manager")
        margot = {"Authorization": f"Bearer {body['token']}"}
        anton = {"Authorization": f"Bearer {(await login(client, 'anton')).json()['token']}"}

        async with httpx.AsyncClient(base_url=live.base, headers=margot) as as_margot:
            venue_id = await seed_venue(as_margot)
            sarah = await seed_guest(as_margot, venue_id, "Sarah")
            assert (await as_margot.get(f"/api/reservations/{sarah.reservation_id}")).status_code == 200
            # Margot cannot make another venue, nor a reservation at one.
            assert (
                await as_margot.post("/api/venues", json={"slug": "annex", "name": "A"})
            ).status_code == 403

        assert (await client.get("/api/venues/bistro", headers=anton)).status_code == 403
        assert (
            await client.get(f"/api/reservations/{sarah.reservation_id}", headers=anton)
        ).status_code == 403
        assert (await client.get("/api/venues", headers=anton)).json() == []
        booking = {
            "venue_id": venue_id,
            "guest_id": sarah.guest_id,
            "party_size": 2,
            "at": "2030-01-01T19:00",
        }
        assert (await client.post("/api/reservations", json=booking, headers=anton)).status_code == 403
        r = await client.patch(
            f"/api/reservations/{sarah.reservation_id}", json={"status": "cancelled"}, headers=anton
        )
        assert r.status_code == 403
        reservation = await client.get(f"/api/reservations/{sarah.reservation_id}", headers=margot)
        assert reservation.json()["status"] == "expected"  # the refused change did nothing


async def test_host_sign_in_opens_the_host_screen_but_not_the_admin_api(engine: Engine) -> None:
    add_staff(engine, "hugo", "host")
    async with live_service(engine, None) as live, live.client() as manager:
        await seed_venue(manager)
        token = (await login(manager, "hugo")).json()["token"]
        host = {"Authorization": f"Bearer {token}"}
        assert (await manager.get("/api/venues/bistro/alerts", headers=host)).status_code == 200
        r = await manager.get("/api/venues/bistro", headers=host)
        assert r.status_code == 403 and "manager" in r.json()["detail"]


async def test_wrong_password_and_unknown_name_are_refused_alike(engine: Engine) -> None:
    add_staff(engine, "margot", "manager")
    async with live_service(engine, None) as live, httpx.AsyncClient(base_url=live.base) as client:
        wrong = await login(client, "margot", "not the password")
        unknown = await login(client, "nobody")
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()
        assert (await client.post("/api/login", json={"username": "margot"})).status_code == 422


async def test_sign_in_tries_are_limited_per_client(engine: Engine) -> None:
    add_staff(engine, "margot", "manager")
    async with (
        live_service(engine, None, login_burst=3, login_per_minute=1) as live,
        httpx.AsyncClient(base_url=live.base) as client,
    ):
        for _ in range(3):
            assert (await login(client, "margot", "guess")).status_code == 401
        limited = await login(client, "margot")  # even the right password waits now
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) > 0


async def test_every_route_but_the_public_ones_needs_a_staff_token(engine: Engine, live: LiveService) -> None:
    async with httpx.AsyncClient(base_url=live.base) as client:
        spec = (await client.get("/openapi.json")).json()
        ops = operations(spec)
        for method, path in ops:
            if (method, path) not in PUBLIC:
                r = await client.request(method, concrete(path), json={})
                assert r.status_code == 401, (method, path, r.status_code)
        for method, path in ADMIN:
            assert (method, path) in ops
            for role in ("host", "kitchen"):
                r = await client.request(method, concrete(path), json={}, headers=live.headers(role))
                assert r.status_code == 403, (method, path, role, r.status_code)


def test_staff_add_command_makes_an_account_that_can_sign_in(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from maitre.security.staff import authenticate

    monkeypatch.setenv("MAITRE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("MAITRE_STAFF_PASSWORD", PASSWORD)
    args = ["staff", "add", "--username", "margot", "--venue", "bistro", "--role", "manager"]
    assert cli.main(args) == 0
    assert cli.main(args) == 2  # exists already
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setenv("MAITRE_STAFF_PASSWORD", "short")
    assert cli.main([*args[:-1], "host", "--replace"]) == 2  # too short to be a password
    with session_scope(engine) as session:
        account = authenticate(session, "margot", PASSWORD)
        assert account is not None and account.role == "manager"
        assert account.password_hash.startswith("$argon2id$")


async def test_an_account_with_a_scrypt_hash_signs_in_and_is_rehashed_with_argon2(engine: Engine) -> None:
    add_staff(engine, "margot", "manager")
    old = scrypt_hash(PASSWORD)
    set_stored_hash(engine, "margot", old)
    async with live_service(engine, None) as live, httpx.AsyncClient(base_url=live.base) as client:
        assert (await login(client, "margot", "not the password")).status_code == 401
        assert stored_hash(engine, "margot") == old  # a wrong password changes nothing
        r = await login(client, "margot")
        assert r.status_code == 200 and r.json()["role"] == "manager"
        new = stored_hash(engine, "margot")
        assert new.startswith("$argon2id$") and not needs_rehash(new)
        assert (await login(client, "margot")).status_code == 200  # and the new hash lets her in
        assert stored_hash(engine, "margot") == new  # today's cost: left as it is
        assert (await login(client, "margot", PASSWORD + "!")).status_code == 401


async def test_an_argon2_hash_at_an_older_cost_is_raised_on_sign_in(engine: Engine) -> None:
    add_staff(engine, "hugo", "host")
    cheaper = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    set_stored_hash(engine, "hugo", cheaper)
    async with live_service(engine, None) as live, httpx.AsyncClient(base_url=live.base) as client:
        assert (await login(client, "hugo")).status_code == 200
    new = stored_hash(engine, "hugo")
    assert new != cheaper and extract_parameters(new) == RFC_9106_LOW_MEMORY


@pytest.fixture
async def live(engine: Engine) -> AsyncIterator[LiveService]:
    async with live_service(engine, None) as running:
        yield running
