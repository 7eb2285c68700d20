"""The gateway agent: advertisements in, numbered sighting batches out over MQTT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable

import paho.mqtt.client as paho

from gateway.advertisement import Advertisement
from gateway.beacons import decode
from gateway.sources import AdvertisementSource
from gateway.window import Window
from maitre import wire
from maitre.mqtt import BrokerAddress, make_client

log = logging.getLogger("maitre.gateway")

VERSION = "0.1.0"
# The wire contract's batching window: long enough to summarise ~5 packets of a 10 Hz band,
# short enough that a walking guest moves under half a metre within one batch.
DEFAULT_INTERVAL = 0.5


class GatewayStats:
    __slots__ = ("advertisements", "batches", "decoded", "publish_errors", "sightings", "unknown")

    def __init__(self) -> None:
        self.advertisements = 0
        self.decoded = 0
        self.unknown = 0
        self.batches = 0
        self.sightings = 0
        self.publish_errors = 0


class GatewayAgent:
    """Decodes and aggregates advertisements; publishes a batch every interval."""

    def __init__(
        self,
        venue: str,
        gateway: str,
        broker: BrokerAddress,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not wire.is_valid_name(venue) or not wire.is_valid_name(gateway):
            raise ValueError("venue and gateway names must be 1-64 of A-Z a-z 0-9 _ -")
        if not 0 < interval <= 60:
            raise ValueError("interval must be in (0, 60] seconds")
        self.venue = venue
        self.gateway = gateway
        self.interval = interval
        self.clock = clock
        self.boot = secrets.token_hex(6)
        self.seq = 0
        self.stats = GatewayStats()
        self.window = Window()
        self._broker = broker
        self._sightings_topic = wire.sightings_topic(venue, gateway)
        self._status_topic = wire.status_topic(venue, gateway)
        self._client = make_client(broker, client_id=f"maitre-gw-{venue}-{gateway}")
        self._client.will_set(
            self._status_topic,
            wire.encode(wire.GatewayStatus(v=1, state="offline")),
            qos=wire.QOS,
            retain=True,
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect

    # -- source side -------------------------------------------------------------------------

    def on_advertisement(self, adv: Advertisement) -> None:
        """The source's callback: decode, drop unknown frames early, aggregate the rest."""
        self.stats.advertisements += 1
        found = decode(adv)
        if found is None:
            self.stats.unknown += 1
            return
        self.stats.decoded += 1
        self.window.add(found[0], adv.rssi, adv.t, found[1])

    # -- MQTT side ---------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; paho retries until the broker answers."""
        self._client.connect_async(self._broker.host, self._broker.port, keepalive=15)
        self._client.loop_start()

    def stop(self) -> None:
        """Publish a final batch and an offline status, then disconnect."""
        self.flush()
        info = self._client.publish(
            self._status_topic, wire.encode(self._status("offline")), qos=wire.QOS, retain=True
        )
        with contextlib.suppress(RuntimeError, ValueError):
            info.wait_for_publish(timeout=2)
        self._client.disconnect()
        self._client.loop_stop()

    def flush(self) -> wire.SightingBatch | None:
        """Publish what the window holds as the next numbered batch; None if it is empty."""
        if not len(self.window):
            return None
        batch = wire.SightingBatch(
            v=1,
            venue=self.venue,
            gateway=self.gateway,
            boot=self.boot,
            seq=self.seq,
            sent=self.clock(),
            window=self.interval,
            sightings=self.window.drain(),
        )
        self.seq += 1
        info = self._client.publish(self._sightings_topic, wire.encode(batch), qos=wire.QOS)
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            # NO_CONN still queues the message in paho's memory and sends it on reconnect.
            self.stats.publish_errors += 1
            log.warning("gateway %s: publish of batch %d failed: %s", self.gateway, batch.seq, info.rc)
        self.stats.batches += 1
        self.stats.sightings += len(batch.sightings)
        return batch

    async def run(self, source: AdvertisementSource) -> None:
        """Run the source and the batch timer until cancelled."""
        self.start()
        task = asyncio.create_task(source.run(self.on_advertisement))
        try:
            while not task.done():
                await asyncio.sleep(self.interval)
                self.flush()
            task.result()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.stop()

    def _status(self, state: str) -> wire.GatewayStatus:
        return wire.GatewayStatus(v=1, state=state, boot=self.boot, version=VERSION, t=self.clock())  # type: ignore[arg-type]

    def _on_connect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.ConnectFlags,
        reason: paho.ReasonCode,
        properties: paho.Properties | None,
    ) -> None:
        if reason.is_failure:
            log.error("gateway %s: broker refused the connection: %s", self.gateway, reason)
            return
        log.info("gateway %s connected to %s", self.gateway, self._broker.url())
        client.publish(self._status_topic, wire.encode(self._status("online")), qos=wire.QOS, retain=True)

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.DisconnectFlags,
        reason: paho.ReasonCode,
        properties: paho.Properties | None,
    ) -> None:
        if reason.is_failure:
            log.warning("gateway %s lost the broker (%s); reconnecting", self.gateway, reason)
