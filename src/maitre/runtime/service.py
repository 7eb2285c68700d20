"""The running venue service: MQTT ingest → presence → arrivals → alert hub, on one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import gc
import logging
import time
from datetime import timedelta
from pathlib import Path

import msgspec
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from maitre import wire
from maitre.alerts.hub import AlertHub
from maitre.config import Settings
from maitre.db import check_schema, session_scope
from maitre.guests.offers import load_offer_rules
from maitre.guests.personalization import TagRules
from maitre.hospitality.arrivals import AlertRules, Arrivals, ArrivalWindow
from maitre.hospitality.directory import Directory
from maitre.ingest.foreign import load_foreign_gateways
from maitre.ingest.mqtt import MqttIngress
from maitre.ingest.pipeline import Ingest
from maitre.models import Band, Gateway, Venue, utcnow
from maitre.mqtt import BrokerAddress
from maitre.observability.histogram import Histogram
from maitre.presence import PresenceConfig, PresenceEngine, PresenceEvent
from maitre.runtime.cluster import AlertRelay, VenueClaims
from maitre.runtime.matching import MatchingQueue
from maitre.runtime.plan_jobs import PlanJobs

log = logging.getLogger("maitre.runtime.service")

ALL_VENUES = "*"  # the ingest session of an instance that serves every venue
# Ingest lets other tasks run at least this often while it works through a backlog of batches.
INGEST_SLICE_SECONDS = 0.002
# While a matching transaction runs in its worker thread, ingest holds off (up to this long): both
# need the GIL, and a greeting is worth more than a few ms of sightings, which wait in the inbox.
MATCHING_FIRST_SECONDS = 0.05


def settle_heap() -> None:
    """Put what startup imported and built out of the cycle collector's sight, for good.

    It lives as long as the process: a full collection then walks the objects made since instead
    of ~150,000, and holds the event loop (and a greeting) some 6 ms instead of 80-100 ms.
    """
    gc.collect()
    gc.freeze()


class VenueService:
    """Owns the pipeline; the API reads its state and tells it when the directory changes."""

    def __init__(self, settings: Settings, engine: Engine, broker: BrokerAddress | None) -> None:
        self.settings = settings
        self.engine = engine
        self.broker = with_tls_files(broker, settings) if broker is not None else None
        self.directory = Directory()
        # The child that predicts reads the plan from the database this service uses.
        self.plan_jobs = PlanJobs(engine.url.render_as_string(hide_password=False))
        self.presence = PresenceEngine(
            self.directory.gateway_roles,
            PresenceConfig(
                p_enter=settings.arrival_certainty,
                track_dwell=settings.arrival_dwell_seconds,
                door_test=settings.arrival_door_test,
            ),
            models=self.directory.venue_models,
        )
        # ESPresense / OpenMQTTGateway gateways mapped onto ours; a bad mapping stops the start.
        self.foreign = load_foreign_gateways(settings.foreign_gateways, settings.foreign_gateways_file)
        self.ingest = Ingest(
            self.presence,
            known_gateways=self.directory.gateways,
            tracked_bands=self.directory.tracked_bands,
            rotating_ids=self.directory.rotating_ids,
            clock=time.time,
            max_payload_bytes=settings.max_payload_bytes,
            max_clock_skew=settings.max_clock_skew_seconds,
            resolver=self.directory.resolver,
            foreign=self.foreign or None,
            replay_window=settings.replay_window_seconds,
            gateway_burst_messages=settings.gateway_burst_messages,
            gateway_messages_per_second=settings.gateway_messages_per_second,
            gateway_burst_bytes=settings.gateway_burst_bytes,
            gateway_bytes_per_second=settings.gateway_bytes_per_second,
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
        self.claims = VenueClaims(engine, settings.venues, settings.standby_venues, settings.mqtt_client_id)
        # Serving some venues (of several instances) rather than every venue.
        self.partitioned = bool(settings.venues or settings.standby_venues)
        self.relay: AlertRelay | None = None
        # The MQTT sessions ingesting: one per served venue, or ALL_VENUES for one instance serving all.
        self.ingresses: dict[str, MqttIngress] = {}
        self._ingest_tasks: dict[str, asyncio.Task[None]] = {}
        self.matching = MatchingQueue(self.arrivals, self.hub)
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def ingress(self) -> MqttIngress | None:
        """The first ingest session (the only one, unless this instance serves several venues)."""
        return next(iter(self.ingresses.values()), None)

    def mqtt_connected(self) -> bool:
        """Every ingest session (and the alert relay, when there is one) is connected."""
        events = [ingress.connected for ingress in self.ingresses.values()]
        if self.relay is not None:
            events.append(self.relay.connected)
        return all(event.is_set() for event in events)

    @property
    def alert_latency(self) -> Histogram:
        """Seconds from taking an event off the matching queue to its alerts fanned out."""
        return self.matching.latency

    @property
    def alert_latencies(self) -> list[float]:
        """The last thousand of those, for tests and benchmarks."""
        return self.matching.latencies

    def inbox_depth(self) -> int:
        return sum(ingress.inbox.qsize() for ingress in self.ingresses.values())

    async def start(self) -> None:
        self.plan_jobs.loop = asyncio.get_running_loop()
        # An outdated schema fails later, mid-service, on the first missing column: refuse now.
        await asyncio.to_thread(check_schema, self.engine)
        held = await asyncio.to_thread(self.claims.acquire)  # VenueTaken: another instance serves one of ours
        if self.broker is not None and self.partitioned:
            self.relay = AlertRelay(
                self.broker, asyncio.get_running_loop(), self.hub.publish, self._directory_changed_elsewhere
            )
            self.hub.relay = self.relay.publish
            self.directory.changed = self._announce_directory_change
            self.relay.start()
        self.reload_directory(announce=False)
        if self.broker is not None:
            for venue in held if self.partitioned else [ALL_VENUES]:
                self._serve(venue)
        if self.partitioned and self.claims.shared:
            self._tasks.append(asyncio.create_task(self._claims_loop(), name="claims"))
        self._tasks.append(asyncio.create_task(self.matching.run(), name="matching"))
        self._tasks.append(asyncio.create_task(self._housekeeping_loop(), name="housekeeping"))

    async def stop(self) -> None:
        await self.plan_jobs.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for venue in list(self.ingresses):
            await self._unserve(venue)
        if self.relay is not None:
            self.relay.stop()
        # Last: the venues are free for another instance only once we are done with them.
        await asyncio.to_thread(self.claims.release)

    def venue_claims(self) -> dict[str, str]:
        """Each venue this instance may serve: 'serving' or 'standby' (waiting for it)."""
        return {
            **dict.fromkeys(self.claims.waiting, "standby"),
            **dict.fromkeys(self.claims.held, "serving"),
        }

    def _serve(self, venue: str) -> None:
        """Start ingesting a venue (or every venue): its own persistent session and ingest task."""
        assert self.broker is not None
        every = venue == ALL_VENUES
        ingress = MqttIngress(
            self.broker,
            self.settings.mqtt_client_id if every else f"{self.settings.mqtt_client_id}-{venue}",
            asyncio.get_running_loop(),
            self.ingest.stats,
            self._on_status,
            foreign_subscriptions=self.foreign.subscriptions
            if every
            else self.foreign.subscriptions_for(venue),
            subscriptions=wire.gateway_subscriptions([] if every else [venue]),
            on_telemetry=self._on_telemetry,
        )
        self.ingresses[venue] = ingress
        ingress.start()
        self._ingest_tasks[venue] = asyncio.create_task(self._ingest_loop(ingress), name=f"ingest-{venue}")
        if not every:
            log.info("serving venue %s", venue)

    async def _unserve(self, venue: str) -> None:
        task = self._ingest_tasks.pop(venue, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        ingress = self.ingresses.pop(venue, None)
        if ingress is not None:
            # Unacknowledged messages stay in the venue's session, for whoever serves it next.
            await asyncio.to_thread(ingress.stop)

    async def _claims_loop(self) -> None:
        """Take over venues whose owner has gone; stop serving any whose claim was lost."""
        while True:
            await asyncio.sleep(self.settings.claim_poll_seconds)
            try:
                gained, lost = await asyncio.to_thread(self.claims.poll)
            except Exception:  # whatever it was, the next poll tries again: never stop polling
                log.exception("checking the venue claims failed")
                continue
            for venue in lost:
                log.error("no longer serving venue %s: its claim was lost; waiting to claim it again", venue)
                await self._unserve(venue)
            for venue in gained:
                log.warning("taking over venue %s: no other instance serves it", venue)
                self._serve(venue)

    def reload_directory(self, announce: bool = True) -> None:
        with session_scope(self.engine) as session:
            self.directory.reload(session, announce=announce)

    def _announce_directory_change(self, session: Session, guest: int | None) -> None:
        """Once the change commits, the other instances re-read it (consent withdrawn here stops
        tracking on the instance that serves the venue too)."""
        relay = self.relay
        if relay is not None:
            sa_event.listen(
                session, "after_commit", lambda _s: relay.publish_directory_change(guest), once=True
            )

    def _directory_changed_elsewhere(self, guest: int | None) -> None:
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, self._reread_directory, loop, guest)

    def _reread_directory(self, loop: asyncio.AbstractEventLoop, guest: int | None) -> None:
        try:
            with session_scope(self.engine) as session:
                if guest is None:
                    self.directory.reload(session, announce=False)
                    return
                self.directory.refresh_bands_of(session, guest, announce=False)
                bands = session.exec(select(Band.advertiser_id).where(Band.guest_id == guest)).all()
        except OperationalError as exc:
            log.warning("could not re-read the directory after a change elsewhere: %s", exc)
            return
        untracked = [b for b in bands if b not in self.directory.tracked_bands]
        if untracked:  # consent withdrawn: forget where those bands were, now
            loop.call_soon_threadsafe(self._forget_bands, untracked)

    def _forget_bands(self, bands: list[str]) -> None:
        for band in bands:
            self.presence.forget_band(band)

    def submit(self, event: PresenceEvent) -> None:
        """Queue a presence event for matching (used by ingest, and by tests and tools)."""
        self.matching.put(event)

    async def _ingest_loop(self, ingress: MqttIngress) -> None:
        inbox, ack, handle = ingress.inbox, ingress.ack, self.ingest.handle
        queue, worth = self.matching.put, self.matching.worth_matching
        clock = time.perf_counter
        yielded = clock()
        idle = self.matching.idle
        while True:
            topic, payload, token = await inbox.get()
            if not idle.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(MATCHING_FIRST_SECONDS):
                        await idle.wait()
            events = [e for e in handle(topic, payload) if worth(e)]
            if not events:
                ack(token)
            else:
                # Acknowledged with the event handled last, once it is recorded: killed before then,
                # the broker resends the batch to the next start.
                events.sort(key=lambda e: e.kind == "approaching")
                for event in events[:-1]:
                    queue(event)
                queue(events[-1], functools.partial(ack, token))
            # A get from a non-empty queue does not suspend, so a backlog would hold back matching
            # and the screens until it is drained: let them in after events, and every slice.
            if events or clock() - yielded > INGEST_SLICE_SECONDS:
                await asyncio.sleep(0)
                yielded = clock()

    async def _housekeeping_loop(self) -> None:
        tick = 0
        while True:
            await asyncio.sleep(1)
            tick += 1
            # Every second: rotation windows can be as short as 1 s (K = 0).
            self.directory.resolver.refresh(time.time())
            if tick % 10 == 0:
                self.matching.expire_quiet()
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

    def _on_telemetry(self, venue: str, gateway: str, payload: bytes) -> None:
        """Keep a registered gateway's faults and scanning mode for /metrics; nothing else of telemetry."""
        try:
            report = wire.decode_telemetry(payload)
        except (msgspec.ValidationError, msgspec.DecodeError):
            self.ingest.stats.dropped["malformed_telemetry"] += 1
            return
        if (venue, gateway) not in self.directory.gateways:
            return
        stats = self.ingest.stats
        stats.gateway_errors[venue, gateway] = dict(report.errors)
        stats.gateway_scanning[venue, gateway] = report.scanning

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


def with_tls_files(broker: BrokerAddress, settings: Settings) -> BrokerAddress:
    """For mqtts://, the address with the CA and client certificate the settings name."""
    if not broker.tls:
        return broker
    return dataclasses.replace(
        broker,
        ca_file=_path(settings.mqtt_ca_file),
        cert_file=_path(settings.mqtt_cert_file),
        key_file=_path(settings.mqtt_key_file),
    )


def _path(path: Path | None) -> str | None:
    return str(path) if path is not None else None
