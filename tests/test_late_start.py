"""A pre-order reaches the kitchen when the door did not start it: consent after arrival, seated by hand."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from tests.conftest import live_service, wait_until
from tests.factories import guest_session, next_alerts, open_screen, seed_venue, staff_action
from tests.factories import presence as arrival
from tests.test_consent import alerts_of, checked_in


async def test_kitchen_consent_given_after_arrival_starts_the_pre_order_at_once(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        await seed_venue(staff)
        noor = await checked_in(live, staff, "Noor", greeting=True, allergies=True)
        kitchen, _ = await open_screen(live.ws, live.token("kitchen"), role="kitchen")
        async with kitchen:
            live.service.submit(arrival(noor.advertiser_id))
            await wait_until(lambda: len(live.service.alert_latencies) >= 1, what="the arrival handled")
            assert "kitchen_start" not in await alerts_of(staff, noor.reservation_id)

            async with await guest_session(live.base, noor) as phone:
                (await phone.put("/api/guest/me/consent", json={"kitchen": True})).raise_for_status()
                me = (await phone.get("/api/guest/me")).json()
            [ticket] = await next_alerts(kitchen, 1)
            assert ticket["kind"] == "kitchen_start"
            assert ticket["payload"]["started_on"] == "consent"
            assert [i["name"] for i in ticket["payload"]["items"]] == ["Burrata"]
            assert ticket["payload"]["allergies"] == ["sesame"]
            assert me["can_preorder"] is False  # the kitchen has it now

            # Turning it off and on again does not start a second ticket.
            async with await guest_session(live.base, noor) as phone:
                (await phone.put("/api/guest/me/consent", json={"kitchen": False})).raise_for_status()
                (await phone.put("/api/guest/me/consent", json={"kitchen": True})).raise_for_status()
            kinds = [a["kind"] for a in (await staff.get("/api/venues/bistro/alerts?role=kitchen")).json()]
            assert kinds == ["kitchen_start"]


async def test_kitchen_consent_before_arrival_waits_for_the_door(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        await seed_venue(staff)
        ana = await checked_in(live, staff, "Ana", greeting=True)
        async with await guest_session(live.base, ana) as phone:
            (await phone.put("/api/guest/me/consent", json={"kitchen": True})).raise_for_status()
        assert "kitchen_start" not in await alerts_of(staff, ana.reservation_id)


async def test_seating_a_party_by_hand_starts_its_pre_order(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        await seed_venue(staff)
        lars = await checked_in(live, staff, "Lars", allergies=True)  # no band consent at all
        kitchen, _ = await open_screen(live.ws, live.token("kitchen"), role="kitchen")
        async with kitchen:
            seat = await staff_action(staff, live.token("host"), "seat", lars.reservation_id, table="7")
            assert seat.status_code == 201
            [ticket] = await next_alerts(kitchen, 1)
            assert ticket["kind"] == "kitchen_start"
            assert ticket["payload"]["started_on"] == "seated"
            assert ticket["payload"]["allergies"] == ["sesame"]  # shared with staff: the kitchen needs it
            # Undo and seat again: still one ticket.
            await staff_action(staff, live.token("host"), "undo", lars.reservation_id)
            await staff_action(staff, live.token("host"), "seat", lars.reservation_id, table="8")
            kinds = [a["kind"] for a in (await staff.get("/api/venues/bistro/alerts?role=kitchen")).json()]
            # One ticket; the seat, its undo and the new seat reach the kitchen as the ticket's table.
            assert kinds == ["kitchen_start", "seat", "undo", "seat"]


async def test_seating_without_a_pre_order_starts_no_ticket(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        await seed_venue(staff)
        from tests.factories import seed_booking

        venue_id = (await staff.get("/api/venues/bistro")).json()["id"]
        booking = await seed_booking(staff, venue_id, "Ivo")
        seat = await staff_action(staff, live.token("host"), "seat", booking.reservation_id, table="2")
        assert seat.status_code == 201
        assert (await staff.get("/api/venues/bistro/alerts?role=kitchen")).json() == []
