"""Several service instances, one venue each at a time: venue claims and alert fan-out via the broker.

An instance told which venues it serves (MAITRE_VENUES) subscribes to those venues' gateway
topics only, so a band's presence lives in exactly one instance. It claims each venue with a
PostgreSQL advisory lock held for its lifetime: a second instance listing the same venue is
refused at start, and when the owner dies its connection closes and the claim is free again.
Alerts are committed (and numbered) in the shared database by whichever instance wrote them,
then published to `maitre/v1/{venue}/alerts`; every instance forwards what the others publish to
its own screens, so a screen may connect to any instance. A screen drops a sequence number it
has already shown, so a repeat (QoS 1 redelivery) costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence

import msgspec
import paho.mqtt.client as paho
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from maitre import wire
from maitre.models import AlertRead
from maitre.mqtt import BrokerAddress, make_client

log = logging.getLogger("maitre.cluster")

ALERTS_SUBSCRIPTION = f"{wire.TOPIC_ROOT}/+/alerts"


def alerts_topic(venue: str) -> str:
    return f"{wire.TOPIC_ROOT}/{venue}/alerts"


def gateway_subscriptions(venues: Sequence[str]) -> list[str]:
    """Gateway topics of these venues, every version (unknown versions are seen and counted)."""
    return [f"maitre/+/{venue}/gw/+/+" for venue in venues] or [wire.ANY_VERSION_SUBSCRIPTION]


class VenueTaken(RuntimeError):
    """Another instance serves a venue this one was told to serve."""


class VenueClaims:
    """PostgreSQL advisory locks, one per venue, held on one connection while the instance runs."""

    def __init__(self, engine: Engine, venues: Sequence[str]) -> None:
        self.engine = engine
        self.venues = list(venues)
        self._conn: Connection | None = None

    def acquire(self) -> None:
        if not self.venues or self.engine.dialect.name != "postgresql":
            return  # one instance on SQLite: nothing to share
        conn = self.engine.connect()
        taken = []
        for venue in self.venues:
            # Keyed by schema too, so separate deployments (and test runs) on one server never clash.
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(hashtext(current_schema() || :key))"),
                {"key": f"/maitre-venue/{venue}"},
            ).scalar()
            if not got:
                taken.append(venue)
        conn.commit()
        self._conn = conn
        if taken:
            self.release()  # the claims it did get
            raise VenueTaken(
                f"MAITRE_VENUES: venue {', '.join(taken)} is already served by another running instance; "
                "give each venue to one instance only (it is handed over when that instance stops)"
            )

    def release(self) -> None:
        if self._conn is not None:
            # Advisory locks belong to the database session, which outlives a pooled connection.
            self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
            self._conn.commit()
            self._conn.close()
            self._conn = None


class AlertEnvelope(msgspec.Struct, frozen=True):
    origin: str  # the instance that committed the alert: it has already shown it to its screens
    alert: dict[str, object]


class AlertRelay:
    """Publishes this instance's committed alerts, and hands the other instances' to `deliver`."""

    def __init__(
        self, broker: BrokerAddress, loop: asyncio.AbstractEventLoop, deliver: Callable[[AlertRead], int]
    ) -> None:
        self.instance = uuid.uuid4().hex[:12]
        self.loop = loop
        self.deliver = deliver
        self.connected = asyncio.Event()
        # A clean session: alerts missed while away come from the database when screens resume.
        self.client = make_client(broker, client_id=f"maitre-alerts-{self.instance}")
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.broker = broker

    def start(self) -> None:
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=15)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, alert: AlertRead) -> None:
        payload = msgspec.json.encode(AlertEnvelope(self.instance, alert.model_dump(mode="json")))
        self.client.publish(alerts_topic(alert.venue), payload, qos=wire.QOS)

    def _on_connect(
        self, client: paho.Client, _u: object, _f: object, reason: paho.ReasonCode, _p: object
    ) -> None:
        if reason.is_failure:
            log.error("broker %s refused the alert relay: %s", self.broker.url(), reason)
            return
        client.subscribe(ALERTS_SUBSCRIPTION, wire.QOS)
        self.loop.call_soon_threadsafe(self.connected.set)

    def _on_message(self, client: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        try:
            envelope = msgspec.json.decode(msg.payload, type=AlertEnvelope)
            if envelope.origin == self.instance:
                return
            alert = AlertRead.model_validate(envelope.alert)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            log.warning("dropped a malformed alert on %s: %s", msg.topic, exc)
            return
        try:
            self.loop.call_soon_threadsafe(self.deliver, alert)
        except RuntimeError:  # the loop has closed: shutting down
            pass
