"""The screens' websocket: snapshot on connect, resume by sequence number, refusals, slow screens."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import websockets
from sqlalchemy.engine import Engine

from maitre.alerts.hub import SUBSCRIBER_BACKLOG, AlertHub, Subscription
from maitre.alerts.snapshot import service_day
from maitre.api.routes import screens
from maitre.models import AlertKind, AlertRead, ScreenRole
from maitre.security.tokens import StaffRole
from tests.conftest import LiveService, live_service
from tests.factories import next_alerts, no_more_frames, open_screen, seed_guest, seed_venue, staff_action
from tests.factories import presence as arrived


async def act(
    client: httpx.AsyncClient, live: LiveService, kind: str, rid: int, table: str | None = None
) -> httpx.Response:
    return await staff_action(client, live.token("host"), kind, rid, table=table)


async def test_new_screen_gets_todays_book_and_open_cards_as_of_one_seq(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah", allergies=("peanuts",))
        # Later tonight, but inside the same service day whatever the hour the test runs at.
        _, day_ends = service_day(datetime.now(UTC), "UTC")
        later = min(timedelta(minutes=30), (day_ends - datetime.now(UTC)) / 2)
        paul = await seed_guest(client, venue_id, "Paul", reservation_in=later)
        await seed_guest(client, venue_id, "Past", reservation_in=timedelta(days=-2))
        await seed_guest(client, venue_id, "Future", reservation_in=timedelta(days=2))
        first, opening = await open_screen(live.ws, live.token("host"))
        assert opening["type"] == "snapshot" and opening["seq"] == 0
        assert [r["id"] for r in opening["reservations"]] == [sarah.reservation_id, paul.reservation_id]
        assert opening["greets"] == [] and opening["approaching"] == []
        assert opening["config"]["warn_s"] == 300 and opening["config"]["late_s"] == 480

        live.service.submit(arrived(sarah.advertiser_id))
        [greet] = await next_alerts(first, 1)
        await first.close()

        host, snap = await open_screen(live.ws, live.token("host"))
        kitchen, kitchen_snap = await open_screen(live.ws, live.token("kitchen"), "kitchen")
        async with host, kitchen:
            assert snap["seq"] == kitchen_snap["seq"] == 2  # greet, then the kitchen ticket
            book = {r["id"]: r for r in snap["reservations"]}
            assert book[sarah.reservation_id]["status"] == "arrived"
            assert book[sarah.reservation_id]["members"] == [{"name": "Sarah", "arrived": True}]
            assert book[paul.reservation_id]["status"] == "expected"
            [card] = snap["greets"]
            assert card["seq"] == greet["seq"] and card["name"] == "Sarah"
            assert card["acknowledged"] is False and card["allergies"] == ["peanuts"]
            [ticket] = kitchen_snap["tickets"]
            assert ticket["reservation_id"] == sarah.reservation_id
            assert ticket["bumped_at"] is None and ticket["allergens_acknowledged"] is False
            assert [i["name"] for i in ticket["items"]] == ["Burrata"]
            await no_more_frames(host, 0.3)  # a snapshot is not followed by a replay of what it holds


async def test_resume_sends_exactly_the_events_missed(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah")
        paul = await seed_guest(client, venue_id, "Paul")
        ana = await seed_guest(client, venue_id, "Ana")
        host, _ = await open_screen(live.ws, live.token("host"))
        live.service.submit(arrived(sarah.advertiser_id))
        [seen] = await next_alerts(host, 1)
        await host.close()  # the drop

        live.service.submit(arrived(paul.advertiser_id))
        assert (await act(client, live, "seat", sarah.reservation_id, table="4")).status_code == 201
        for _ in range(100):  # Paul's arrival is written by the service's own loop
            if (await client.get(f"/api/reservations/{paul.reservation_id}")).json()["status"] == "arrived":
                break
            await asyncio.sleep(0.05)

        host, opening = await open_screen(live.ws, live.token("host"), since=seen["seq"])
        async with host:
            assert opening["type"] == "resume" and opening["since"] == seen["seq"]
            missed = await next_alerts(host, 2)
            assert [(m["kind"], m["reservation_id"]) for m in missed] == [
                ("greet", paul.reservation_id),
                ("seat", sarah.reservation_id),
            ]
            assert all(m["seq"] > seen["seq"] for m in missed)
            assert all(m["role"] == "host" for m in missed)  # the kitchen tickets in between are not theirs
            await no_more_frames(host, 0.3)
            live.service.submit(arrived(ana.advertiser_id))  # and then it is live again
            [live_one] = await next_alerts(host, 1)
            assert live_one["reservation_id"] == ana.reservation_id and live_one["seq"] > missed[-1]["seq"]


async def test_screen_ahead_of_the_log_gets_a_fresh_snapshot(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        await seed_venue(client)
        ws, opening = await open_screen(live.ws, live.token("host"), since=999)
        await ws.close()
        assert opening["type"] == "snapshot" and opening["seq"] == 0


REFUSALS: list[tuple[str, str, object, int]] = [
    # (case, path, first frame (str, bytes, or a hello dict with "token" as a role), close code)
    ("forged token", "/ws/bistro/host", {"type": "hello", "token": "mt1.abc.def"}, 4401),
    ("expired token", "/ws/bistro/host", {"type": "hello", "token": "expired"}, 4401),
    ("no token", "/ws/bistro/host", {"type": "hello"}, 4401),
    ("not a hello", "/ws/bistro/host", {"type": "ping"}, 4401),
    ("other venue", "/ws/bistro/host", {"type": "hello", "token": "host@elsewhere"}, 4403),
    ("wrong role", "/ws/bistro/host", {"type": "hello", "token": "kitchen"}, 4403),
    ("bad since", "/ws/bistro/host", {"type": "hello", "token": "host", "since": -1}, 4400),
    ("not json", "/ws/bistro/host", "hello?", 4400),
    ("not an object", "/ws/bistro/host", "[1, 2]", 4400),
    ("binary", "/ws/bistro/host", b"\x00\x01", 4400),
    ("oversized", "/ws/bistro/host", json.dumps({"type": "hello", "token": "x" * 10_000}), 4400),
    ("no such screen", "/ws/bistro/waiter", {"type": "hello", "token": "host"}, 4404),
    ("no such venue", "/ws/nowhere/host", {"type": "hello", "token": "host@nowhere"}, 4404),
]


@pytest.mark.parametrize(("case", "path", "frame", "code"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_screen_that_cannot_show_a_valid_token_gets_no_data(
    engine: Engine, case: str, path: str, frame: object, code: int
) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah")
        live.service.submit(arrived(sarah.advertiser_id))  # there is guest data to leak
        if isinstance(frame, dict) and isinstance(frame.get("token"), str):
            role, _, venue = str(frame["token"]).partition("@")
            if role == "expired":
                assert live.signer is not None
                frame = {**frame, "token": live.signer.issue("bistro", StaffRole.HOST, hours=-1)}
            elif role in ("host", "kitchen"):
                frame = {**frame, "token": live.token(role, venue or "bistro")}
        async with websockets.connect(live.ws + path) as ws:
            with contextlib.suppress(websockets.ConnectionClosed):  # it may be closed before it speaks
                await ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))
            with pytest.raises(websockets.ConnectionClosed):
                msg = await asyncio.wait_for(ws.recv(), 5)
                pytest.fail(f"{case}: got a frame: {msg[:200]!r}")
        assert ws.close_code == code, (case, ws.close_code, ws.close_reason)
        assert ws.close_reason


async def test_socket_that_never_says_hello_is_closed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(screens, "HELLO_TIMEOUT_SECONDS", 0.3)
    async with live_service(engine, None) as live, websockets.connect(f"{live.ws}/ws/bistro/host") as ws:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == 4408


async def test_malformed_frame_closes_that_screen_and_no_other(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah")
        good, _ = await open_screen(live.ws, live.token("host"))
        bad, _ = await open_screen(live.ws, live.token("host"))
        async with good, bad:
            await good.send('{"type": "ping"}')
            assert json.loads(await asyncio.wait_for(good.recv(), 5)) == {"type": "pong"}
            await bad.send("{not json")
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(bad.recv(), 5)
            assert bad.close_code == 4400
            live.service.submit(arrived(sarah.advertiser_id))
            [greet] = await next_alerts(good, 1)
            assert greet["payload"]["name"] == "Sarah"


def _alert(seq: int, size: int = 0) -> AlertRead:
    return AlertRead(
        venue="bistro",
        seq=seq,
        role=ScreenRole.HOST,
        kind=AlertKind.GREET,
        reservation_id=1,
        created_at=datetime.now(UTC),
        payload={"name": "x", "notes": secrets.token_urlsafe(size)[:size]},  # incompressible: no deflate
    )


def test_hub_drops_a_subscriber_that_stops_reading_and_feeds_the_rest() -> None:
    hub = AlertHub()
    stuck, reading = hub.subscribe("bistro", "host"), hub.subscribe("bistro", "host")
    got = []
    for seq in range(1, SUBSCRIBER_BACKLOG + 50):
        assert hub.publish(_alert(seq)) >= 1
        got.append(reading.queue.get_nowait().seq)
    assert stuck.overflowed.is_set()
    assert hub.connected() == 1
    assert got == list(range(1, SUBSCRIBER_BACKLOG + 50))


async def test_alerts_keep_their_order_when_a_screen_cannot_take_one_at_once() -> None:
    hub = AlertHub()
    sub = hub.subscribe("bistro", "host")
    written: list[int] = []
    full = False

    def direct(alert: AlertRead) -> bool:
        if full:
            return False
        written.append(alert.seq)
        return True

    sub.direct = direct
    hub.publish(_alert(1))
    full = True  # its socket is backed up: 2 waits in the queue ...
    hub.publish(_alert(2))
    full = False  # ... and 3 waits behind it, although the socket could take it now
    hub.publish(_alert(3))
    assert written == [1]
    assert _queued(sub) == [2, 3]
    sub.sending = True  # the screen is sending 3; 4 must not overtake it
    hub.publish(_alert(4))
    sub.sending = False
    hub.publish(_alert(5))  # 4 is still queued: so is 5
    assert written == [1]
    assert _queued(sub) == [4, 5]
    hub.publish(_alert(6))  # caught up: written at once again
    assert written == [1, 6]


def _queued(sub: Subscription) -> list[int]:
    out = []
    while not sub.queue.empty():
        alert = sub.queue.get_nowait()
        assert alert is not None
        out.append(alert.seq)
    return out


async def test_screen_that_stops_reading_is_dropped_without_slowing_the_others(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stuck screen's sender gives up after 3 s; had it held up the others, they would lag as long.
    monkeypatch.setattr(screens, "SEND_TIMEOUT_SECONDS", 3.0)
    async with live_service(engine, None) as live, live.client() as client:
        await seed_venue(client)
        good, _ = await open_screen(live.ws, live.token("host"))
        # A small fixed receive buffer (loopback autotunes to 32 MB otherwise), and max_queue=1:
        # once a frame waits unread, this client stops reading its socket at all.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        sock.connect(("127.0.0.1", int(live.base.rsplit(":", 1)[1])))
        stuck = await websockets.connect(f"{live.ws}/ws/bistro/host", sock=sock, max_queue=1, max_size=None)
        await stuck.send(json.dumps({"type": "hello", "token": live.token("host")}))
        async with asyncio.timeout(5):
            while live.service.hub.connected() != 2:
                await asyncio.sleep(0.02)
        got: list[int] = []

        async def read_good() -> None:
            while True:
                msg = json.loads(await good.recv())
                if msg["type"] == "alert":
                    got.append(msg["seq"])

        reader = asyncio.create_task(read_good())
        # ~12 MB in 16 KiB frames: more than the socket buffers hold for a reader that stopped.
        total, lags = 750, []
        for seq in range(1, total + 1):
            live.service.hub.publish(_alert(seq, size=16_000))
            if seq % 25 == 0:
                sent = time.monotonic()
                while len(got) < seq:
                    await asyncio.sleep(0.005)
                lags.append(time.monotonic() - sent)
        reader.cancel()
        assert got == list(range(1, total + 1))  # every frame, in order, for the screen that reads
        assert max(lags) < 1.5, f"the reading screen waited {max(lags):.2f}s for a batch"
        async with asyncio.timeout(10):
            while live.service.hub.connected() != 1:
                await asyncio.sleep(0.05)
        await good.close()
        stuck.transport.abort()  # it reads nothing, so it would not read a polite close either


async def test_screens_get_events_in_sequence_order_while_writers_race(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        guests = [await seed_guest(client, venue_id, f"G{i}", items=()) for i in range(16)]
        host, _ = await open_screen(live.ws, live.token("host"))
        async with host:
            for g in guests[:8]:
                live.service.submit(arrived(g.advertiser_id))
            seats = await asyncio.gather(
                *(act(client, live, "seat", g.reservation_id, table=str(i)) for i, g in enumerate(guests[8:]))
            )
            assert [r.status_code for r in seats] == [201] * 8
            frames = await next_alerts(host, 16)
            seqs = [f["seq"] for f in frames]
            assert seqs == sorted(set(seqs)), seqs
            log = await client.get(
                "/api/venues/bistro/alerts", headers={"Authorization": f"Bearer {live.token('host')}"}
            )
            assert seqs == [a["seq"] for a in log.json()]
