"""Store and forward through a real Mosquitto: no batch is lost while the broker or the agent is away."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from maitre import wire
from maitre.gateway.advertisement import Advertisement
from maitre.gateway.agent import GatewayAgent
from maitre.gateway.beacons.band import BAND_COMPANY_ID, encode_band
from maitre.gateway.settings import RunSettings
from maitre.gateway.spool import Spool
from maitre.mqtt import BrokerAddress
from tests.conftest import MosquittoProcess, MqttRecorder, wait_until

TOPIC = wire.sightings_topic("bistro", "door")
BAND = bytes.fromhex("38b4e652e44da7f2")


def hear_band(agent: GatewayAgent) -> None:
    agent.on_advertisement(Advertisement("AA", -60, agent.clock(), {BAND_COMPANY_ID: encode_band(BAND, -59)}))


def received(recorder: MqttRecorder) -> list[tuple[str, int]]:
    return [(b.boot, b.seq) for b in map(wire.decode_batch, recorder.payloads(TOPIC))]


async def _pump_until(agent: GatewayAgent, done: Callable[[], bool], timeout: float = 10.0) -> None:
    """What the agent's timer does between batches: pump the spool until `done`."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out pumping the spool"
        agent.uplink.pump()
        await asyncio.sleep(0.02)


class FlakyLink:
    """A TCP relay between gateway and broker that can swallow what the gateway sends, then cut the line.

    Swallow, publish, cut: the batch was handed to paho and written to the socket, the broker never
    saw it and no PUBACK will come, which is what a Wi-Fi drop mid-publish looks like.
    """

    def __init__(self, broker: BrokerAddress) -> None:
        self.broker = broker
        self.swallowing = False
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> BrokerAddress:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return BrokerAddress("127.0.0.1", port)

    def cut(self) -> None:
        for writer in self._writers:
            writer.close()
        self._writers.clear()
        self.swallowing = False

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        broker_reader, broker_writer = await asyncio.open_connection(self.broker.host, self.broker.port)
        self._writers += [client_writer, broker_writer]

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: bool) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await reader.read(65536):
                    if not (upstream and self.swallowing):
                        writer.write(data)
                        await writer.drain()
            writer.close()

        await asyncio.gather(
            pipe(client_reader, broker_writer, upstream=True),
            pipe(broker_reader, client_writer, upstream=False),
            return_exceptions=True,
        )


def new_agent(broker: BrokerAddress, spool: Path) -> GatewayAgent:
    return GatewayAgent("bistro", "door", broker, RunSettings(), spool=Spool(spool))


async def test_batches_made_while_the_broker_is_down_arrive_once_and_in_order_when_it_returns(
    mosquitto: MosquittoProcess, tmp_path: Path
) -> None:
    agent = new_agent(mosquitto.address, tmp_path / "spool.sqlite3")
    recorder = MqttRecorder(mosquitto.address, TOPIC)
    try:
        agent.start()
        await wait_until(lambda: agent.uplink.connected and recorder.subscribed, what="connections")
        hear_band(agent)
        agent.tick()
        await wait_until(lambda: len(received(recorder)) == 1, what="the first batch")

        mosquitto.stop()
        await wait_until(lambda: not agent.uplink.connected, what="the agent to notice")
        for _ in range(4):
            hear_band(agent)
            agent.tick()
        assert agent.uplink.queue_depth == 4  # spooled, not lost

        mosquitto.start()
        await wait_until(lambda: recorder.subscribed, what="the recorder to resubscribe")
        await wait_until(lambda: agent.uplink.connected, what="the agent to reconnect")
        await _pump_until(agent, lambda: len(received(recorder)) >= 5 and not agent.uplink.queue_depth)
        assert received(recorder) == [(agent.boot, seq) for seq in range(5)]
        assert agent.uplink.queue_depth == 0
    finally:
        agent.stop()
        recorder.close()


async def test_a_restarted_gateway_sends_what_the_old_one_spooled_exactly_once_and_in_order(
    mosquitto: MosquittoProcess, tmp_path: Path
) -> None:
    spool = tmp_path / "spool.sqlite3"
    old = new_agent(mosquitto.address, spool)
    old.start()
    await wait_until(lambda: old.uplink.connected, what="the first agent to connect")
    mosquitto.stop()
    await wait_until(lambda: not old.uplink.connected, what="the agent to notice")
    for _ in range(5):
        hear_band(old)
        old.tick()
    old.stop()  # the process ends with five batches unsent

    mosquitto.start()
    recorder = MqttRecorder(mosquitto.address, TOPIC)
    new = new_agent(mosquitto.address, spool)
    try:
        await wait_until(lambda: recorder.subscribed, what="the recorder")
        new.start()
        await wait_until(lambda: new.uplink.connected, what="the new agent to connect")
        hear_band(new)
        new.tick()  # the new boot's first batch queues behind the old boot's
        expected = [(old.boot, seq) for seq in range(5)] + [(new.boot, 0)]
        await _pump_until(
            new, lambda: len(received(recorder)) >= len(expected) and not new.uplink.queue_depth
        )
        assert received(recorder) == expected
    finally:
        new.stop()
        recorder.close()


async def test_a_batch_lost_on_the_wire_before_its_puback_is_sent_again_after_reconnecting(
    broker: BrokerAddress, tmp_path: Path
) -> None:
    link = FlakyLink(broker)
    agent = new_agent(await link.start(), tmp_path / "spool.sqlite3")
    recorder = MqttRecorder(broker, TOPIC)
    try:
        agent.start()
        await wait_until(lambda: agent.uplink.connected and recorder.subscribed, what="connections")
        link.swallowing = True
        hear_band(agent)
        agent.tick()  # batch 0 goes to paho and into the socket, and is swallowed
        await asyncio.sleep(0.2)
        assert agent.uplink.queue_depth == 1  # no PUBACK: it stays in the spool
        link.cut()
        await wait_until(lambda: not agent.uplink.connected, what="the agent to notice")
        hear_band(agent)
        agent.tick()  # batch 1, made while the line is down
        await _pump_until(agent, lambda: len(received(recorder)) >= 2 and not agent.uplink.queue_depth)
        assert received(recorder) == [(agent.boot, 0), (agent.boot, 1)]
    finally:
        agent.stop()
        recorder.close()
        await link.close()


async def test_a_batch_in_flight_when_the_gateway_stops_is_sent_by_the_next_start(
    broker: BrokerAddress, tmp_path: Path
) -> None:
    # paho keeps an unacknowledged batch only in memory; the spool is what outlives the process.
    link = FlakyLink(broker)
    address = await link.start()
    spool = tmp_path / "spool.sqlite3"
    old = new_agent(address, spool)
    recorder = MqttRecorder(broker, TOPIC)
    old.start()
    await wait_until(lambda: old.uplink.connected and recorder.subscribed, what="connections")
    link.swallowing = True
    hear_band(old)
    old.tick()
    await asyncio.to_thread(old.stop)  # waits briefly for a PUBACK that never comes
    link.cut()

    new = new_agent(address, spool)
    try:
        new.start()
        await wait_until(lambda: new.uplink.connected, what="the new agent")
        await _pump_until(new, lambda: len(received(recorder)) >= 1 and not new.uplink.queue_depth)
        assert received(recorder) == [(old.boot, 0)]
    finally:
        new.stop()
        recorder.close()
        await link.close()
