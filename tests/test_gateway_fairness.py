"""One gateway's flood, oversized messages and all, does not starve the others: budgets per gateway."""

from __future__ import annotations

import asyncio
import threading
import time

from sqlalchemy.engine import Engine

from maitre import wire
from maitre.ingest.budget import BURST_MESSAGES, UNREGISTERED, GatewayBudget
from maitre.ingest.pipeline import Ingest
from maitre.ingest.stats import Drop
from maitre.mqtt import BrokerAddress, make_client
from maitre.presence import PresenceEngine
from tests.conftest import live_service, wait_until
from tests.factories import batch, seed_guest, seed_venue

NOW = 1_795_412_345.0
BAND = "band:38b4e652e44da7f2"
DOOR = wire.sightings_topic("bistro", "door")
STREET = wire.sightings_topic("bistro", "street")
CROWD = [(f"band:{0xFF00 + i:016x}", -88.0) for i in range(40)]  # passers-by nobody tracks


def ingest(**budget: float) -> Ingest:
    return Ingest(
        PresenceEngine({("bistro", "door"): "door", ("bistro", "street"): "approach"}),
        known_gateways={("bistro", "door"), ("bistro", "street")},
        tracked_bands={BAND},
        clock=lambda: NOW,
        **budget,  # type: ignore[arg-type]
    )


def payload(gateway: str, seq: int, sent: float = NOW) -> bytes:
    return wire.encode(batch(gateway, seq, [(BAND, -60)], t=sent))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# -- the budget in ingest -----------------------------------------------------------------------------


def test_a_gateway_past_its_budget_is_refused_before_decoding_while_another_is_served() -> None:
    target = ingest(gateway_burst_messages=5, gateway_messages_per_second=0.0)
    for seq in range(5):
        target.handle(DOOR, payload("door", seq))
    target.handle(DOOR, payload("door", 5))
    target.handle(DOOR, b"not json")  # past the budget it is not even looked at
    target.handle(DOOR, b"x" * 400_000)
    target.handle(STREET, payload("street", 0))
    stats = target.stats
    assert stats.batches_by_gateway == {("bistro", "door"): 5, ("bistro", "street"): 1}
    assert stats.dropped == {Drop.GATEWAY_FLOOD: 3}
    assert stats.flooded == {("bistro", "door"): 3}
    assert stats.as_dict()["gateway_flood"] == {"bistro/door": 3}
    assert stats.messages == stats.batches + sum(stats.dropped.values())


def test_a_gateway_sending_large_batches_runs_out_of_bytes_before_messages() -> None:
    big = wire.encode(batch("door", 0, CROWD, t=NOW))
    target = ingest(gateway_burst_bytes=3 * len(big), gateway_bytes_per_second=0.0)
    for seq in range(4):
        target.handle(DOOR, wire.encode(batch("door", seq, CROWD, t=NOW)))
    assert target.stats.batches == 3
    assert target.stats.flooded == {("bistro", "door"): 1}


def test_an_oversized_message_is_counted_for_its_size_not_as_a_flood() -> None:
    target = ingest(gateway_burst_bytes=100_000)
    target.handle(DOOR, b"x" * 1_000_000)  # larger than the whole byte burst
    assert target.stats.dropped == {Drop.OVERSIZED: 1}


def test_a_gateway_draining_a_full_spool_after_an_outage_is_not_refused() -> None:
    # Everything the replay window still accepts (10 minutes at two batches a second), all at once.
    target = ingest()
    backlog = 1200
    assert backlog <= BURST_MESSAGES
    for seq in range(backlog):
        target.handle(DOOR, payload("door", seq, sent=NOW - 599 + seq * 0.5))
    assert target.stats.batches == backlog
    assert not target.stats.dropped


def test_made_up_gateway_names_share_one_budget_and_leave_registered_ones_alone() -> None:
    target = ingest(gateway_burst_messages=10, gateway_messages_per_second=0.0)
    for n in range(30):
        name = f"ghost{n}"
        target.handle(wire.sightings_topic("bistro", name), payload(name, 0))
    target.handle(DOOR, payload("door", 0))
    stats = target.stats
    assert stats.dropped == {Drop.UNKNOWN_GATEWAY: 10, Drop.GATEWAY_FLOOD: 20}
    assert stats.flooded == {UNREGISTERED: 20}
    assert stats.batches_by_gateway == {("bistro", "door"): 1}


def test_budgets_are_off_when_the_burst_is_zero() -> None:
    target = ingest(gateway_burst_messages=0)
    assert target.budget is None
    for seq in range(BURST_MESSAGES + 10):
        target.handle(DOOR, payload("door", seq, sent=NOW - 300))
    assert not target.stats.flooded


def test_a_spent_budget_refills_at_its_rate() -> None:
    clock = FakeClock()
    budget = GatewayBudget(burst_messages=2, messages_per_second=4.0, clock=clock)
    door = ("bistro", "door")
    assert [budget.spend(door, 100) for _ in range(3)] == [True, True, False]
    clock.now += 0.25  # one message's worth
    assert [budget.spend(door, 100) for _ in range(2)] == [True, False]
    clock.now += 60  # a long quiet spell refills to the burst, never beyond
    assert [budget.spend(door, 100) for _ in range(3)] == [True, True, False]


# -- through a real broker and the running service ------------------------------------------------------


class Flood:
    """A registered gateway gone wrong: thousands of batches, junk and oversized messages, at once."""

    BATCHES = 3000
    OVERSIZED_EVERY = 20  # one in twenty is 300 KB, over the wire's 256 KiB limit
    MALFORMED_EVERY = 10

    def __init__(self, broker: BrokerAddress, gateway: str) -> None:
        topic = wire.sightings_topic("bistro", gateway)
        now = time.time()
        self.messages: list[tuple[str, bytes]] = []
        for seq in range(self.BATCHES):
            self.messages.append((topic, wire.encode(batch(gateway, seq, CROWD, boot="flood", t=now))))
            if seq % self.OVERSIZED_EVERY == 0:
                self.messages.append((topic, b"x" * 300_000))
            if seq % self.MALFORMED_EVERY == 0:
                self.messages.append((topic, b'{"v": 1, "venue": "bistro"'))
        self.client = make_client(broker, client_id=f"flood-{time.monotonic_ns()}")
        self.client.max_inflight_messages_set(1000)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        infos = [self.client.publish(t, p, qos=1) for t, p in self.messages]
        for info in infos:
            info.wait_for_publish(60)

    def close(self) -> None:
        self.thread.join(60)
        self.client.disconnect()
        self.client.loop_stop()


async def test_a_flooding_gateway_does_not_starve_the_door_and_the_guest_is_greeted_once(
    engine: Engine, broker: BrokerAddress
) -> None:
    async with live_service(engine, broker) as live, live.client() as client:
        venue_id = await seed_venue(client)
        r = await client.post("/api/venues/bistro/gateways", json={"name": "patio", "role": "approach"})
        r.raise_for_status()
        sarah = await seed_guest(client, venue_id, "Sarah")
        flood = Flood(broker, "patio")
        door = make_client(broker, client_id=f"door-{time.monotonic_ns()}")
        door.connect(broker.host, broker.port)
        door.loop_start()
        try:
            flood.thread.start()
            # Sarah walks up to the host stand while the patio gateway floods: a batch a quarter second.
            for seq in range(8):
                door.publish(DOOR, wire.encode(batch("door", seq, [(sarah.advertiser_id, -50)])), qos=1)
                await asyncio.sleep(0.25)
            await asyncio.to_thread(flood.close)
        finally:
            door.disconnect()
            door.loop_stop()

        offered = len(flood.messages) + 8
        stats = live.service.ingest.stats
        await wait_until(lambda: stats.messages >= offered, timeout=60, what="every message to be ingested")
        await wait_until(lambda: live.service.alert_latency.count >= 1, what="the greeting")
        body = (await client.get("/api/ingest/stats")).json()
        greets = [a for a in (await client.get("/api/venues/bistro/alerts")).json() if a["kind"] == "greet"]
        metrics = (await client.get("/metrics")).text

    assert [g["reservation_id"] for g in greets] == [sarah.reservation_id]
    # Every one of the door's batches was taken; none was refused, for any reason.
    assert body["batches_by_gateway"]["bistro/door"] == 8
    assert set(body["gateway_flood"]) == {"bistro/patio"}
    # The flood was counted, and every message of it is accounted for.
    flooded = body["gateway_flood"]["bistro/patio"]
    assert flooded > len(flood.messages) // 2
    assert body["dropped_messages"]["gateway_flood"] == flooded
    assert body["messages"] == offered
    assert body["messages"] == body["batches"] + sum(body["dropped_messages"].values())
    assert f'maitre_gateway_flood_total{{gateway="patio",venue="bistro"}} {flooded}' in metrics
    assert 'maitre_ingest_dropped_messages_total{reason="gateway_flood"}' in metrics
