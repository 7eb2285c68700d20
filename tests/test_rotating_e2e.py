"""A band advertising rotating ids is greeted through the broker; its ids mean nothing to others."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from datetime import datetime

import paho.mqtt.publish as publish
from sqlalchemy.engine import Engine

from maitre import wire
from maitre.identity.eid import compute_eid
from maitre.mqtt import BrokerAddress
from tests.conftest import LiveService, live_service
from tests.factories import batch, open_screen, seed_venue

KEY = bytes.fromhex("00112233445566778899aabbccddeeff")


async def walk_in_at_the_door(
    live: LiveService, broker: BrokerAddress, heard: Callable[[], list[tuple[str, float]]]
) -> list[str]:
    """Eight door batches of what `heard()` gives at each, a quarter second apart; the names greeted."""
    topic = wire.sightings_topic("bistro", "door")
    host, _ = await open_screen(live.ws, live.token("host"), "host")
    greets: list[str] = []
    async with host:
        for seq in range(8):
            payload = wire.encode(batch("door", seq, heard()))
            await asyncio.to_thread(
                publish.single, topic, payload, qos=1, hostname=broker.host, port=broker.port
            )
            await asyncio.sleep(0.25)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(3):
                async for frame in host:
                    msg = json.loads(frame)
                    if msg["type"] == "alert" and msg["kind"] == "greet":
                        greets.append(msg["payload"]["name"])
                        break
    return greets


async def test_rotating_band_is_resolved_and_greeted(engine: Engine, broker: BrokerAddress) -> None:
    async with live_service(engine, broker) as live, live.client() as client:
        venue_id = await seed_venue(client)
        guest = (
            await client.post(
                "/api/guests",
                json={
                    "first_name": "Aiko",
                    "last_name": "Tanaka",
                    "consent_greeting": True,
                    "consent_kitchen": True,
                },
            )
        ).json()
        epoch = time.time() - 86_400  # registered yesterday
        r = await client.post(
            "/api/bands",
            json={
                "advertiser_id": "band:a1a2a3a4a5a6a7a8",
                "guest_id": guest["id"],
                "identity_key": KEY.hex(),
                "rotation_exponent": 10,
                "eid_epoch": epoch,
            },
        )
        assert r.status_code == 201, r.text
        assert "identity_key" not in r.json()  # the key is a secret: written, never read back
        assert r.json()["rotating"] is True
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        reservation = {"venue_id": venue_id, "guest_id": guest["id"], "party_size": 2, "at": now}
        assert (await client.post("/api/reservations", json=reservation)).status_code == 201

        eid = "eid:" + compute_eid(KEY, 10, int(time.time() - epoch)).hex()
        stranger = "eid:" + compute_eid(bytes(16), 10, int(time.time() - epoch)).hex()
        greets = await walk_in_at_the_door(live, broker, lambda: [(eid, -50), (stranger, -50)])
        assert greets == ["Aiko"]
        stats = (await client.get("/api/ingest/stats")).json()
        assert stats["dropped_sightings"]["unresolved_eid"] == 8  # the stranger, every batch


async def test_a_band_registered_without_a_key_rotates_and_is_greeted(
    engine: Engine, broker: BrokerAddress
) -> None:
    async with live_service(engine, broker) as live, live.client() as client:
        venue_id = await seed_venue(client)
        guest = (
            await client.post(
                "/api/guests", json={"first_name": "Ngozi", "last_name": "Okafor", "consent_greeting": True}
            )
        ).json()
        made = await client.post("/api/bands", json={"guest_id": guest["id"], "label": "NGZ1"})
        assert made.status_code == 201, made.text
        band = made.json()
        # Rotating by default; the secret comes back this once, to program the band, and never again.
        assert band["rotating"] is True and band["advertiser_id"].startswith("band:")
        key, exponent = bytes.fromhex(band["identity_key"]), band["rotation_exponent"]
        epoch = datetime.fromisoformat(band["eid_epoch"]).timestamp()
        listed = (await client.get("/api/bands", params={"guest_id": guest["id"]})).json()
        assert "identity_key" not in listed[0]
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        reservation = {"venue_id": venue_id, "guest_id": guest["id"], "party_size": 2, "at": now}
        assert (await client.post("/api/reservations", json=reservation)).status_code == 201

        greets = await walk_in_at_the_door(
            live,
            broker,
            lambda: [("eid:" + compute_eid(key, exponent, int(time.time() - epoch)).hex(), -50)],
        )
        assert greets == ["Ngozi"]
