"""Screens reconnecting in bulk (a venue's Wi-Fi comes back): each resumes exactly where it was."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from tests.conftest import live_service
from tests.factories import next_alerts, open_screen, presence, seed_guest, seed_venue

SCREENS = 150  # a resort's worth of host tablets on one instance, reconnecting at once


async def test_screens_reconnecting_at_once_each_get_exactly_the_alerts_they_missed(engine: Engine) -> None:
    # Every tablet connects from this machine's one address here: lift the per-address cap for them.
    async with live_service(engine, None, screens_per_address=SCREENS) as live, live.client() as client:
        venue_id = await seed_venue(client)
        guests = [await seed_guest(client, venue_id, f"Guest{i}") for i in range(3)]
        token = live.token("host")
        first = await asyncio.gather(*(open_screen(live.ws, token, "host") for _ in range(SCREENS)))
        live.service.submit(presence(guests[0].advertiser_id))
        seen = await asyncio.gather(*(next_alerts(ws, 1, timeout=30) for ws, _ in first))
        last = {alerts[0]["seq"] for alerts in seen}
        assert len(last) == 1  # every screen saw the same first greeting
        (since,) = last
        await asyncio.gather(*(ws.close() for ws, _ in first))

        # While every screen is away, two more parties arrive.
        for g in guests[1:]:
            live.service.submit(presence(g.advertiser_id))
        await asyncio.sleep(1.0)

        again = await asyncio.gather(
            *(open_screen(live.ws, token, "host", since=since) for _ in range(SCREENS))
        )
        try:
            for ws, opening in again:
                assert opening["type"] == "resume"
                missed = [f for f in opening.get("alerts", []) if f.get("type") == "alert"]
                if not missed:
                    missed = await next_alerts(ws, 2, timeout=30)
                names = [a["payload"]["name"] for a in missed if a["kind"] == "greet"]
                assert names == ["Guest1", "Guest2"]
                assert all(a["seq"] > since for a in missed)
        finally:
            await asyncio.gather(*(ws.close() for ws, _ in again))
