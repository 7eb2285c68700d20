"""The running venue service: MQTT ingest → presence → arrivals → alert hub, on one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
from datetime import timedelta
from pathlib import Path

import msgspec
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from maitre import wire
from maitre.alerts.hub import AlertHub
from maitre.cluster import AlertRelay, VenueClaims, gateway_subscriptions
from maitre.config import Settings
from maitre.db import check_schema, session_scope
from maitre.guests.offers import load_offer_rules
from maitre.guests.personalization import TagRules
from maitre.hospitality.arrivals import AlertRules, Arrivals, ArrivalWindow
from maitre.hospitality.directory import Directory
from maitre.ingest.foreign import load_foreign_gateways
from maitre.ingest.mqtt import AckToken, MqttIngress
from maitre.ingest.pipeline import Ingest
from maitre.models import AlertRead, Gateway, Venue, utcnow
from maitre.mqtt import BrokerAddress
from maitre.observability.metrics import Histogram
from maitre.presence import PresenceEngine, PresenceEvent

log = logging.getLogger("maitre.service")



class VenueService:
    """Owns the pipeline; the API reads its state and tells it when the directory changes."""

    def __init__(self, settings: Settings, engine: Engine, broker: BrokerAddress | None) -> None:
        self.settings = settings
        self.engine = engine
        if broker is not None and broker.tls:
            broker = dataclasses.replace(
                broker,
                ca_file=_path(settings.mqtt_ca_file),
                cert_file=_path(settings.mqtt_cert_file),
                key_file=_path(settings.mqtt_key_file),
            )
        self.broker = broker
        self.directory = Directory()
        self.presence = PresenceEngine(self.directory.gateway_roles, models=self.directory.venue_models)
        # ESPresense / OpenMQTTGateway gateways mapped onto ours; a bad mapping stops the start.
        self.foreign = load_foreign_gateways(settings.foreign_gateways, settings.foreign_gateways_file)
        self.ingest = Ingest(
            self.presence,
            known_gateways=self.directory.gateways,
            tracked_bands=self.directory.tracked_bands,
            clock=time.time,
            max_payload_bytes=settings.max_payload_bytes,
            max_clock_skew=settings.max_clock_skew_seconds,
            resolver=self.directory.resolver,
            foreign=self.foreign or None,
            replay_window=settings.replay_window_seconds,
        )
        self.arrivals = Arrivals(
            engine,
            ArrivalWindow(
                early=timedelta(minutes=settings.arrival_early_minutes),
                late=timedelta(minutes=settings.arrival_late_minutes),
            ),
            AlertRules(
                kitchen_on_approach_minutes=settings.kitchen_start_on_approach_minutes,
                vip_visits=settings.vip_visits,
                tags=TagRules(
                    regular_visits=settings.regular_visits,
                    vip_visits=settings.vip_visits,
                    vip_spend_cents=settings.vip_spend_cents,
                    offers=load_offer_rules(settings.offer_rules_file),
                ),
            ),
        )
        self.hub = AlertHub()
        self.claims = VenueClaims(engine, settings.venues)
        self.relay: AlertRelay | None = None
        self.ingress: MqttIngress | None = None
        # Each event with the MQTT message to acknowledge once it is recorded (None: nothing to ack).
        self._events: asyncio.Queue[tuple[PresenceEvent, AckToken | None]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        # Wall-clock seconds from the decisive sighting's arrival at ingest to hub fan-out.
        self.alert_latencies: list[float] = []
        self.alert_latency = Histogram()  # the same, for /metrics

    async def start(self) -> None:
        # An outdated schema fails later, mid-service, on the first missing column: refuse now.
        await asyncio.to_thread(check_schema, self.engine)
        await asyncio.to_thread(self.claims.acquire)  # VenueTaken: another instance serves one of ours
        if self.broker is not None and self.settings.venues:
            self.relay = AlertRelay(self.broker, asyncio.get_running_loop(), self.hub.publish)
            self.hub.relay = self.relay.publish
            self.relay.start()
        self.reload_directory()
        if self.broker is not None:
            self.ingress = MqttIngress(
                self.broker,
                self.settings.mqtt_client_id,
                asyncio.get_running_loop(),
                self.ingest.stats,
                self._on_status,
                foreign_subscriptions=self.foreign.subscriptions,
                subscriptions=gateway_subscriptions(self.settings.venues),
            )
            self.ingress.start()
            self._tasks.append(asyncio.create_task(self._ingest_loop(), name="ingest"))
        self._tasks.append(asyncio.create_task(self._arrivals_loop(), name="arrivals"))
        self._tasks.append(asyncio.create_task(self._housekeeping_loop(), name="housekeeping"))

    async def stop(self) -> None:
        if self.ingress is not None:
            self.ingress.stop()
        if self.relay is not None:
            self.relay.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.claims.release()  # last: the venues are free for another instance only once we are done

    def reload_directory(self) -> None:
        with session_scope(self.engine) as session:
            self.directory.reload(session)

    def submit(self, event: PresenceEvent) -> None:
        """Queue a presence event for matching (used by ingest, and by tests and tools)."""
        self._events.put_nowait((event, None))

    async def _ingest_loop(self) -> None:
        ingress = self.ingress
        assert ingress is not None
        inbox, ack, handle, events_out = ingress.inbox, ingress.ack, self.ingest.handle, self._events
        while True:
            topic, payload, token = await inbox.get()
            events = handle(topic, payload)
            if not events:
                ack(token)
                continue
            # Acknowledged with its last event, once that is recorded (events are handled in order):
            # killed before then, the broker resends the batch to the next start.
            for event in events[:-1]:
                events_out.put_nowait((event, None))
            events_out.put_nowait((events[-1], token))

    async def _arrivals_loop(self) -> None:
        while True:
            event, token = await self._events.get()
            started = time.perf_counter()
            alerts = await self._handle_with_retry(event)  # committed and published
            if token is not None and self.ingress is not None:
                self.ingress.ack(token)
            if alerts:
                elapsed = time.perf_counter() - started
                self.alert_latency.observe(elapsed)
                self.alert_latencies.append(elapsed)
                del self.alert_latencies[:-1000]

    async def _handle_with_retry(self, event: PresenceEvent) -> list[AlertRead]:
        """Record the event's alerts; while the database is away, keep trying rather than lose it.

        Matching uses the event's own time, so an arrival recorded late is still matched to the
        right reservation; its MQTT message stays unacknowledged until then, so a restart
        meanwhile loses nothing either.
        """
        delay = 0.2
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self.hub.record(functools.partial(self.arrivals.handle, event))
            except OperationalError as exc:
                log.warning("database unavailable handling %s (attempt %d): %s", event.kind, attempt, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            except Exception:
                log.exception("could not handle presence event %s", event)
                return []

    async def _housekeeping_loop(self) -> None:
        tick = 0
        while True:
            await asyncio.sleep(1)
            tick += 1
            # Every second: rotation windows can be as short as 1 s (K = 0).
            self.directory.resolver.refresh(time.time())
            if tick % 10 == 0:
                dropped = self.presence.expire(time.time())
                if dropped:
                    log.debug("forgot %d bands no longer heard", dropped)

    def _on_status(self, venue: str, gateway: str, payload: bytes) -> None:
        try:
            status = wire.decode_status(payload)
        except (msgspec.ValidationError, msgspec.DecodeError):
            self.ingest.stats.dropped["malformed_status"] += 1
            return
        if (venue, gateway) not in self.directory.gateways:
            return
        online = status.state == "online"
        asyncio.get_running_loop().run_in_executor(None, self._record_status, venue, gateway, online)

    def _record_status(self, venue: str, gateway: str, online: bool) -> None:
        try:
            with session_scope(self.engine) as session:
                row = session.exec(
                    select(Gateway).join(Venue).where(Venue.slug == venue, Gateway.name == gateway)
                ).first()
                if row is not None:
                    row.online = online
                    row.last_seen = utcnow()
                    session.add(row)
        except OperationalError as exc:
            log.warning("could not record status of gateway %s/%s: %s", venue, gateway, exc)


def _path(path: Path | None) -> str | None:
    return str(path) if path is not None else None
