"""A gateway cut off from the broker for a real minute, then back: its spool drains, nothing is lost.

The one long test in the suite (~60 s of outage, plus paho's reconnect backoff): the link between
a real gateway agent and the broker goes down while the agent keeps hearing a band and making
batches; the service and a plain subscriber stay connected throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from pathlib import Path

import httpx
import pytest

from maitre import wire
from maitre.db import create_schema, make_engine
from maitre.gateway.advertisement import Advertisement
from maitre.gateway.agent import GatewayAgent
from maitre.gateway.beacons.band import BAND_COMPANY_ID, encode_band
from maitre.gateway.settings import RunSettings
from maitre.gateway.sources.base import AdvertisementSink
from maitre.gateway.spool import Spool
from maitre.ingest.stats import Drop
from maitre.mqtt import BrokerAddress
from tests.conftest import MqttRecorder, live_service, wait_until
from tests.factories import seed_venue

OUTAGE_SECONDS = 60.0
TOPIC = wire.sightings_topic("bistro", "door")


class SteadyBand:
    """A band beside the gateway, advertising ten times a second for as long as the gateway listens."""

    mode = "simulated"
    errors: dict[str, int] = {}  # noqa: RUF012 (read-only: this source has no faults)

    async def run(self, sink: AdvertisementSink) -> None:
        frame = {BAND_COMPANY_ID: encode_band(bytes.fromhex("38b4e652e44da7f2"), -59)}
        while True:
            sink(Advertisement("AA:BB:CC:DD:EE:FF", -62, time.time(), frame))
            await asyncio.sleep(0.1)


class GatewayDevice:
    """The agent on a device of its own: its own thread and event loop, as `maitre-gateway` runs it."""

    def __init__(self, agent: GatewayAgent) -> None:
        self.agent = agent
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._main, name="gateway", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Cancel the agent's run: it spools its last window and gives the broker a moment for it."""
        if not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(lambda: self._task and self._task.cancel())
        self._thread.join(30)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._task = self._loop.create_task(self.agent.run(SteadyBand()))
        with contextlib.suppress(asyncio.CancelledError):
            self._loop.run_until_complete(self._task)
        self._loop.close()


class GatewayLink:
    """A TCP relay between the gateway and the broker, as its Wi-Fi: taken down, it cuts what is
    open and refuses new connections until it is brought up again."""

    def __init__(self, broker: BrokerAddress) -> None:
        self.broker = broker
        self.up = True
        self.refused = 0  # connection attempts while down: the gateway kept trying
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> BrokerAddress:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return BrokerAddress("127.0.0.1", self._server.sockets[0].getsockname()[1])

    def go_down(self) -> None:
        self.up = False
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    async def close(self) -> None:
        self.go_down()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if not self.up:
            self.refused += 1
            client_writer.close()
            return
        broker_reader, broker_writer = await asyncio.open_connection(self.broker.host, self.broker.port)
        self._writers += [client_writer, broker_writer]

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.close()

        await asyncio.gather(
            pipe(client_reader, broker_writer), pipe(broker_reader, client_writer), return_exceptions=True
        )


@pytest.mark.timeout(300)
async def test_a_gateway_offline_for_a_minute_delivers_every_batch_once_and_in_order_when_back(
    broker: BrokerAddress, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'maitre.db'}")
    create_schema(engine)
    link = GatewayLink(broker)
    agent = GatewayAgent(
        "bistro", "door", await link.start(), RunSettings(), spool=Spool(tmp_path / "spool.sqlite3")
    )
    device = GatewayDevice(agent)
    recorder = MqttRecorder(broker, TOPIC)
    try:
        async with live_service(engine, broker) as live, live.client() as client:
            await seed_venue(client)
            stats = live.service.ingest.stats
            door = ("bistro", "door")
            await wait_until(lambda: recorder.subscribed, what="the subscriber")
            device.start()
            await wait_until(lambda: stats.batches_by_gateway[door] >= 4, what="batches before the outage")

            link.go_down()
            cut_at = agent.seq
            await asyncio.sleep(OUTAGE_SECONDS)  # the gateway keeps hearing the band and spooling
            made_offline = agent.seq - cut_at
            assert made_offline >= OUTAGE_SECONDS / agent.interval / 2  # a batch every half second
            assert agent.uplink.queue_depth >= made_offline  # spooled, none lost
            assert link.refused >= 1  # it kept trying

            link.up = True
            made_by_now = agent.seq
            await wait_until(
                lambda: stats.batches_by_gateway[door] >= made_by_now,
                timeout=90,  # paho's reconnect backoff reaches 30 s in a minute of refusals
                what="the gateway to reconnect and drain its spool",
            )
            await asyncio.to_thread(device.stop)
            made = agent.seq
            await wait_until(lambda: stats.batches_by_gateway[door] == made, what="the service to have all")
            await wait_until(lambda: len(delivered(recorder, agent.boot)) >= made, what="the subscriber")

            async with httpx.AsyncClient(base_url=live.base) as anon:
                ready = await anon.get("/readyz")
            body = (await client.get("/api/ingest/stats")).json()
    finally:
        await asyncio.to_thread(device.stop)
        recorder.close()
        await link.close()
        engine.dispose()

    # Every batch, those made offline included, reached the subscriber, in the order made.
    seqs = delivered(recorder, agent.boot)
    assert list(dict.fromkeys(seqs)) == list(range(made))
    # The service took each exactly once: a batch sent again after the cut is refused as a duplicate.
    assert body["batches_by_gateway"]["bistro/door"] == made
    assert set(body["dropped_messages"]) <= {Drop.DUPLICATE_BATCH}
    assert body["messages"] == made + body["dropped_messages"].get(Drop.DUPLICATE_BATCH, 0)
    # And it kept running throughout.
    assert ready.status_code == 200, ready.text
    assert body["mqtt_connected"] is True


def delivered(recorder: MqttRecorder, boot: str) -> list[int]:
    """The sequence numbers of one boot's batches, in the order the subscriber received them."""
    return [b.seq for b in map(wire.decode_batch, recorder.payloads(TOPIC)) if b.boot == boot]
