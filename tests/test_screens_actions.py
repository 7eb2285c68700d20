"""Staff actions: events in the venue's sequence that every screen of the role sees, each counted once."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy.engine import Engine

from tests.conftest import LiveService, live_service
from tests.factories import (
    SeededGuest,
    next_alerts,
    no_more_frames,
    open_screen,
    seed_guest,
    seed_venue,
    staff_action,
)
from tests.factories import presence as arrived


async def act(
    client: httpx.AsyncClient,
    live: LiveService,
    kind: str,
    rid: int,
    action_id: str | None = None,
    table: str | None = None,
) -> httpx.Response:
    role = "host" if kind in ("greet_ack", "seat", "undo") else "kitchen"
    return await staff_action(client, live.token(role), kind, rid, action_id, table)


async def reservation(client: httpx.AsyncClient, guest: SeededGuest) -> dict[str, object]:
    r = await client.get(f"/api/reservations/{guest.reservation_id}")
    result: dict[str, object] = r.json()
    return result


async def test_greet_seat_and_undo_reach_every_host_screen_and_the_book(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah")
        a, _ = await open_screen(live.ws, live.token("host"))
        b, _ = await open_screen(live.ws, live.token("manager"))
        async with a, b:
            live.service.submit(arrived(sarah.advertiser_id))
            for screen in (a, b):
                assert [f["kind"] for f in await next_alerts(screen, 1)] == ["greet"]
            rid = sarah.reservation_id

            assert (await act(client, live, "greet_ack", rid)).status_code == 201
            assert (await act(client, live, "seat", rid, table=" 4 ")).status_code == 201
            assert {"status": "seated", "table_label": "4"}.items() <= (
                await reservation(client, sarah)
            ).items()
            assert (await act(client, live, "undo", rid)).status_code == 201
            assert {"status": "arrived", "table_label": None}.items() <= (
                await reservation(client, sarah)
            ).items()
            assert (await act(client, live, "undo", rid)).status_code == 201
            last = await act(client, live, "undo", rid)
            assert last.status_code == 409 and last.json()["detail"] == "nothing to undo for this party"

            for screen in (a, b):
                frames = await next_alerts(screen, 4)
                summary = [(f["kind"], f["payload"].get("table"), f["payload"].get("action")) for f in frames]
                assert summary == [
                    ("greet_ack", None, None),
                    ("seat", "4", None),
                    ("undo", None, "seat"),
                    ("undo", None, "greet_ack"),
                ]
                assert frames[1]["payload"]["previous_status"] == "arrived"
                assert frames[2]["payload"]["status"] == "arrived"
                await no_more_frames(screen, 0.2)


async def test_a_retried_action_counts_once(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah")
        host, _ = await open_screen(live.ws, live.token("host"))
        async with host:
            first = await act(client, live, "seat", sarah.reservation_id, "tap-0001", table="9")
            again = await act(client, live, "seat", sarah.reservation_id, "tap-0001", table="9")
            assert (first.status_code, again.status_code) == (201, 200)
            assert first.json()["seq"] == again.json()["seq"]
            [seat] = await next_alerts(host, 1)
            assert seat["seq"] == first.json()["seq"]
            await no_more_frames(host, 0.3)
            reused = await act(client, live, "undo", sarah.reservation_id, "tap-0001")
            assert reused.status_code == 409 and "already used" in reused.json()["detail"]


async def test_actions_that_no_longer_fit_are_refused_with_a_reason(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        async with live.client(venue="annex") as annex:
            other_venue = await seed_venue(annex, "annex")
            elsewhere = await seed_guest(annex, other_venue, "Elsa")
        sarah = await seed_guest(client, venue_id, "Sarah", allergies=("peanuts",))
        rid = sarah.reservation_id

        async def refused(kind: str, reservation_id: int = rid, table: str | None = None) -> tuple[int, str]:
            r = await act(client, live, kind, reservation_id, table=table)
            detail = r.json()["detail"]
            return r.status_code, detail if isinstance(detail, str) else "invalid"

        assert await refused("greet_ack") == (409, "this party has not been greeted")
        assert await refused("bump") == (409, "this party has no kitchen ticket")
        assert await refused("undo") == (409, "nothing to undo for this party")
        assert await refused("seat", elsewhere.reservation_id, table="1") == (
            404,
            f"no reservation {elsewhere.reservation_id} at bistro",
        )
        assert await refused("seat") == (422, "invalid")  # no table
        assert (await act(client, live, "seat", rid, "not ok!", table="1")).status_code == 422

        live.service.submit(arrived(sarah.advertiser_id))
        for _ in range(100):
            if (await reservation(client, sarah))["status"] == "arrived":
                break
            await asyncio.sleep(0.05)
        assert (await act(client, live, "greet_ack", rid)).status_code == 201
        assert await refused("greet_ack") == (409, "the greeting is already acknowledged")
        assert await refused("bump") == (
            409,
            "Read the allergy (peanuts) and tap Acknowledge first: nothing was bumped.",
        )
        assert await refused("recall") == (409, "This ticket is not bumped.")
        assert (await act(client, live, "seat", rid, table="2")).status_code == 201
        assert await refused("seat", table="3") == (409, "already seated at table 2")


async def test_kitchen_bump_and_recall_reach_the_snapshot(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah", allergies=("sesame",))
        kitchen, _ = await open_screen(live.ws, live.token("kitchen"), "kitchen")
        async with kitchen:
            live.service.submit(arrived(sarah.advertiser_id))
            [start] = await next_alerts(kitchen, 1)
            assert start["kind"] == "kitchen_start" and start["payload"]["allergies"] == ["sesame"]
            rid = sarah.reservation_id
            for kind in ("allergen_ack", "bump"):
                assert (await act(client, live, kind, rid)).status_code == 201
            assert [f["kind"] for f in await next_alerts(kitchen, 2)] == ["allergen_ack", "bump"]

        async def ticket() -> dict[str, object]:
            ws, snap = await open_screen(live.ws, live.token("kitchen"), "kitchen")
            await ws.close()
            [t] = snap["tickets"]
            result: dict[str, object] = t
            return result

        bumped = await ticket()
        assert bumped["bumped_at"] is not None and bumped["allergens_acknowledged"] is True
        assert (await act(client, live, "recall", rid)).status_code == 201
        assert (await ticket())["bumped_at"] is None


async def test_two_hosts_seating_one_party_at_once_one_wins(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah")
        results = await asyncio.gather(
            *(act(client, live, "seat", sarah.reservation_id, table=t) for t in ("5", "6"))
        )
        assert sorted(r.status_code for r in results) == [201, 409]
        [winner] = [r.json() for r in results if r.status_code == 201]
        assert (await reservation(client, sarah))["table_label"] == winner["payload"]["table"]
