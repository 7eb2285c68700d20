"""A venue's figures from real arrivals and seatings: greeted by name, time to seat, kitchen lead, repeats."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.engine import Engine

from tests.conftest import live_service, wait_until
from tests.factories import presence as arrival
from tests.factories import seed_venue, staff_action
from tests.test_consent import checked_in


async def test_figures_count_greetings_seat_times_kitchen_lead_and_repeat_visits(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        await seed_venue(staff)
        named = await checked_in(live, staff, "Sarah", greeting=True, kitchen=True)
        anonymous = await checked_in(live, staff, "Paul", kitchen=True)  # the kitchen may, the host may not
        await checked_in(live, staff, "Lars")  # books, never comes
        for booking in (named, anonymous):
            live.service.submit(arrival(booking.advertiser_id))
        await wait_until(lambda: len(live.service.alert_latencies) >= 2, what="both arrivals handled")
        await asyncio.sleep(0.3)  # a moment at the door before the host seats them
        for booking in (named, anonymous):
            r = await staff_action(staff, live.token("host"), "seat", booking.reservation_id, table="7")
            assert r.status_code == 201
        figures: dict[str, Any] = (await staff.get("/api/venues/bistro/insights")).json()
        assert figures["reservations"] == 3 and figures["arrived"] == 2
        assert figures["greeted_by_name"] == 1 and figures["greeted_share"] == 0.5
        assert figures["arrival_to_seat_s"]["n"] == 2 and figures["arrival_to_seat_s"]["median"] >= 0.2
        assert figures["kitchen_started_on_arrival"] == 2
        assert figures["kitchen_lead_s"]["n"] == 2 and figures["kitchen_lead_s"]["median"] >= 0.2
        assert figures["repeat_guests"] == 0 and figures["repeat_rate"] == 0.0
        async with live.client("host") as host:
            assert (await host.get("/api/venues/bistro/insights")).status_code == 403
        page = await staff.get("/screens/insights.html")
        script = await staff.get("/screens/insights.js")  # a file of its own: the CSP allows no inline one
        assert page.status_code == 200 and '<script src="insights.js">' in page.text
        assert script.status_code == 200 and "/insights?days=" in script.text
