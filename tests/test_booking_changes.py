"""The booking at the host stand: arrived by hand, no-show, cancelled, late, party size; each undone."""

from __future__ import annotations

import secrets

import httpx
from sqlalchemy.engine import Engine

from tests.conftest import LiveService, live_service
from tests.factories import next_alerts, open_screen, seed_booking, seed_venue


async def change(
    client: httpx.AsyncClient, live: LiveService, kind: str, rid: int, **extra: object
) -> httpx.Response:
    body = {"action_id": secrets.token_hex(8), "kind": kind, "reservation_id": rid, **extra}
    return await client.post(
        "/api/venues/bistro/actions", json=body, headers={"Authorization": f"Bearer {live.token('host')}"}
    )


async def status_of(client: httpx.AsyncClient, rid: int) -> tuple[str, int]:
    r = (await client.get(f"/api/reservations/{rid}")).json()
    return r["status"], r["party_size"]


async def test_a_guest_without_a_band_is_marked_arrived_by_hand_and_every_screen_sees_it(
    engine: Engine,
) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        ivo = await seed_booking(staff, venue_id, "Ivo")  # no band linked, no consent
        host, _ = await open_screen(live.ws, live.token("host"))
        async with host:
            assert (await change(staff, live, "arrive", ivo.reservation_id)).status_code == 201
            [frame] = await next_alerts(host, 1)
            assert frame["kind"] == "booking"
            assert {"change": "arrive", "status": "arrived", "previous_status": "expected"}.items() <= frame[
                "payload"
            ].items()
        assert await status_of(staff, ivo.reservation_id) == ("arrived", 2)
        again = await change(staff, live, "arrive", ivo.reservation_id)
        assert again.status_code == 409 and again.json()["detail"] == (
            "cannot mark as arrived: the party is already here"
        )
        _, snapshot = await open_screen(live.ws, live.token("host"))
        [row] = [r for r in snapshot["reservations"] if r["id"] == ivo.reservation_id]
        assert row["status"] == "arrived"


async def test_no_show_cancel_late_and_party_size_are_undone_in_turn(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        ana = await seed_booking(staff, venue_id, "Ana")
        rid = ana.reservation_id
        assert (await change(staff, live, "late", rid)).status_code == 201
        _, snapshot = await open_screen(live.ws, live.token("host"))
        assert next(r for r in snapshot["reservations"] if r["id"] == rid)["late"] is True
        assert (await change(staff, live, "party_size", rid, party_size=5)).status_code == 201
        assert await status_of(staff, rid) == ("expected", 5)
        assert (await change(staff, live, "no_show", rid)).status_code == 201
        assert await status_of(staff, rid) == ("no_show", 5)
        refused = await change(staff, live, "cancel", rid)
        assert refused.status_code == 409
        assert refused.json()["detail"] == (
            "cannot mark as cancelled: the party is marked as a no-show (undo that first)"
        )
        assert (await change(staff, live, "undo", rid)).status_code == 201
        assert await status_of(staff, rid) == ("expected", 5)
        assert (await change(staff, live, "undo", rid)).status_code == 201
        assert await status_of(staff, rid) == ("expected", 2)
        assert (await change(staff, live, "undo", rid)).status_code == 201
        _, snapshot = await open_screen(live.ws, live.token("host"))
        assert next(r for r in snapshot["reservations"] if r["id"] == rid)["late"] is False
        assert (await change(staff, live, "cancel", rid)).status_code == 201
        assert await status_of(staff, rid) == ("cancelled", 2)


async def test_bad_booking_changes_get_a_clear_answer(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        ana = await seed_booking(staff, venue_id, "Ana")
        rid = ana.reservation_id
        for size in (0, 10_000):
            assert (await change(staff, live, "party_size", rid, party_size=size)).status_code == 422
        missing = await change(staff, live, "party_size", rid)
        assert missing.status_code == 422 and "needs the new party size" in missing.text
        same = await change(staff, live, "party_size", rid, party_size=2)
        assert same.status_code == 409 and same.json()["detail"] == "the party size is already that"
        assert await status_of(staff, rid) == ("expected", 2)  # nothing lost


async def test_a_walk_in_waits_with_a_quoted_time_and_their_phone_hears_the_table_is_ready(
    engine: Engine,
) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        await seed_venue(staff)
        auth = {"Authorization": f"Bearer {live.token('host')}"}
        for name in ("", "   "):
            nameless = await staff.post(
                "/api/venues/bistro/walk-ins", json={"name": name, "party_size": 2}, headers=auth
            )
            assert nameless.status_code == 422
            assert nameless.json()["detail"] == "Give the walk-in a name to call them by."
        host, _ = await open_screen(live.ws, live.token("host"))
        async with host:
            r = await staff.post(
                "/api/venues/bistro/walk-ins",
                json={"name": "Rosa Costa", "party_size": 3, "quoted_minutes": 20},
                headers=auth,
            )
            assert r.status_code == 201
            walk_in = r.json()
            [frame] = await next_alerts(host, 1)
            assert {"change": "walk_in", "name": "Rosa C.", "quoted_minutes": 20}.items() <= frame[
                "payload"
            ].items()
        rid = walk_in["reservation_id"]
        _, snapshot = await open_screen(live.ws, live.token("host"))
        [row] = [r for r in snapshot["reservations"] if r["id"] == rid]
        assert row["status"] == "arrived" and row["waiting"]["quoted_minutes"] == 20

        async with httpx.AsyncClient(base_url=live.base) as anon:
            found = await anon.post(
                "/api/guest/session", json={"code": walk_in["code"], "last_name": walk_in["last_name"]}
            )
            phone = {"Authorization": f"Bearer {found.json()['token']}"}
            me = (await anon.get("/api/guest/me", headers=phone)).json()
            assert me["status_line"] == (
                "You're on the waitlist. The wait is about 20 minutes. "
                "This page tells you when your table is ready."
            )
            assert (await change(staff, live, "ready", rid)).status_code == 201
            me = (await anon.get("/api/guest/me", headers=phone)).json()
            assert me["status_line"] == "Your table is ready! Please come to the host stand."
            assert (await change(staff, live, "undo", rid)).status_code == 201
            me = (await anon.get("/api/guest/me", headers=phone)).json()
            assert me["status_line"].startswith("You're on the waitlist.")
