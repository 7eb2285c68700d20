"""A database that is briefly unavailable delays a greeting; it never loses it or sends it twice."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import paho.mqtt.publish as publish
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from maitre import wire
from maitre.models import AlertRead
from maitre.mqtt import BrokerAddress
from maitre.presence import PresenceEvent
from tests.conftest import live_service
from tests.factories import batch, next_alerts, open_screen, seed_guest, seed_venue

OUTAGE_S = 3.0  # long enough for several refused writes and retries, short enough for CI


async def test_arrival_during_a_database_outage_is_greeted_once_when_it_returns(
    engine: Engine, broker: BrokerAddress
) -> None:
    async with live_service(engine, broker) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah")
        arrivals = live.service.arrivals
        handle = arrivals.handle
        back_at = time.monotonic() + OUTAGE_S
        refused = 0

        def database_down_for_a_while(event: PresenceEvent) -> list[AlertRead]:
            # The fault is injected where the service meets its database: every write fails
            # as a dropped connection does, until the outage is over.
            nonlocal refused
            if time.monotonic() < back_at:
                refused += 1
                raise OperationalError("INSERT …", {}, ConnectionError("server closed the connection"))
            return handle(event)

        arrivals.handle = database_down_for_a_while  # type: ignore[method-assign]
        host, _ = await open_screen(live.ws, live.token("host"), "host")
        async with host:
            topic = wire.sightings_topic("bistro", "door")
            now = time.time()
            for seq in range(4):
                payload = wire.encode(batch("door", seq, [(sarah.advertiser_id, -50.0)], t=now + 0.6 * seq))
                await asyncio.to_thread(
                    publish.single, topic, payload, qos=1, hostname=broker.host, port=broker.port
                )
            seen: list[dict[str, Any]] = []
            while not any(a["kind"] == "greet" for a in seen):
                seen += await next_alerts(host, 1, timeout=OUTAGE_S + 15)
            greets = [a for a in seen if a["kind"] == "greet"]
            assert [g["payload"]["name"] for g in greets] == ["Sarah"]
            await asyncio.sleep(1.0)
        assert refused >= 2  # it really was refused while down, and retried
        listed = (await client.get("/api/venues/bistro/alerts", headers=live.headers("host"))).json()
        assert [a["kind"] for a in listed].count("greet") == 1
