"""The MQTT edge of the service: a persistent QoS 1 session feeding the ingest pipeline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import paho.mqtt.client as paho

from maitre import wire
from maitre.ingest.stats import Drop, IngestStats
from maitre.mqtt import BrokerAddress, make_client

log = logging.getLogger("maitre.ingest")

# Messages waiting for the event loop; beyond this the service is overloaded and says so.
INBOX_LIMIT = 20_000

Message = tuple[str, bytes]


class MqttIngress:
    """Subscribes to every gateway topic and hands messages to the event loop, in order."""

    def __init__(
        self,
        broker: BrokerAddress,
        client_id: str,
        loop: asyncio.AbstractEventLoop,
        stats: IngestStats,
        on_status: Callable[[str, str, bytes], None],
        foreign_subscriptions: Sequence[str] = (),
    ) -> None:
        self.broker = broker
        self.loop = loop
        self.stats = stats
        self.on_status = on_status
        self.foreign_subscriptions = foreign_subscriptions  # other makes' topics, when mapped
        self.inbox: asyncio.Queue[Message] = asyncio.Queue(INBOX_LIMIT)
        self.connected = asyncio.Event()
        # Persistent session: while the service is down the broker keeps its QoS 1 messages.
        self.client = make_client(broker, client_id=client_id, persistent=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def start(self) -> None:
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=15)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    # paho's network thread -----------------------------------------------------------------

    def _on_connect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.ConnectFlags,
        reason: paho.ReasonCode,
        properties: paho.Properties | None,
    ) -> None:
        if reason.is_failure:
            log.error("broker %s refused the connection: %s", self.broker.url(), reason)
            return
        # One wildcard for every version and kind: overlapping subscriptions would make the
        # broker deliver some messages twice; unknown versions must still be seen to be counted.
        client.subscribe(wire.ANY_VERSION_SUBSCRIPTION, wire.QOS)
        for topic in self.foreign_subscriptions:
            client.subscribe(topic, wire.QOS)
        log.info("ingest connected to %s (session present: %s)", self.broker.url(), flags.session_present)
        self.loop.call_soon_threadsafe(self.connected.set)

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.DisconnectFlags,
        reason: paho.ReasonCode,
        properties: paho.Properties | None,
    ) -> None:
        self.loop.call_soon_threadsafe(self.connected.clear)
        if reason.is_failure:
            log.warning("ingest lost the broker (%s); reconnecting", reason)

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        try:
            self.loop.call_soon_threadsafe(self._enqueue, msg.topic, bytes(msg.payload))
        except RuntimeError:  # the loop has closed: we are shutting down
            pass

    # event loop ----------------------------------------------------------------------------

    def _enqueue(self, topic: str, payload: bytes) -> None:
        parts = wire.parse_topic(topic)
        if parts is not None and parts.kind == "status":
            if parts.version == f"v{wire.PROTOCOL_VERSION}":
                self.on_status(parts.venue, parts.gateway, payload)
            return
        if parts is not None and parts.version == f"v{wire.PROTOCOL_VERSION}" and parts.kind != "sightings":
            return  # config and telemetry topics: not ours to ingest
        try:
            self.inbox.put_nowait((topic, payload))
        except asyncio.QueueFull:
            self.stats.messages += 1
            self.stats.dropped[Drop.OVERLOAD] += 1
