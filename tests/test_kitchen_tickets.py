"""Kitchen tickets against the real service: courses, per-dish bumps, allergy acknowledgements, table."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import select

from maitre.db import session_scope
from maitre.models import Alert, AlertKind
from tests.conftest import LiveService, live_service
from tests.factories import (
    Booking,
    SeededGuest,
    guest_session,
    next_alerts,
    open_screen,
    seed_guest,
    seed_venue,
    staff_action,
)
from tests.factories import presence as arrived


async def ticket_of(live: LiveService, guest: SeededGuest) -> dict[str, Any]:
    """The ticket as a kitchen screen opening now would get it."""
    ws, snapshot = await open_screen(live.ws, live.token("kitchen"), role="kitchen")
    await ws.close()
    (ticket,) = [t for t in snapshot["tickets"] if t["reservation_id"] == guest.reservation_id]
    return ticket


async def order(client: httpx.AsyncClient, guest: SeededGuest, *dishes: tuple[str, str | None]) -> None:
    for name, course in dishes:
        r = await client.post(
            f"/api/reservations/{guest.reservation_id}/items", json={"name": name, "course": course}
        )
        assert r.status_code == 201, r.text


async def kitchen(
    live: LiveService, client: httpx.AsyncClient, kind: str, guest: SeededGuest, **extra: Any
) -> httpx.Response:
    body = {"action_id": secrets.token_hex(8), "kind": kind, "reservation_id": guest.reservation_id, **extra}
    return await client.post(
        "/api/venues/bistro/actions", json=body, headers={"Authorization": f"Bearer {live.token('kitchen')}"}
    )


async def test_starters_fire_on_arrival_and_mains_wait_for_a_cooks_tap(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah", items=())
        await order(
            client, sarah, ("Soup", "starter"), ("Bread", None), ("Steak", "main"), ("Tart", "dessert")
        )
        live.service.submit(arrived(sarah.advertiser_id))
        await _until_ticket(live, sarah)

        ticket = await ticket_of(live, sarah)
        assert [i["name"] for i in ticket["items"]] == ["Soup", "Bread"]
        assert [i["name"] for i in ticket["held"]] == ["Steak", "Tart"]
        refused = await kitchen(live, client, "bump", sarah)
        assert refused.status_code == 409
        assert refused.json()["detail"] == (
            "2 held dishes (main, dessert) not fired yet: fire them, or they would leave the rail unmade."
        )

        fired = await kitchen(live, client, "fire", sarah)
        assert fired.status_code == 201 and fired.json()["kind"] == "kitchen_fire"
        assert [i["name"] for i in fired.json()["payload"]["items"]] == ["Steak"]  # one course per tap
        assert (await kitchen(live, client, "fire", sarah)).status_code == 201
        ticket = await ticket_of(live, sarah)
        assert [i["name"] for i in ticket["items"]] == ["Soup", "Bread", "Steak", "Tart"]
        assert ticket["held"] == []
        nothing = await kitchen(live, client, "fire", sarah)
        assert nothing.status_code == 409
        assert nothing.json()["detail"] == "Nothing is held on this ticket: every dish is already fired."
        assert (await kitchen(live, client, "bump", sarah)).status_code == 201


async def test_one_dish_is_bumped_and_recalled_without_touching_the_others(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah", items=())
        await order(client, sarah, ("Soup", "starter"), ("Salad", "starter"), ("Steak", "main"))
        live.service.submit(arrived(sarah.advertiser_id))
        await _until_ticket(live, sarah)
        ticket = await ticket_of(live, sarah)
        soup, salad, steak = [i["id"] for i in ticket["items"] + ticket["held"]]

        assert (await kitchen(live, client, "bump", sarah, item_id=soup)).status_code == 201
        again = await kitchen(live, client, "bump", sarah, item_id=soup)
        assert again.status_code == 409 and again.json()["detail"] == "That dish is already marked done."
        held = await kitchen(live, client, "bump", sarah, item_id=steak)
        assert (
            held.status_code == 409 and held.json()["detail"] == "That dish is held: fire its course first."
        )
        stranger = await kitchen(live, client, "bump", sarah, item_id=999_999)
        assert stranger.status_code == 404
        ticket = await ticket_of(live, sarah)
        assert ticket["done"] == [soup] and ticket["bumped_at"] is None

        assert (await kitchen(live, client, "recall", sarah, item_id=soup)).status_code == 201
        assert (await kitchen(live, client, "bump", sarah, item_id=salad)).status_code == 201
        assert (await ticket_of(live, sarah))["done"] == [salad]


async def test_an_unacknowledged_allergy_blocks_bumps_and_the_acknowledgement_records_who_and_when(
    engine: Engine,
) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah", allergies=("peanuts",), items=())
        await order(client, sarah, ("Soup", None))
        live.service.submit(arrived(sarah.advertiser_id))
        await _until_ticket(live, sarah)
        soup = (await ticket_of(live, sarah))["items"][0]["id"]

        for extra in ({}, {"item_id": soup}):
            refused = await kitchen(live, client, "bump", sarah, **extra)
            assert refused.status_code == 409
            assert refused.json()["detail"] == (
                "Read the allergy (peanuts) and tap Acknowledge first: nothing was bumped."
            )
        assert (await ticket_of(live, sarah))["done"] == []  # nothing lost, nothing half-done

        ack = await kitchen(live, client, "allergen_ack", sarah, by="  Marco ")
        assert ack.status_code == 201 and ack.json()["payload"]["by"] == "Marco"
        twice = await kitchen(live, client, "allergen_ack", sarah, by="Ana")
        assert twice.status_code == 409
        assert twice.json()["detail"] == "The allergy is already acknowledged by Marco."
        ticket = await ticket_of(live, sarah)
        assert ticket["allergens_acknowledged"] is True
        assert ticket["allergens_acknowledged_by"] == "Marco"
        acked_at = datetime.fromisoformat(ticket["allergens_acknowledged_at"])
        assert acked_at == datetime.fromisoformat(ack.json()["created_at"])
        assert (await kitchen(live, client, "bump", sarah)).status_code == 201


async def test_ticket_carries_table_kitchen_notes_occasion_and_allergen_warnings(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah", allergies=("peanut",), items=())
        r = await client.put(
            f"/api/guests/{sarah.guest_id}/preferences",
            json={
                "allergies": ["peanut"],
                "occasion": "Birthday",
                "notes": "Prefers the window. A candle on the dessert, please! Mild on the chilli.",
            },
        )
        assert r.status_code == 200
        r = await client.post(
            "/api/venues/bistro/menu",
            json={"name": "Chicken skewers", "description": "Grilled, with satay sauce", "allergens": []},
        )
        assert r.status_code == 201
        await order(client, sarah, ("Chicken skewers", "starter"), ("Steak", "main"))
        ws, _ = await open_screen(live.ws, live.token("kitchen"), role="kitchen")
        async with ws:
            live.service.submit(arrived(sarah.advertiser_id))
            (start,) = await next_alerts(ws, 1)
            p = start["payload"]
            assert p["table"] is None
            assert p["occasion"] == "Birthday"
            assert p["notes"] == ["A candle on the dessert, please!", "Mild on the chilli."]
            assert [(w["item"], w["allergy"], w["allergens"]) for w in p["allergen_warnings"]] == [
                ("Chicken skewers", "peanut", ["peanuts"])
            ]

            host = live.token("host")
            assert (
                await staff_action(client, host, "seat", sarah.reservation_id, table="7")
            ).status_code == 201
            (table,) = await next_alerts(
                ws, 1
            )  # the kitchen hears of the table, not of the host's other taps
            assert (table["kind"], table["payload"]["table"]) == ("seat", "7")
            assert (await ticket_of(live, sarah))["table"] == "7"
            assert (await staff_action(client, host, "undo", sarah.reservation_id)).status_code == 201
            (untable,) = await next_alerts(ws, 1)
            assert (untable["kind"], untable["payload"]["table"]) == ("undo", None)
        assert (await ticket_of(live, sarah))["table"] is None


async def _until_ticket(live: LiveService, guest: SeededGuest) -> None:
    ws, snapshot = await open_screen(live.ws, live.token("kitchen"), role="kitchen")
    async with ws:
        if not any(t["reservation_id"] == guest.reservation_id for t in snapshot["tickets"]):
            await next_alerts(ws, 1)


async def test_erasing_the_guest_wipes_the_allergy_clash_and_notes_from_the_stored_ticket(
    engine: Engine,
) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        mei = await seed_guest(client, venue_id, "Mei", allergies=("peanut",), items=())
        r = await client.put(
            f"/api/guests/{mei.guest_id}/preferences",
            json={"allergies": ["peanut"], "notes": "Candle on the dessert please."},
        )
        assert r.status_code == 200
        await order(client, mei, ("Peanut satay skewers", "starter"))
        live.service.submit(arrived(mei.advertiser_id))
        await _until_ticket(live, mei)
        code = (await client.get(f"/api/reservations/{mei.reservation_id}")).json()["code"]
        booking = Booking(mei.guest_id, mei.reservation_id, code, "Test", "", mei.advertiser_id)
        async with await guest_session(live.base, booking) as phone:
            assert (await phone.delete("/api/guest/me")).status_code == 200

    with session_scope(engine) as session:
        start = session.exec(
            select(Alert).where(
                Alert.reservation_id == mei.reservation_id, Alert.kind == AlertKind.KITCHEN_START
            )
        ).one()
        assert start.payload["allergen_warnings"] == [] and start.payload["allergies"] == []
        assert start.payload["notes"] is None and start.payload["party"] != "Mei T."


async def test_a_slow_main_starts_on_approach_and_arrival_fires_the_starters_but_not_dessert(
    engine: Engine,
) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah", items=())
        for name, course, prep in (
            ("Wellington", "main", 40),
            ("Soup", "starter", 5),
            ("Tart", "dessert", 10),
        ):
            r = await client.post(
                f"/api/reservations/{sarah.reservation_id}/items",
                json={"name": name, "course": course, "prep_minutes": prep},
            )
            assert r.status_code == 201
        ws, _ = await open_screen(live.ws, live.token("kitchen"), role="kitchen")
        async with ws:
            live.service.submit(arrived(sarah.advertiser_id, kind="approaching"))
            (start,) = await next_alerts(ws, 1)
            assert [i["name"] for i in start["payload"]["items"]] == ["Wellington"]
            assert [i["name"] for i in start["payload"]["held"]] == ["Soup", "Tart"]
            live.service.submit(arrived(sarah.advertiser_id))
            (fire,) = await next_alerts(ws, 1)
            assert fire["kind"] == "kitchen_fire" and [i["name"] for i in fire["payload"]["items"]] == [
                "Soup"
            ]
        ticket = await ticket_of(live, sarah)
        assert ticket["arrived"] is True
        assert [i["name"] for i in ticket["items"]] == ["Wellington", "Soup"]
        assert [i["name"] for i in ticket["held"]] == ["Tart"]
