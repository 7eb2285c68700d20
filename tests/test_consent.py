"""Consent per purpose: what staff see follows what the guest accepted, and withdrawal bites at ingest."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import paho.mqtt.publish as publish
from sqlalchemy.engine import Engine

from maitre import wire
from maitre.mqtt import BrokerAddress
from tests.conftest import LiveService, live_service, wait_until
from tests.factories import Booking, batch, guest_session, seed_booking, seed_venue
from tests.factories import presence as arrival


async def checked_in(live: LiveService, staff: httpx.AsyncClient, name: str, **consents: bool) -> Booking:
    """A guest who linked their band, pre-ordered, told us an allergy, and accepted `consents`."""
    venue_id = (await staff.get("/api/venues/bistro")).json()["id"]
    booking = await seed_booking(staff, venue_id, name)
    dishes = (await staff.get("/api/venues/bistro/menu")).json()
    if not dishes:
        dishes = [(await staff.post("/api/venues/bistro/menu", json={"name": "Burrata"})).json()]
    async with await guest_session(live.base, booking) as phone:
        (await phone.post("/api/guest/me/bands", json={"label": booking.band_label})).raise_for_status()
        (await phone.put("/api/guest/me/preferences", json={"allergies": ["sesame"]})).raise_for_status()
        (await phone.post("/api/guest/me/items", json={"menu_item_id": dishes[0]["id"]})).raise_for_status()
        (await phone.put("/api/guest/me/consent", json=consents)).raise_for_status()
    return booking


async def alerts_of(staff: httpx.AsyncClient, rid: int) -> dict[str, dict[str, Any]]:
    alerts = (await staff.get("/api/venues/bistro/alerts")).json()
    return {a["kind"]: a["payload"] for a in alerts if a["reservation_id"] == rid}


async def test_allergies_reach_staff_only_with_their_own_consent(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        await seed_venue(staff)
        without = await checked_in(live, staff, "Ana", greeting=True, kitchen=True)
        with_ = await checked_in(live, staff, "Noor", greeting=True, kitchen=True, allergies=True)
        for booking in (without, with_):
            live.service.submit(arrival(booking.advertiser_id))
        await wait_until(lambda: len(live.service.alert_latencies) >= 2, what="both arrivals handled")
        hidden, shown = (
            await alerts_of(staff, without.reservation_id),
            await alerts_of(staff, with_.reservation_id),
        )
        assert hidden["greet"]["name"] == "Ana" and hidden["kitchen_start"]["items"]
        assert hidden["greet"]["allergies"] == [] and hidden["kitchen_start"]["allergies"] == []
        assert shown["greet"]["allergies"] == ["sesame"] and shown["kitchen_start"]["allergies"] == ["sesame"]
        # Staff reading the profile see no allergies either without that consent.
        profile = (await staff.get(f"/api/venues/bistro/guests/{without.guest_id}/profile")).json()
        assert profile["allergies"] is None and profile["name"] == "Ana Okafor"


async def test_kitchen_only_consent_starts_the_kitchen_but_greets_nobody(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        await seed_venue(staff)
        guest = await checked_in(live, staff, "Ivo", kitchen=True)
        live.service.submit(arrival(guest.advertiser_id))
        await wait_until(lambda: live.service.alert_latencies, what="arrival handled")
        alerts = await alerts_of(staff, guest.reservation_id)
        assert "greet" not in alerts and "kitchen_start" in alerts
        assert alerts["party_update"]["name"] is None  # the host sees a party arrive, not who


async def publish_door_batches(broker: BrokerAddress, bands: list[str], boot: str, batches: int = 8) -> None:
    """Bands walking up to the host stand: a strong door batch every quarter second."""
    topic = wire.sightings_topic("bistro", "door")
    for seq in range(batches):
        payload = wire.encode(batch("door", seq, [(b, -50) for b in bands], boot=boot))
        await asyncio.to_thread(publish.single, topic, payload, qos=1, hostname=broker.host, port=broker.port)
        await asyncio.sleep(0.25)


async def test_withdrawn_consent_drops_the_bands_sightings_at_ingest(
    engine: Engine, broker: BrokerAddress
) -> None:
    async with live_service(engine, broker) as live, live.client() as staff:
        await seed_venue(staff)
        sarah = await checked_in(live, staff, "Sarah", greeting=True, kitchen=True)
        paul = await checked_in(live, staff, "Paul", greeting=True, kitchen=True)
        stats = live.service.ingest.stats
        # Paul was heard before (presence holds state for his band), then he withdraws both.
        await publish_door_batches(broker, [paul.advertiser_id], "before", batches=1)
        await wait_until(lambda: stats.sightings >= 1, what="Paul's first sighting")
        async with await guest_session(live.base, paul) as phone:
            r = await phone.put("/api/guest/me/consent", json={"greeting": False, "kitchen": False})
            assert r.json()["greeting"] is False
        assert paul.advertiser_id not in live.service.directory.tracked_bands
        before = stats.dropped_sightings["untracked_band"]

        # Both walk in together: Sarah is greeted, Paul's sightings stop at the door of the service.
        await publish_door_batches(broker, [sarah.advertiser_id, paul.advertiser_id], "after")
        await wait_until(lambda: stats.batches >= 9, what="all batches ingested")
        await wait_until(lambda: live.service.alert_latencies, what="Sarah's arrival handled")
        assert stats.dropped_sightings["untracked_band"] - before == 8
        alerts = (await staff.get("/api/venues/bistro/alerts")).json()
        assert {a["reservation_id"] for a in alerts} == {sarah.reservation_id}
        greet = next(a for a in alerts if a["kind"] == "greet")
        assert greet["payload"]["name"] == "Sarah"


async def test_consent_changes_are_recorded_with_what_and_when(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        await seed_venue(staff)
        guest = await checked_in(live, staff, "Aiko", greeting=True, marketing=True)
        async with await guest_session(live.base, guest) as phone:
            await phone.put(
                "/api/guest/me/consent", json={"marketing": False, "greeting": True}
            )  # one change
        record = (await staff.get(f"/api/venues/bistro/guests/{guest.guest_id}/consents")).json()
        assert [(e["purpose"], e["granted"], e["source"]) for e in record] == [
            ("greeting", True, "guest"),
            ("marketing", True, "guest"),
            ("marketing", False, "guest"),
        ]
        assert record[0]["at"] <= record[2]["at"]
        async with live.client("host") as host:
            assert (await host.get(f"/api/venues/bistro/guests/{guest.guest_id}/consents")).status_code == 403
