"""End to end through real parts: simulated bands → gateway agents → Mosquitto → service → websocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import paho.mqtt.publish as publish
import pytest
import websockets
from sqlalchemy.engine import Engine

from maitre import wire
from maitre.gateway.agent import GatewayAgent
from maitre.gateway.settings import RunSettings
from maitre.mqtt import BrokerAddress
from maitre.sim.air import Air
from maitre.sim.radio import RadioModel
from maitre.sim.scene import Scene
from maitre.sim.source import SimulatedSource
from maitre.sim.venue import demo_layout
from tests.conftest import live_service
from tests.factories import batch, open_screen, seed_guest, seed_venue

# A quiet evening's radio, so the scene below plays out the same way every run.
CALM_RADIO = RadioModel(shadowing_db=1.5, fading_db=1.5, loss=0.05)
SCENE_SECONDS = 13.0


async def collect(ws: websockets.ClientConnection, into: list[dict[str, Any]]) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        async for frame in ws:
            msg = json.loads(frame)
            if msg["type"] == "alert":
                into.append(msg)


@pytest.mark.parametrize("encoding", ["json", "packed"])
async def test_guest_is_greeted_once_and_kitchen_starts_once_while_others_get_nothing(
    engine: Engine, broker: BrokerAddress, encoding: wire.BatchEncoding
) -> None:
    async with live_service(engine, broker) as live, live.client() as client:
        venue_id = await seed_venue(client)
        layout = demo_layout()
        air = Air(layout, CALM_RADIO, seed=3)
        scene = Scene(air, seed=3)
        sarah_band, paul_band, lars_band, stranger_band = (scene.new_band() for _ in range(4))
        sarah = await seed_guest(client, venue_id, "Sarah", sarah_band.advertiser_id, allergies=("peanuts",))
        # Paul has a reservation tonight but only walks past the door.
        await seed_guest(client, venue_id, "Paul", paul_band.advertiser_id)
        # Lars has a reservation but never consented to being recognised.
        await seed_guest(client, venue_id, "Lars", lars_band.advertiser_id, consent=False)

        scene.guest_arrives("Sarah", sarah_band, start=0.5, walk_m=4)
        scene.guest_arrives("Lars", lars_band, start=1.0, walk_m=5, from_left=False)
        scene.guest_arrives("stranger", stranger_band, start=1.5, walk_m=3)
        scene.passer_by("Paul", paul_band, start=0.0, half=7)

        host_frames: list[dict[str, Any]] = []
        kitchen_frames: list[dict[str, Any]] = []
        host, _ = await open_screen(live.ws, live.token("host"), "host")
        kitchen, _ = await open_screen(live.ws, live.token("kitchen"), "kitchen")
        async with host, kitchen:
            readers = [
                asyncio.create_task(collect(host, host_frames)),
                asyncio.create_task(collect(kitchen, kitchen_frames)),
            ]
            settings = RunSettings(encoding=encoding)  # packed: what a busy venue's gateways send
            agents = [GatewayAgent("bistro", g.name, broker, settings) for g in layout.gateways]
            tasks = [asyncio.create_task(a.run(SimulatedSource(air, a.gateway))) for a in agents]
            tasks.append(asyncio.create_task(air.run()))
            await asyncio.sleep(SCENE_SECONDS)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.sleep(0.5)
            for r in readers:
                r.cancel()

        greets = [f for f in host_frames if f["kind"] == "greet"]
        assert [g["payload"]["name"] for g in greets] == ["Sarah"]
        assert greets[0]["payload"]["allergies"] == ["peanuts"]
        assert greets[0]["reservation_id"] == sarah.reservation_id
        assert [(k["kind"], k["reservation_id"]) for k in kitchen_frames] == [
            ("kitchen_start", sarah.reservation_id)
        ]
        assert kitchen_frames[0]["payload"]["items"][0]["name"] == "Burrata"
        # Sequence numbers are per venue and strictly increasing on every screen.
        seqs = [f["seq"] for f in host_frames]
        assert seqs == sorted(set(seqs))
        reservation = (await client.get(f"/api/reservations/{sarah.reservation_id}")).json()
        assert reservation["status"] == "arrived"
        stats = (await client.get("/api/ingest/stats")).json()
        assert stats["batches"] > 10
        assert stats["dropped_sightings"]["untracked_band"] > 0  # Lars and the stranger stop at ingest


async def test_malformed_messages_are_counted_and_the_service_keeps_greeting(
    engine: Engine, broker: BrokerAddress
) -> None:
    async with live_service(engine, broker) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah")
        topic = wire.sightings_topic("bistro", "door")
        good = wire.encode(batch("door", 0, [(sarah.advertiser_id, -80)]))
        bad: list[tuple[str, bytes]] = [
            (topic, b"not json at all"),
            (topic, b'{"v": 1}'),
            (topic, b"\xff\xfe\x00binary"),
            (topic, b"[" * 100_000),
            (topic, b"x" * 400_000),  # oversized
            ("maitre/v9/bistro/gw/door/sightings", good),  # unknown protocol version
            (wire.sightings_topic("bistro", "street"), good),  # payload names another gateway
            (
                wire.sightings_topic("bistro", "ghost"),
                wire.encode(batch("ghost", 0, [(sarah.advertiser_id, -50)])),
            ),
        ]
        hostname, port = broker.host, broker.port
        await asyncio.to_thread(
            publish.multiple,
            [{"topic": t, "payload": p, "qos": 1} for t, p in bad],
            hostname=hostname,
            port=port,
        )

        host, _ = await open_screen(live.ws, live.token("host"), "host")
        async with host:
            # Then Sarah walks up to the host stand: batches every half second, strong signal.
            for seq in range(8):
                payload = wire.encode(batch("door", seq, [(sarah.advertiser_id, -50)]))
                await asyncio.to_thread(publish.single, topic, payload, qos=1, hostname=hostname, port=port)
                await asyncio.sleep(0.25)
            # The same batch again (a QoS 1 redelivery) must not count twice.
            await asyncio.to_thread(publish.single, topic, payload, qos=1, hostname=hostname, port=port)
            frames = []
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(3):
                    async for frame in host:
                        msg = json.loads(frame)
                        if msg["type"] == "alert" and msg["kind"] == "greet":
                            frames.append(msg)
                            break
        assert [f["payload"]["name"] for f in frames] == ["Sarah"]

        stats = (await client.get("/api/ingest/stats")).json()
        dropped = stats["dropped_messages"]
        assert dropped["malformed"] == 4
        assert dropped["oversized"] == 1
        assert dropped["unknown_version"] == 1
        assert dropped["topic_mismatch"] == 1
        assert dropped["unknown_gateway"] == 1
        assert dropped["duplicate_batch"] == 1
        assert stats["batches"] == 8
