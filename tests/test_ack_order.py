"""Acknowledgements go back in arrival order, so a strict broker (rumqttd) keeps the session."""

from __future__ import annotations

import asyncio
import time

import paho.mqtt.publish as publish
from iotcore import Broker
from sqlalchemy.engine import Engine

from maitre import wire
from maitre.mqtt import BrokerAddress
from maitre.presence import PresenceEvent
from tests.conftest import free_port, live_service
from tests.factories import batch, seed_guest, seed_venue


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
