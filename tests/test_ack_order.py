"""Acknowledgements go back in arrival order, so a strict broker (rumqttd) keeps the session."""

from __future__ import annotations

import asyncio
import time

import paho.mqtt.publish as publish
from iotcore import Broker
from sqlalchemy.engine import Engine

from maitre import wire
from maitre.ingest.stats import Drop
from maitre.mqtt import BrokerAddress
from maitre.presence import PresenceEvent
from tests.conftest import free_port, live_service, wait_until
from tests.factories import batch, seed_guest, seed_venue

UNKNOWN = "band:ffffffffffffffff"  # nobody wears it: batches that need no database


async def test_batches_finishing_out_of_order_do_not_cost_the_session(engine: Engine) -> None:
    port = free_port()
    with Broker(port=port, listen="127.0.0.1"):
        async with live_service(engine, BrokerAddress("127.0.0.1", port)) as live, live.client() as client:
            venue_id = await seed_venue(client)
            guests = [await seed_guest(client, venue_id, f"G{i}") for i in range(4)]
            arrivals = live.service.arrivals
            handle = arrivals.handle

            def slow_database(event: PresenceEvent) -> object:
                time.sleep(0.3)  # a busy database: this batch's ack waits while later ones are done
                return handle(event)

            arrivals.handle = slow_database  # type: ignore[method-assign]
            topic = wire.sightings_topic("bistro", "door")
            now = time.time()
            messages = []
            seq = 0
            for g in guests:
                # Two strong batches 0.6 s apart (gateway time) decide an arrival; unknown bands
                # in between need no database and would be acknowledged first.
                for k in range(2):
                    messages.append(
                        wire.encode(batch("door", seq, [(g.advertiser_id, -50)], t=now + 0.6 * k))
                    )
                    seq += 1
                    messages.append(wire.encode(batch("door", seq, [("band:ffffffffffffffff", -50)], t=now)))
                    seq += 1
            msgs = [{"topic": topic, "payload": m, "qos": 1} for m in messages]
            await asyncio.to_thread(publish.multiple, msgs, hostname="127.0.0.1", port=port)
            await asyncio.sleep(3.0)
            ingress = live.service.ingress
            assert ingress is not None
            assert ingress.lost == 0
            stats = (await client.get("/api/ingest/stats")).json()
            assert stats["batches"] == len(messages)
            assert stats["presence_events"] >= len(guests)


async def test_a_burst_of_batches_is_ingested_and_acknowledged_in_arrival_order(engine: Engine) -> None:
    port = free_port()
    with Broker(port=port, listen="127.0.0.1"):
        async with (
            live_service(engine, BrokerAddress("127.0.0.1", port), gateway_burst_messages=0) as live,
            live.client() as client,
        ):
            await seed_venue(client)
            service = live.service
            check = service.ingest.dedupe.check  # asked once per batch, in the order they are handled
            handled: list[int] = []

            def recording(venue: str, gateway: str, boot: str, seq: int) -> Drop | None:
                handled.append(seq)
                return check(venue, gateway, boot, seq)

            service.ingest.dedupe.check = recording  # type: ignore[method-assign]
            topic = wire.sightings_topic("bistro", "door")
            now = time.time()
            # Far more than paho delivers between two turns of the event loop: bursts handed over at once.
            count = 500
            msgs = [
                {
                    "topic": topic,
                    "payload": wire.encode(batch("door", seq, [(UNKNOWN, -60)], t=now)),
                    "qos": 1,
                }
                for seq in range(count)
            ]
            await asyncio.to_thread(publish.multiple, msgs, hostname="127.0.0.1", port=port)
            await wait_until(lambda: len(handled) == count, what="every batch handled")
            await asyncio.sleep(0.5)  # the strict broker would drop a session acked out of order
            ingress = service.ingress
            assert ingress is not None
            assert handled == list(range(count))
            assert ingress.lost == 0
            stats = (await client.get("/api/ingest/stats")).json()
            assert stats["batches"] == count
