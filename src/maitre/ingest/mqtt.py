"""The MQTT edge of the service: a persistent QoS 1 session feeding the ingest pipeline.

Messages are acknowledged by hand (`ack`), once what they caused is done: a service killed
between receiving a batch and recording the arrival it decided leaves the batch unacknowledged,
and the broker delivers it again to the next start of the same session.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence

import paho.mqtt.client as paho

from maitre import wire
from maitre.ingest.stats import Drop, IngestStats
from maitre.mqtt import BrokerAddress, make_client

log = logging.getLogger("maitre.ingest")

# Messages waiting for the event loop; beyond this the service is overloaded and says so.
INBOX_LIMIT = 20_000

# (connection generation, packet id, QoS): what `ack` needs, and on which connection it is valid.
AckToken = tuple[int, int, int]
Message = tuple[str, bytes, AckToken]


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
        subscriptions: Sequence[str] = (wire.ANY_VERSION_SUBSCRIPTION,),
        on_telemetry: Callable[[str, str, bytes], None] | None = None,
    ) -> None:
        self.broker = broker
        self.loop = loop
        self.stats = stats
        self.on_status = on_status
        self.on_telemetry = on_telemetry
        self.foreign_subscriptions = foreign_subscriptions  # other makes' topics, when mapped
        self.subscriptions = subscriptions  # our gateways' topics: every venue, or this instance's
        self.inbox: asyncio.Queue[Message] = asyncio.Queue(INBOX_LIMIT)
        self.connected = asyncio.Event()
        # A packet id names a message only on the connection it came in on: after a reconnect the
        # broker resends what was unacknowledged, and an old id may name a new message.
        self.generation = 0
        # MQTT 3.1.1 (4.6) requires PUBACKs in the order the PUBLISHes arrived, and some brokers
        # (rumqttd, the embedded one) drop a client that acks out of order. Work finishes out of
        # order (a batch with events waits for the database), so acks wait here for their turn.
        self._unacked: deque[AckToken] = deque()  # in arrival order
        self._done: set[AckToken] = set()  # finished, waiting for the ones before them
        # Handed over by paho's thread in arrival order; one wake of the loop takes a whole burst,
        # where a wake per message (a self-pipe write and a loop turn each) cost more than a batch.
        self._arrived: deque[Message] = deque()
        self._wake_pending = False
        self.lost = 0  # connections lost other than by our own disconnect
        # Persistent session: while the service is down the broker keeps its QoS 1 messages.
        self.client = make_client(broker, client_id=client_id, persistent=True, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def start(self) -> None:
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=15)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def ack(self, token: AckToken) -> None:
        """Acknowledge a message whose work is done (no-op if its connection has since gone)."""
        generation, _, qos = token
        if generation != self.generation or qos == 0:
            return
        self._drop_stale()
        self._done.add(token)
        pending, done = self._unacked, self._done
        while pending and pending[0] in done:
            head = pending.popleft()
            done.discard(head)
            self.client.ack(head[1], head[2])

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
        self.generation += 1
        # One wildcard for every version and kind: overlapping subscriptions would make the
        # broker deliver some messages twice; unknown versions must still be seen to be counted.
        for topic in self.subscriptions:
            client.subscribe(topic, wire.QOS)
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
            self.lost += 1
            log.warning("ingest lost the broker (%s); reconnecting", reason)

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        self._arrived.append((msg.topic, bytes(msg.payload), (self.generation, msg.mid, msg.qos)))
        if self._wake_pending:
            return  # the loop has yet to take the burst this message joins
        self._wake_pending = True
        try:
            self.loop.call_soon_threadsafe(self._take_arrived)
        except RuntimeError:  # the loop has closed: we are shutting down (unacknowledged: resent)
            pass

    # event loop ----------------------------------------------------------------------------

    def _drop_stale(self) -> None:
        """Forget acks owed on a connection that has gone: the broker resends those messages."""
        pending = self._unacked
        while pending and pending[0][0] != self.generation:
            self._done.discard(pending.popleft())

    def _take_arrived(self) -> None:
        # Cleared before taking: a message paho appends meanwhile either is taken below or
        # schedules another call.
        self._wake_pending = False
        arrived, enqueue = self._arrived, self._enqueue
        while arrived:
            enqueue(*arrived.popleft())

    def _enqueue(self, topic: str, payload: bytes, token: AckToken) -> None:
        if token[2] > 0 and token[0] == self.generation:
            self._drop_stale()
            self._unacked.append(token)
        parts = wire.parse_topic(topic)
        if parts is not None and parts.kind == "status":
            if parts.version == f"v{wire.PROTOCOL_VERSION}":
                self.on_status(parts.venue, parts.gateway, payload)
            self.ack(token)
            return
        if parts is not None and parts.version == f"v{wire.PROTOCOL_VERSION}" and parts.kind != "sightings":
            if parts.kind == "telemetry" and self.on_telemetry is not None:
                self.on_telemetry(parts.venue, parts.gateway, payload)
            self.ack(token)
            return  # config and telemetry topics: not ours to ingest
        try:
            self.inbox.put_nowait((topic, payload, token))
        except asyncio.QueueFull:
            self.stats.messages += 1
            self.stats.dropped[Drop.OVERLOAD] += 1
            self.ack(token)  # counted and let go: holding it would stall the session
