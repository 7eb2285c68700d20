"""Two service instances on one broker and one database: venues claimed once, alerts seen everywhere."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from maitre.db import create_schema, make_engine
from maitre.models import AlertKind, AlertRead, ScreenRole
from maitre.mqtt import BrokerAddress
from maitre.runtime.cluster import VenueTaken
from maitre.runtime.service import VenueService
from tests.conftest import drop_schema, live_service, make_settings, wait_until
from tests.factories import seed_guest, seed_venue


def greet(seq: int, venue: str = "bistro") -> AlertRead:
    return AlertRead(
        venue=venue,
        seq=seq,
        role=ScreenRole.HOST,
        kind=AlertKind.GREET,
        reservation_id=1,
        created_at=datetime.now(UTC),
        payload={"name": "Sarah"},
    )


async def test_alert_committed_on_one_instance_reaches_screens_on_the_other_once(
    engine: Engine, broker: BrokerAddress
) -> None:
    async with (
        live_service(engine, broker, venues=["bistro"]) as owner,
        live_service(engine, broker, venues=["cafe"]) as other,
    ):
        for live in (owner, other):
            await asyncio.wait_for(live.service.relay.connected.wait(), 10)  # type: ignore[union-attr]
        await asyncio.sleep(0.3)  # the relays' SUBACKs
        screen_on_owner = owner.service.hub.subscribe("bistro", "host")
        screen_on_other = other.service.hub.subscribe("bistro", "host")

        await owner.service.hub.record(lambda: [greet(1), greet(2)])
        await wait_until(
            lambda: screen_on_other.queue.qsize() >= 2, what="alerts relayed to the other instance"
        )
        await asyncio.sleep(0.3)  # time for any duplicate to show up

        assert [screen_on_other.queue.get_nowait().seq for _ in range(2)] == [1, 2]
        assert screen_on_other.queue.empty()
        assert [screen_on_owner.queue.get_nowait().seq for _ in range(2)] == [1, 2]
        assert screen_on_owner.queue.empty()  # its own alerts are not delivered to it a second time


async def test_each_instance_ingests_only_its_own_venues(engine: Engine, broker: BrokerAddress) -> None:
    async with live_service(engine, broker, venues=["bistro"]) as live:
        assert live.service.ingress is not None
        assert list(live.service.ingress.subscriptions) == ["maitre/+/bistro/gw/+/+"]


@pytest.mark.postgres
async def test_second_instance_claiming_a_venue_is_refused_until_the_first_stops(
    pg_engine: Engine, broker: BrokerAddress
) -> None:
    async with live_service(pg_engine, broker, venues=["bistro"]):
        rival = VenueService(make_settings(venues=["cafe", "bistro"]), pg_engine, broker=None)
        with pytest.raises(VenueTaken, match="MAITRE_VENUES: venue bistro is already served"):
            await rival.start()
    # The first has stopped: its venue is handed over to the next instance that lists it.
    async with live_service(pg_engine, broker, venues=["cafe", "bistro"]) as successor:
        assert successor.service.claims.venues == ["cafe", "bistro"]


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """Venue claims are PostgreSQL advisory locks (SQLite runs one instance), so PostgreSQL only."""
    eng = make_engine(pg_url)
    drop_schema(eng)
    create_schema(eng)
    try:
        yield eng
    finally:
        drop_schema(eng)
        eng.dispose()


@pytest.mark.postgres
async def test_instance_stops_serving_a_venue_whose_claim_is_lost_and_serves_it_again_once_reclaimed(
    pg_engine: Engine, broker: BrokerAddress
) -> None:
    async with live_service(pg_engine, broker, venues=["bistro"], claim_poll_seconds=0.1) as live:
        service = live.service
        assert service.venue_claims() == {"bistro": "serving"} and "bistro" in service.ingresses
        claims_conn = service.claims._conn
        assert claims_conn is not None
        backend = claims_conn.execute(text("SELECT pg_backend_pid()")).scalar()
        served: list[bool] = []

        def watch() -> bool:
            served.append("bistro" in service.ingresses)
            return len(served) > 1 and not served[-2] and served[-1]  # off, then on again

        with pg_engine.connect() as admin:  # the database drops the claim connection (restart, failover)
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        await wait_until(watch, 15, what="the venue dropped and claimed again")
        assert service.venue_claims() == {"bistro": "serving"}
        await wait_until(service.mqtt_connected, what="the venue's session back")


@pytest.mark.postgres
async def test_standby_venue_nobody_serves_is_taken_at_start(
    pg_engine: Engine, broker: BrokerAddress
) -> None:
    async with live_service(pg_engine, broker, standby_venues=["bistro"]) as live:
        assert live.service.venue_claims() == {"bistro": "serving"}
        assert list(live.service.ingresses) == ["bistro"]
        # The venue's own session: whoever serves the venue next resumes it.
        expected = f"{live.service.settings.mqtt_client_id}-bistro".encode()
        assert live.service.ingresses["bistro"].client._client_id == expected


async def test_directory_changes_made_through_one_instance_reach_the_instance_serving_the_venue(
    engine: Engine, broker: BrokerAddress
) -> None:
    async with (
        live_service(engine, broker, venues=["bistro"]) as owner,
        live_service(engine, broker, venues=["cafe"]) as other,
        other.client() as api,  # the manager happens to reach the instance that does not serve the bistro
    ):
        for live in (owner, other):
            await asyncio.wait_for(live.service.relay.connected.wait(), 10)  # type: ignore[union-attr]
        await asyncio.sleep(0.3)  # the relays' SUBACKs
        await seed_venue(api)  # gateways registered elsewhere: the owner must accept their batches
        await wait_until(lambda: ("bistro", "door") in owner.service.directory.gateways, what="gateways")

        sarah = await seed_guest(api, 1, "Sarah")
        tracked = owner.service.directory.tracked_bands
        await wait_until(lambda: sarah.advertiser_id in tracked, what="the new band tracked by the owner")

        # Consent withdrawn through the other instance: the owner stops following the band too.
        guest = (await api.get(f"/api/guests/{sarah.guest_id}")).json()
        guest.update(consent_greeting=False, consent_kitchen=False, consent_allergies=False)
        (await api.put(f"/api/guests/{sarah.guest_id}", json=guest)).raise_for_status()
        await wait_until(lambda: sarah.advertiser_id not in tracked, what="the band forgotten by the owner")
