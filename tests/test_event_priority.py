"""Matching order: a greeting never waits behind heads-ups, and idle heads-ups stop costing queries."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from maitre.models import AlertRead
from maitre.presence import PresenceEvent
from maitre.runtime.service import VenueService
from tests.conftest import live_service, wait_until
from tests.factories import presence, seed_guest, seed_venue


async def test_arrival_is_matched_before_approaches_queued_ahead_of_it(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah")
        # Booked as well: approaches of bands nobody is expecting are let go without matching.
        others = [await seed_guest(client, venue_id, f"P{i}") for i in range(3)]
        service = live.service
        order = watch_matching(service)
        for _ in range(20):
            for p in others:
                service.submit(presence(p.advertiser_id, "approaching"))
        service.submit(presence(sarah.advertiser_id, "arrived"))
        await wait_until(lambda: len(order) >= 2, what="matching")
        await wait_until(lambda: not len(service.matching), what="the queue drained")
        # The arrival went ahead of the 60 approaches queued before it (one may be in hand already).
        assert f"arrived:{sarah.advertiser_id}" in order[:2]


async def test_approaches_of_bands_nobody_expects_are_let_go_with_one_query(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah")
        passers = [await seed_guest(client, venue_id, f"P{i}", reservation_in=None) for i in range(30)]
        service = live.service
        matched = watch_matching(service)
        acked: list[int] = []
        for i, p in enumerate(passers):
            service.matching.put(presence(p.advertiser_id, "approaching"), lambda i=i: acked.append(i))
        service.submit(presence(sarah.advertiser_id, "approaching"))
        await wait_until(lambda: not len(service.matching) and matched, what="the queue drained")
        await wait_until(lambda: len(acked) == 30, what="every passer-by's message acknowledged")
        # Only Sarah, who is booked, cost a match; the passers-by are quiet as if matched.
        assert matched == [f"approaching:{sarah.advertiser_id}"]
        assert all(("bistro", p.advertiser_id) in service.matching.quiet_approaches for p in passers)


async def test_approach_that_changed_nothing_is_not_matched_again_at_once(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        walker = await seed_guest(client, venue_id, "Walker", reservation_in=None)  # no booking here
        sarah = await seed_guest(client, venue_id, "Sarah")
        service = live.service
        matched = watch_matching(service)
        service.submit(presence(walker.advertiser_id, "approaching"))
        await wait_until(
            lambda: ("bistro", walker.advertiser_id) in service.matching.quiet_approaches, what="one match"
        )
        for _ in range(50):
            service.submit(presence(walker.advertiser_id, "approaching"))
        service.submit(presence(sarah.advertiser_id, "approaching"))  # another band is matched as ever
        service.submit(presence(walker.advertiser_id, "arrived"))  # arrivals are never skipped
        await wait_until(lambda: len(matched) >= 2, what="matching")
        await wait_until(lambda: not len(service.matching), what="the queue drained")
        # The walker's first approach was let go by the expected-bands query (nobody booked is
        # waiting for them), and quiet from then: none of their approaches cost a transaction.
        assert sorted(matched) == sorted(
            [f"approaching:{sarah.advertiser_id}", f"arrived:{walker.advertiser_id}"]
        )
        alerts: list[dict[str, object]] = []
        for _ in range(100):  # Sarah's approach is recorded a moment after it is matched
            alerts = (await client.get("/api/venues/bistro/alerts", params={"since": 0})).json()
            if alerts:
                break
            await asyncio.sleep(0.05)
        assert [(a["kind"], a["reservation_id"]) for a in alerts] == [("approaching", sarah.reservation_id)]


async def test_an_arrival_does_not_wait_while_approaches_gather(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        walker = await seed_guest(client, venue_id, "Walker", reservation_in=None)
        sarah = await seed_guest(client, venue_id, "Sarah")
        service = live.service
        matched = watch_matching(service)
        quiet_when_matched: list[bool] = []
        handle = service.arrivals.handle

        def noting(event: PresenceEvent) -> list[AlertRead]:
            quiet_when_matched.append(("bistro", walker.advertiser_id) in service.matching.quiet_approaches)
            return handle(event)

        service.arrivals.handle = noting  # type: ignore[method-assign]
        service.submit(presence(walker.advertiser_id, "approaching"))
        await asyncio.sleep(0.005)  # the approach is taken, and its gathering wait has begun
        service.submit(presence(sarah.advertiser_id, "arrived"))
        quiet = service.matching.quiet_approaches
        await wait_until(lambda: ("bistro", walker.advertiser_id) in quiet, what="the approach let go")
        # Sarah was matched before the walker's approach was let go: she did not wait out its gathering.
        assert matched == [f"arrived:{sarah.advertiser_id}"]
        assert quiet_when_matched == [False]


def watch_matching(service: VenueService) -> list[str]:
    """Every event the service matches against the database, as kind:band, in order."""
    matched: list[str] = []
    handle = service.arrivals.handle

    def recording(event: PresenceEvent) -> list[AlertRead]:
        matched.append(f"{event.kind}:{event.band}")
        return handle(event)

    service.arrivals.handle = recording  # type: ignore[method-assign]
    return matched
