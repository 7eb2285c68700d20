"""The gateway's MQTT connection: spooled batches out in order, status and telemetry out, config in."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

import paho.mqtt.client as paho

from maitre import wire
from maitre.gateway.lograte import RateLimitedLog
from maitre.gateway.spool import Spool
from maitre.mqtt import BrokerAddress, make_client

log = logging.getLogger("maitre.gateway")

# Batches handed to paho and not yet acknowledged. paho keeps them in memory and sends them again
# after a reconnect; the spool keeps them across a restart. Matches paho's own default window.
MAX_INFLIGHT = 20
KEEPALIVE = 15  # seconds: a dead broker is noticed within ~1.5 keepalives


class Uplink:
    """Publishes what the spool holds, oldest first, and deletes a batch once the broker has it.

    A batch leaves the spool only when its PUBACK has arrived (paho marks its MQTTMessageInfo
    published), so neither a dropped connection nor a restart between publish() and PUBACK loses
    it. Polling the info objects, rather than matching mids in on_publish, avoids the race where
    the PUBACK arrives before publish() has returned the mid. `pump` runs on the agent's thread;
    the callbacks below run on paho's.
    """

    def __init__(
        self,
        venue: str,
        gateway: str,
        broker: BrokerAddress,
        spool: Spool,
        online_status: Callable[[], bytes],
        on_config: Callable[[bytes], None],
    ) -> None:
        self.broker = broker
        self.spool = spool
        self.connected = False
        self.refusals = 0  # connection attempts the broker refused (bad credentials, not authorised)
        self.publish_errors = 0
        self._online_status = online_status
        self._on_config = on_config
        self._status_topic = wire.status_topic(venue, gateway)
        self._config_topic = wire.config_topic(venue, gateway)
        self._config_result_topic = wire.config_result_topic(venue, gateway)
        self._inflight: list[tuple[int, paho.MQTTMessageInfo]] = []
        self._cursor = 0  # highest spool row handed to paho by this process
        # After a reconnect paho first re-sends what was in flight; new batches wait for those, or
        # they could overtake them (paho calls on_connect before it re-sends).
        self._resending = False
        self._config_result: bytes | None = None
        self._warn = RateLimitedLog(log)
        self._client = make_client(broker, client_id=f"maitre-gw-{venue}-{gateway}")
        self._client.max_inflight_messages_set(MAX_INFLIGHT)
        self._client.will_set(
            self._status_topic,
            wire.encode(wire.GatewayStatus(v=1, state="offline")),
            qos=wire.QOS,
            retain=True,
        )
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    def start(self) -> None:
        """Connect in the background; paho retries with backoff until the broker answers."""
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=KEEPALIVE)
        self._client.loop_start()

    def stop(self, offline_status: bytes, drain_timeout: float = 2.0) -> None:
        """Give in-flight batches a moment, say offline, disconnect. What is unsent stays spooled."""
        deadline = time.monotonic() + drain_timeout
        while self.connected and (self._inflight or len(self.spool)) and time.monotonic() < deadline:
            self.pump()
            time.sleep(0.02)
        self.pump()
        if self.connected:
            info = self._client.publish(self._status_topic, offline_status, qos=wire.QOS, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=max(0.1, deadline - time.monotonic()))
        self._client.disconnect()
        self._client.loop_stop()

    @property
    def queue_depth(self) -> int:
        """Batches not yet acknowledged by the broker."""
        return len(self.spool)

    def pump(self) -> None:
        """Forget acknowledged batches and hand the next spooled ones to paho, in order."""
        if self._inflight:
            acked: list[int] = []
            waiting: list[tuple[int, paho.MQTTMessageInfo]] = []
            for row, info in self._inflight:
                if info.is_published():
                    acked.append(row)
                else:
                    waiting.append((row, info))
            self._inflight = waiting
            self.spool.delete(acked)
        if self._resending and not self._inflight:
            self._resending = False
        if not self.connected or self._resending:
            return
        room = MAX_INFLIGHT - len(self._inflight)
        if room <= 0:
            return
        for batch in self.spool.after(self._cursor, room):
            info = self._client.publish(batch.topic, batch.payload, qos=wire.QOS)
            # NO_CONN: the connection dropped just now; paho keeps the message and sends it, in
            # order, after reconnecting.
            if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
                self.publish_errors += 1
                self._warn.warning(
                    "publish", "publish of batch %d failed (%s); will retry", batch.seq, info.rc
                )
                return
            self._inflight.append((batch.row, info))
            self._cursor = batch.row

    def publish_now(self, topic: str, payload: bytes, retain: bool = False) -> bool:
        """Publish a message that is worth nothing later (telemetry), only while connected."""
        if not self.connected:
            return False
        return self._client.publish(topic, payload, qos=wire.QOS, retain=retain).rc == paho.MQTT_ERR_SUCCESS

    def report_config(self, result: bytes) -> None:
        """Publish the answer to a config, retained; kept for the next connection if offline."""
        self._config_result = result
        if self.connected:
            self._client.publish(self._config_result_topic, result, qos=wire.QOS, retain=True)

    # paho's network thread ----------------------------------------------------------------------

    def _on_connect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.ConnectFlags,
        reason: paho.ReasonCode,
        properties: paho.Properties | None,
    ) -> None:
        if reason.is_failure:
            self.refusals += 1
            self._warn.warning(
                "refused",
                "broker %s refused the connection: %s; retrying (check the MQTT URL's credentials)",
                self.broker.url(),
                reason,
            )
            return
        log.info("connected to %s", self.broker.url())
        client.publish(self._status_topic, self._online_status(), qos=wire.QOS, retain=True)
        client.subscribe(self._config_topic, wire.QOS)
        if self._config_result is not None:
            client.publish(self._config_result_topic, self._config_result, qos=wire.QOS, retain=True)
        self.connected = True

    def _on_connect_fail(self, client: paho.Client, userdata: object) -> None:
        # No answer at all: the broker is down or unreachable, or (mqtts://) its certificate is
        # not one this gateway trusts, which paho does not tell apart.
        hint = "; is MAITRE_MQTT_CA_FILE the broker's CA (ca.crt)?" if self.broker.tls else ""
        self._warn.warning("connect_failed", "cannot connect to %s, retrying%s", self.broker.url(), hint)

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.DisconnectFlags,
        reason: paho.ReasonCode,
        properties: paho.Properties | None,
    ) -> None:
        self.connected = False
        self._resending = True
        if reason.is_failure:
            log.warning("lost the broker (%s); spooling until it is back", reason)

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        if msg.topic == self._config_topic:
            self._on_config(bytes(msg.payload))
