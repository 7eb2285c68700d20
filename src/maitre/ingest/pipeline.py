"""From one MQTT message to presence events: validate, dedupe, filter, observe. No I/O here."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence

import msgspec

from maitre import wire
from maitre.identity.resolver import EidResolver
from maitre.ingest.budget import (
    BURST_BYTES,
    BURST_MESSAGES,
    BYTES_PER_SECOND,
    MESSAGES_PER_SECOND,
    UNREGISTERED,
    GatewayBudget,
)
from maitre.ingest.dedupe import BatchDeduper
from maitre.ingest.foreign import ForeignDrop, ForeignGateways
from maitre.ingest.stats import Drop, IngestStats
from maitre.presence import PresenceEngine, PresenceEvent

log = logging.getLogger("maitre.ingest")

LOG_EVERY_SECONDS = 1.0  # at most one log line a second per drop reason; the counters count them all


class Ingest:
    """Turns raw (topic, payload) pairs into presence events, counting every drop by reason.

    `known_gateways` and `tracked_bands` are live views the service keeps up to date; a band is
    tracked only while it is linked to a guest who consented, so other sightings stop here.
    Each gateway has a budget of messages and bytes (ingest/budget.py); `gateway_burst_messages`
    0 turns budgets off.
    """

    def __init__(
        self,
        presence: PresenceEngine,
        known_gateways: set[tuple[str, str]],
        tracked_bands: set[str],
        clock: Callable[[], float],
        max_payload_bytes: int = wire.MAX_PAYLOAD_BYTES,
        max_clock_skew: float = 30.0,
        resolver: EidResolver | None = None,
        foreign: ForeignGateways | None = None,
        replay_window: float = 600.0,
        gateway_burst_messages: int = BURST_MESSAGES,
        gateway_messages_per_second: float = MESSAGES_PER_SECOND,
        gateway_burst_bytes: int = BURST_BYTES,
        gateway_bytes_per_second: float = BYTES_PER_SECOND,
    ) -> None:
        self.presence = presence
        self.known_gateways = known_gateways
        self.tracked_bands = tracked_bands
        self.clock = clock
        self.max_payload_bytes = max_payload_bytes
        self.max_clock_skew = max_clock_skew
        self.replay_window = replay_window  # batches sent longer ago are refused (stale_batch)
        self._last_logged: dict[str, float] = {}
        self.resolver = resolver if resolver is not None else EidResolver()
        self.stats = IngestStats()
        self.dedupe = BatchDeduper()
        self.foreign = foreign  # ESPresense / OpenMQTTGateway gateways mapped onto this venue's
        self.budget = (
            GatewayBudget(
                gateway_burst_messages,
                gateway_messages_per_second,
                gateway_burst_bytes,
                gateway_bytes_per_second,
                clock=clock,  # the ingest's clock: a replay faster than real time budgets in its own time
            )
            if gateway_burst_messages
            else None
        )

    def handle(self, topic: str, payload: bytes) -> list[PresenceEvent]:
        """Process one sightings message; never raises on bad input."""
        stats = self.stats
        stats.messages += 1
        if self.foreign is not None and self.foreign.claims(topic):
            return self._handle_foreign(topic, payload)
        parts = wire.parse_topic(topic)
        if parts is None or parts.kind != "sightings":
            return self._drop(Drop.MALFORMED, topic, "not a sightings topic")
        if parts.version != f"v{wire.PROTOCOL_VERSION}":
            return self._drop(Drop.UNKNOWN_VERSION, topic, f"protocol {parts.version}")
        # Before anything costly: a flooding gateway's excess must cost next to nothing.
        if self.budget is not None:
            gateway = (parts.venue, parts.gateway)
            if gateway not in self.known_gateways:
                gateway = UNREGISTERED
            if not self.budget.spend(gateway, len(payload)):
                stats.flooded[gateway] += 1
                return self._drop(Drop.GATEWAY_FLOOD, topic, "over the gateway's message or byte budget")
        if len(payload) > self.max_payload_bytes:
            return self._drop(Drop.OVERSIZED, topic, f"{len(payload)} bytes")
        try:
            batch = wire.decode_batch(payload)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            return self._drop(Drop.MALFORMED, topic, str(exc)[:200])
        if batch.venue != parts.venue or batch.gateway != parts.gateway:
            return self._drop(Drop.TOPIC_MISMATCH, topic, f"payload says {batch.venue}/{batch.gateway}")
        if (batch.venue, batch.gateway) not in self.known_gateways:
            return self._drop(Drop.UNKNOWN_GATEWAY, topic, "gateway not registered")
        # Time before sequence: a refused batch must not move the deduper's idea of "latest".
        now = self.clock()
        if now - batch.sent > self.replay_window:
            return self._drop(Drop.STALE_BATCH, topic, f"sent {now - batch.sent:.0f} s ago")
        if batch.sent - now > self.max_clock_skew:
            return self._drop(Drop.FUTURE_BATCH, topic, f"sent {batch.sent - now:.0f} s ahead")
        refused = self.dedupe.check(batch.venue, batch.gateway, batch.boot, batch.seq)
        if refused is not None:
            level = logging.DEBUG if refused is Drop.DUPLICATE_BATCH else logging.WARNING
            return self._drop(refused, topic, f"boot {batch.boot[:16]} seq {batch.seq}", level=level)

        stats.batches += 1
        gateway = (batch.venue, batch.gateway)
        stats.batches_by_gateway[gateway] += 1
        stats.last_seen[gateway] = now
        return self._observe(batch.venue, batch.gateway, batch.sightings)

    def observe_foreign(
        self, venue: str, gateway: str, sightings: Sequence[wire.Sighting]
    ) -> list[PresenceEvent]:
        """Feed sightings another make of gateway reported, already translated, down the batch path."""
        if (venue, gateway) not in self.known_gateways:
            return self._drop(Drop.UNKNOWN_GATEWAY, f"{venue}/{gateway}", "mapped to, but not registered")
        self.stats.last_seen[(venue, gateway)] = self.clock()
        return self._observe(venue, gateway, sightings)

    def _handle_foreign(self, topic: str, payload: bytes) -> list[PresenceEvent]:
        assert self.foreign is not None
        if len(payload) > self.max_payload_bytes:
            return self._drop(Drop.OVERSIZED, topic, f"{len(payload)} bytes")
        try:
            found = self.foreign.translate(topic, payload, self.clock())
        except ForeignDrop as drop:
            return self._drop(drop.reason, topic, drop.detail)
        return self.observe_foreign(found.venue, found.gateway, (found.sighting,))

    def _observe(self, venue: str, gateway: str, sightings: Sequence[wire.Sighting]) -> list[PresenceEvent]:
        """Tracked, timely sightings into the presence engine, as one batch; the events they decide."""
        stats = self.stats
        now = self.clock()
        tracked = self.tracked_bands
        # The hot path: a set look-up and a range check per sighting, each pass in one comprehension.
        kept = [s for s in sightings if s.id in tracked]
        untracked = unresolved = 0
        if len(kept) != len(sightings):
            kept, untracked, unresolved = self._resolve(sightings, now)
        earliest, latest = now - self.max_clock_skew, now + self.max_clock_skew
        timely = [s for s in kept if earliest <= s.t <= latest]
        events = self.presence.observe_batch(venue, gateway, timely) if timely else []
        for event in events:
            stats.events_by_kind[event.kind] += 1
        stats.sightings += len(timely)
        stats.events += len(events)
        dropped = stats.dropped_sightings
        if untracked:
            dropped[Drop.UNTRACKED_BAND] += untracked
        if len(timely) != len(kept):
            dropped[Drop.CLOCK_SKEW] += len(kept) - len(timely)
        if unresolved:
            dropped[Drop.UNRESOLVED_EID] += unresolved
        return events

    def _resolve(
        self, sightings: Iterable[wire.Sighting], now: float
    ) -> tuple[list[wire.Sighting], int, int]:
        """The tracked sightings in order, rotating ids resolved to their bands; untracked, unresolved."""
        tracked = self.tracked_bands
        kept: list[wire.Sighting] = []
        untracked = unresolved = 0
        for s in sightings:
            if s.id not in tracked:
                if not s.id.startswith("eid:"):
                    untracked += 1
                    continue
                band = self.resolver.resolve(s.id, now)
                if band is None:
                    unresolved += 1
                    continue
                if band not in tracked:
                    untracked += 1
                    continue
                s = msgspec.structs.replace(s, id=band)
            kept.append(s)
        return kept, untracked, unresolved

    def _drop(
        self, reason: str, topic: str, detail: str, level: int = logging.WARNING
    ) -> list[PresenceEvent]:
        self.stats.dropped[reason] += 1
        # A flood of bad messages must not become a flood of log lines: one a second per reason.
        now = time.monotonic()
        if now - self._last_logged.get(reason, -LOG_EVERY_SECONDS) >= LOG_EVERY_SECONDS:
            self._last_logged[reason] = now
            log.log(level, "dropped message on %s: %s (%s)", topic[:200], reason, detail)
        return []
