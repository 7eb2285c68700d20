"""The guest's phone against the real service: sign in with a code, reach only that reservation."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.engine import Engine

from maitre.models import RESERVATION_CODE_ALPHABET, RESERVATION_CODE_LENGTH
from tests.conftest import live_service
from tests.factories import guest_session, seed_booking, seed_venue


async def test_guest_finds_the_reservation_by_code_and_last_name_and_sees_only_it(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        ngozi = await seed_booking(staff, venue_id, "Ngozi", "Okafor")
        other = await seed_booking(staff, venue_id, "Lars", "Nilsson")
        assert re.fullmatch(f"[{RESERVATION_CODE_ALPHABET}]{{{RESERVATION_CODE_LENGTH}}}", ngozi.code)
        assert ngozi.code != other.code

        async with httpx.AsyncClient(base_url=live.base) as anon:
            # Codes are forgiving about case, spaces and dashes, and names about case.
            spaced = f" {ngozi.code[:5].lower()}-{ngozi.code[5:]} "
            r = await anon.post("/api/guest/session", json={"code": spaced, "last_name": "OKAFOR"})
            assert r.status_code == 200, r.text
            token = r.json()["token"]
            assert token.startswith("mg1.")
            me = (await anon.get("/api/guest/me", headers={"Authorization": f"Bearer {token}"})).json()
        assert me["reservation"]["id"] == ngozi.reservation_id
        assert me["guest"]["first_name"] == "Ngozi"
        assert me["consents"] == {"greeting": False, "kitchen": False, "allergies": False, "marketing": False}
        assert "Link your band" in me["status_line"]

        # The guest token opens no staff route, and a staff token opens no guest route.
        guest_headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=live.base, headers=guest_headers) as guest:
            assert (await guest.get(f"/api/reservations/{other.reservation_id}")).status_code == 401
            assert (await guest.get("/api/venues/bistro/alerts")).status_code == 401
            assert (await guest.get(f"/api/venues/bistro/guests/{other.guest_id}/profile")).status_code == 401
        assert (await staff.get("/api/guest/me")).status_code == 401


async def test_wrong_codes_and_names_get_one_answer_and_guessing_is_rate_limited(engine: Engine) -> None:
    async with (
        live_service(engine, None, checkin_burst=6, checkin_per_minute=1) as live,
        live.client() as staff,
        httpx.AsyncClient(base_url=live.base) as anon,
    ):
        venue_id = await seed_venue(staff)
        ngozi = await seed_booking(staff, venue_id, "Ngozi", "Okafor")
        answers = [
            await anon.post("/api/guest/session", json={"code": code, "last_name": name})
            for code, name in (
                ("ZZZZZZZZZZ", "Okafor"),  # no such code
                (ngozi.code, "Nilsson"),  # right code, wrong name
                ("0OIL1", "Okafor"),  # characters no code has
                ("'; DROP TABLE guest; --", "x"),
            )
        ]
        assert [a.status_code for a in answers] == [404, 404, 404, 404]
        assert len({a.json()["detail"] for a in answers}) == 1  # nothing tells them apart
        # The client's budget (6) runs out: even the right answer now waits.
        for _ in range(2):
            await anon.post("/api/guest/session", json={"code": "ZZZZZZZZZZ", "last_name": "x"})
        r = await anon.post("/api/guest/session", json={"code": ngozi.code, "last_name": "Okafor"})
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) >= 1


async def test_tokens_are_scoped_forged_and_expired_ones_refused(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        ngozi = await seed_booking(staff, venue_id, "Ngozi", "Okafor")
        lars = await seed_booking(staff, venue_id, "Lars", "Nilsson")
        assert live.signer is not None
        expired = live.signer.issue_guest(ngozi.reservation_id, ngozi.guest_id, minutes=-1)
        # A token naming Lars's reservation but Ngozi as guest (as if claims were mixed) is refused.
        mixed = live.signer.issue_guest(lars.reservation_id, ngozi.guest_id, minutes=5)
        forged = live.signer.issue_guest(ngozi.reservation_id, ngozi.guest_id, minutes=5)[:-4] + "AAAA"
        async with httpx.AsyncClient(base_url=live.base) as anon:
            for bad in (expired, mixed, forged, live.token("manager"), "mg1.e30.AAAA", "x" * 5000):
                r = await anon.get("/api/guest/me", headers={"Authorization": f"Bearer {bad}"})
                assert r.status_code == 401, bad[:20]
                assert "Ngozi" not in r.text and "Lars" not in r.text


async def test_band_links_by_printed_code_and_someone_elses_band_is_refused(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        ngozi = await seed_booking(staff, venue_id, "Ngozi", "Okafor")
        lars = await seed_booking(staff, venue_id, "Lars", "Nilsson", link_band=True)
        async with await guest_session(live.base, ngozi) as phone:
            assert (await phone.post("/api/guest/me/bands", json={"label": "NOPE42"})).status_code == 404
            taken = await phone.post("/api/guest/me/bands", json={"label": lars.band_label})
            assert taken.status_code == 409
            assert "Lars" not in taken.text and "Nilsson" not in taken.text
            r = await phone.post("/api/guest/me/bands", json={"label": ngozi.band_label.lower()})
            assert r.status_code == 201
            me = (await phone.get("/api/guest/me")).json()
            assert me["bands"] == [{"label": ngozi.band_label}]
        bands = (await staff.get("/api/bands", params={"guest_id": lars.guest_id})).json()
        assert [b["label"] for b in bands] == [lars.band_label]  # Lars kept his band


async def test_guest_text_is_bounded_and_control_characters_refused(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        ngozi = await seed_booking(staff, venue_id, "Ngozi", "Okafor")
        async with await guest_session(live.base, ngozi) as phone:
            for bad in (
                {"preferred_name": "N" * 101},
                {"notes": "x" * 501},
                {"allergies": ["peanuts"] * 21},
                {"preferred_name": "Ngozi\u0000\u001b[31m"},
            ):
                r = await phone.put("/api/guest/me/preferences", json=bad)
                assert r.status_code == 422, bad
            markup = "<img src=x onerror=alert(1)>"
            r = await phone.put("/api/guest/me/preferences", json={"preferred_name": markup, "notes": markup})
            assert r.status_code == 200
            assert (await phone.get("/api/guest/me")).json()["preferences"]["preferred_name"] == markup


async def test_guest_pre_orders_from_the_venues_menu_until_the_kitchen_starts(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        dish = (
            await staff.post(
                "/api/venues/bistro/menu",
                json={"name": "Duck confit", "prep_minutes": 18, "price_cents": 2400},
            )
        ).json()
        async with live.client(venue="cafe") as cafe:
            await seed_venue(cafe, "cafe")
            elsewhere = (await cafe.post("/api/venues/cafe/menu", json={"name": "Croissant"})).json()
        off = (
            await staff.post("/api/venues/bistro/menu", json={"name": "Soufflé", "available": False})
        ).json()
        ngozi = await seed_booking(staff, venue_id, "Ngozi", "Okafor")
        async with await guest_session(live.base, ngozi) as phone:
            menu = (await phone.get("/api/guest/menu")).json()
            assert [d["name"] for d in menu] == ["Duck confit"]
            for other in (elsewhere["id"], off["id"], 99999):
                assert (
                    await phone.post("/api/guest/me/items", json={"menu_item_id": other})
                ).status_code == 404
            r = await phone.post("/api/guest/me/items", json={"menu_item_id": dish["id"], "quantity": 2})
            assert r.status_code == 201
            assert r.json()["prep_minutes"] == 18  # the kitchen plans with the menu's prep time
        items = (await staff.get(f"/api/reservations/{ngozi.reservation_id}/items")).json()
        assert [(i["name"], i["quantity"]) for i in items] == [("Duck confit", 2)]
        # Once seated, the order is the server's business.
        await staff.patch(f"/api/reservations/{ngozi.reservation_id}", json={"status": "seated"})
        async with await guest_session(live.base, ngozi) as phone:
            r = await phone.post("/api/guest/me/items", json={"menu_item_id": dish["id"]})
            assert r.status_code == 409
            assert (await phone.get("/api/guest/me")).json()["can_preorder"] is False
