"""Several service instances, one venue each at a time: venue claims and alert fan-out via the broker.

An instance told which venues it serves (MAITRE_VENUES) subscribes to those venues' gateway
topics only, so a band's presence lives in exactly one instance. It claims each venue with a
PostgreSQL advisory lock held for its lifetime: a second instance listing the same venue is
refused at start, and when the owner dies its connection closes and the claim is free again.
An instance listing the venue in MAITRE_STANDBY_VENUES then takes it over within a poll
interval. Each venue has its own persistent MQTT session (client id `{MAITRE_MQTT_CLIENT_ID}-
{venue}`), so the instance that takes a venue over also takes the messages the broker kept for
it, including the dead owner's unacknowledged ones; alerts are idempotent in the database, so
a batch handled twice greets nobody twice.
Alerts are committed (and numbered) in the shared database by whichever instance wrote them,
then published to `maitre/v1/{venue}/alerts`; every instance forwards what the others publish to
its own screens, so a screen may connect to any instance. A screen drops a sequence number it
has already shown, so a repeat (QoS 1 redelivery) costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence

import msgspec
import paho.mqtt.client as paho
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from maitre import wire
from maitre.models import AlertRead
from maitre.mqtt import BrokerAddress, make_client

log = logging.getLogger("maitre.runtime.cluster")

class VenueTaken(RuntimeError):
    """Another instance serves a venue this one was told to serve."""


# The claim connection notices a dead peer or database within about this many seconds, and the
# server drops a vanished instance's claims as quickly (TCP keepalive on both ends).
CLAIM_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3}
CLAIM_TIMEOUT_MS = 10_000


class VenueClaims:
    """PostgreSQL advisory locks, one per venue, held on one connection while the instance runs.

    `venues` are this instance's own: at start each must be free, unless a standby took it over
    while this instance was away (then it waits to get it back). `standby` venues are served by
    this instance only while nobody else does: it takes each over when its owner dies. A standby
    holding a venue marks it with a second lock, so the owner, restarted, knows to wait rather
    than report two instances configured for one venue. With no venues listed an instance serves
    every venue; its MQTT client id is claimed instead, so two such instances are refused too.
    """

    def __init__(
        self, engine: Engine, venues: Sequence[str], standby: Sequence[str] = (), client_id: str = ""
    ) -> None:
        self.engine = engine
        self.venues = list(venues)
        self.standby = [v for v in standby if v not in self.venues]
        self.client_id = client_id
        self.held: list[str] = []  # served now, in the order they were claimed
        self.waiting: list[str] = []  # ours or standby, held by another instance now
        self._conn: Connection | None = None
        self._claims_engine: Engine | None = None

    @property
    def shared(self) -> bool:
        """Whether claims mean anything: PostgreSQL (SQLite runs one instance)."""
        return self.engine.dialect.name == "postgresql"

    def acquire(self) -> list[str]:
        """Claim our venues (VenueTaken if another instance is configured for one) and any free standby."""
        if not self.shared:
            if self.standby:
                raise VenueTaken("MAITRE_STANDBY_VENUES needs PostgreSQL: on SQLite only one instance runs")
            self.held = list(self.venues)
            return list(self.held)
        conn = self._connect()
        if not self.venues and not self.standby:
            if self.client_id and not self._try(conn, f"/maitre-client/{self.client_id}"):
                self.release()
                raise VenueTaken(
                    f"MAITRE_MQTT_CLIENT_ID {self.client_id!r} is in use by another running instance that "
                    "serves every venue; run one such instance, or give each instance its own MAITRE_VENUES"
                )
            return []
        taken = []
        for venue in self.venues:
            if self._try(conn, _venue_key(venue)):
                self.held.append(venue)
            elif self._try(conn, _standby_key(venue)):
                self._unlock(conn, _standby_key(venue))
                taken.append(venue)  # held, and not by a standby: two instances configured for it
            else:
                self.waiting.append(venue)  # a standby serves it since we went away
        if taken:
            self.release()
            raise VenueTaken(
                f"MAITRE_VENUES: venue {', '.join(taken)} is already served by another running instance; "
                "give each venue to one instance only, and list it in MAITRE_STANDBY_VENUES of another "
                "for an automatic takeover when its owner stops"
            )
        for venue in self.standby:
            (self.held if self._take_over(conn, venue) else self.waiting).append(venue)
        return list(self.held)

    def poll(self) -> tuple[list[str], list[str]]:
        """Check our claims are still ours and try the venues we wait for: (gained, lost)."""
        if not self.shared or not (self.held or self.waiting):
            return [], []
        gained = []
        try:
            conn = self._connect()
            conn.execute(text("SELECT 1"))
            for venue in list(self.waiting):
                mine = venue in self.venues
                if self._try(conn, _venue_key(venue)) if mine else self._take_over(conn, venue):
                    self.waiting.remove(venue)
                    self.held.append(venue)
                    gained.append(venue)
        except SQLAlchemyError as exc:
            # The claim connection has gone, and the server has dropped its locks with it: another
            # instance may serve our venues by now, so stop serving them until we claim them again.
            log.error("lost the venue claims' database connection: %s", exc)
            lost = [v for v in self.held if v not in gained]  # those just gained were never served
            self.waiting = self.held + self.waiting
            self.held = []
            self._discard()
            return [], lost
        return gained, []

    def release(self) -> None:
        if self._conn is not None:
            try:
                # Advisory locks belong to the database session; closing it frees them too.
                self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
                self._conn.commit()
            except SQLAlchemyError:
                pass  # gone already: so are its locks
            self._discard()
        self.held = []
        self.waiting = []

    def _connect(self) -> Connection:
        if self._conn is None:
            if self._claims_engine is None:
                # Its own unpooled connection with keepalives: a pooled one could be recycled.
                self._claims_engine = create_engine(
                    self.engine.url,
                    poolclass=NullPool,
                    connect_args={
                        **CLAIM_KEEPALIVE,
                        "connect_timeout": 10,
                        "tcp_user_timeout": CLAIM_TIMEOUT_MS,
                    },
                )
            conn = self._claims_engine.connect()
            # The server drops the claims of an instance that vanished without closing its socket.
            for setting in (
                "tcp_keepalives_idle = 5",
                "tcp_keepalives_interval = 2",
                "tcp_keepalives_count = 3",
            ):
                conn.execute(text(f"SET {setting}"))
            conn.commit()
            self._conn = conn
        return self._conn

    def _discard(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.invalidate()
                self._conn.close()
            self._conn = None

    def _take_over(self, conn: Connection, venue: str) -> bool:
        """Serve a standby venue if nobody does, marked so its owner waits for it when back."""
        if not self._try(conn, _standby_key(venue)):
            return False
        if self._try(conn, _venue_key(venue)):
            return True
        self._unlock(conn, _standby_key(venue))
        return False

    @staticmethod
    def _try(conn: Connection, key: str) -> bool:
        # Keyed by schema too, so separate deployments (and test runs) on one server never clash.
        got = conn.execute(
            text("SELECT pg_try_advisory_lock(hashtext(current_schema() || :key))"), {"key": key}
        ).scalar()
        conn.commit()
        return bool(got)

    @staticmethod
    def _unlock(conn: Connection, key: str) -> None:
        conn.execute(text("SELECT pg_advisory_unlock(hashtext(current_schema() || :key))"), {"key": key})
        conn.commit()


def _venue_key(venue: str) -> str:
    return f"/maitre-venue/{venue}"


def _standby_key(venue: str) -> str:
    return f"/maitre-standby/{venue}"


class AlertEnvelope(msgspec.Struct, frozen=True):
    origin: str  # the instance that committed the alert: it has already shown it to its screens
    alert: dict[str, object]


class DirectoryChange(msgspec.Struct, frozen=True):
    origin: str
    guest: int | None  # one guest's bands and consent; None: everything (venues, gateways)


class AlertRelay:
    """Publishes this instance's committed alerts and directory changes; hands the others' on."""

    def __init__(
        self,
        broker: BrokerAddress,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[AlertRead], int],
        directory_changed: Callable[[int | None], None] | None = None,
    ) -> None:
        self.instance = uuid.uuid4().hex[:12]
        self.loop = loop
        self.deliver = deliver
        self.directory_changed = directory_changed
        self.connected = asyncio.Event()
        # A clean session: alerts missed while away come from the database when screens resume.
        self.client = make_client(broker, client_id=f"maitre-alerts-{self.instance}")
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
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
        self.client.publish(wire.alerts_topic(alert.venue), payload, qos=wire.QOS)

    def publish_directory_change(self, guest: int | None) -> None:
        """Tell the other instances to re-read a guest's bands and consent (None: everything)."""
        payload = msgspec.json.encode(DirectoryChange(self.instance, guest))
        self.client.publish(wire.DIRECTORY_TOPIC, payload, qos=wire.QOS)

    def _on_connect(
        self, client: paho.Client, _u: object, _f: object, reason: paho.ReasonCode, _p: object
    ) -> None:
        if reason.is_failure:
            log.error("broker %s refused the alert relay: %s", self.broker.url(), reason)
            return
        client.subscribe([(wire.ALERTS_SUBSCRIPTION, wire.QOS), (wire.DIRECTORY_TOPIC, wire.QOS)])
        self.loop.call_soon_threadsafe(self.connected.set)

    def _on_disconnect(self, client: paho.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: shutting down
            self.loop.call_soon_threadsafe(self.connected.clear)

    def _on_message(self, client: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        if msg.topic == wire.DIRECTORY_TOPIC:
            self._on_directory_change(msg)
            return
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

    def _on_directory_change(self, msg: paho.MQTTMessage) -> None:
        try:
            change = msgspec.json.decode(msg.payload, type=DirectoryChange)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
            log.warning("dropped a malformed directory change: %s", exc)
            return
        if change.origin == self.instance or self.directory_changed is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: shutting down
            self.loop.call_soon_threadsafe(self.directory_changed, change.guest)
