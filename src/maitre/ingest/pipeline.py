"""From one MQTT message to presence events: validate, dedupe, filter, observe. No I/O here."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import cast

import msgspec
import numpy as np
import numpy.typing as npt

from maitre import wire
from maitre.identity.resolver import EidResolver, Refused
from maitre.ingest import packed
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
from maitre.presence.key_index import KeyIndex

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
        rotating_ids: set[str] | None = None,
    ) -> None:
        self.presence = presence
        self.known_gateways = known_gateways
        self.tracked_bands = tracked_bands
        # Tracked bands that advertise rotating ids only: their fixed id on the air is a forgery.
        self.rotating_ids: set[str] = rotating_ids if rotating_ids is not None else set()
        self.clock = clock
        self.max_payload_bytes = max_payload_bytes
        self.max_clock_skew = max_clock_skew
        self.replay_window = replay_window  # batches sent longer ago are refused (stale_batch)
        self._last_logged: dict[str, float] = {}
        self.resolver = resolver if resolver is not None else EidResolver()
        self.stats = IngestStats()
        self.dedupe = BatchDeduper()
        # Packed band keys seen tracked, checked again whenever the tracked set's version moves.
        self._tracked_keys = KeyIndex()
        self._tracked_version = -1
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
            if wire.is_packed(payload):
                columns: packed.PackedBatch | None = packed.decode(payload)
                batch: wire.SightingBatch | wire.PackedHeader = columns.header  # type: ignore[union-attr]
                bad_sightings = 0
            else:
                columns = None
                batch, bad_sightings = wire.decode_batch_keeping_good(payload)
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
        if bad_sightings:
            stats.dropped_sightings[Drop.MALFORMED_SIGHTING] += bad_sightings
        gateway = (batch.venue, batch.gateway)
        stats.batches_by_gateway[gateway] += 1
        stats.last_seen[gateway] = now
        events = self._observe(batch.venue, batch.gateway, batch.sightings) if batch.sightings else []
        if columns is not None and len(columns):
            events += self._observe_packed(batch.venue, batch.gateway, columns)
        return events

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
        now = self.clock()
        tracked = self.tracked_bands
        # The hot path: a set look-up and a range check per sighting, each pass in one comprehension.
        kept = [s for s in sightings if s.id in tracked]
        if self.rotating_ids and kept:
            rotating = self.rotating_ids
            kept = [s for s in kept if s.id not in rotating]
        untracked = unresolved = 0
        if len(kept) != len(sightings):
            kept, untracked, unresolved = self._resolve(sightings, now)
        earliest, latest = now - self.max_clock_skew, now + self.max_clock_skew
        timely = [s for s in kept if earliest <= s.t <= latest]
        events = self.presence.observe_batch(venue, gateway, timely) if timely else []
        self._count(events, len(timely), len(kept) - len(timely), untracked, unresolved)
        return events

    def _observe_packed(self, venue: str, gateway: str, batch: packed.PackedBatch) -> list[PresenceEvent]:
        """_observe for a packed batch's columns: band keys looked up as numbers, the rest as arrays."""
        now = self.clock()
        unresolved = 0
        # ids None: every sighting kept is a tracked band, known by its key; picked None: all kept.
        ids: list[str] | None = None
        picked, untracked = self._tracked_bands_only(batch)
        if untracked < 0:
            positions, ids, untracked, unresolved = self._resolve_packed(batch, now)
            picked = np.array(positions, dtype=np.intp)
        rssi, tx, n, keys, t = batch.rssi, batch.tx, batch.n, batch.key, batch.t
        if picked is not None:
            rssi, tx, n, keys, t = rssi[picked], tx[picked], n[picked], keys[picked], t[picked]
        z, count = np.empty(len(t)), np.empty(len(t))
        earliest, latest = float(now - self.max_clock_skew), float(now + self.max_clock_skew)
        power = float(self.presence.config.default_power_1m)  # (floats: the kernel takes them unchecked)
        late = packed.levels_unchecked(t, earliest, latest, rssi, tx, n, power, z, count)
        if late:
            inside = np.flatnonzero((t >= earliest) & (t <= latest))
            picked = inside if picked is None else picked[inside]
            t, z, count, keys = t[inside], z[inside], count[inside], keys[inside]
            if ids is not None:
                ids = [ids[i] for i in inside.tolist()]
        kept = len(t)
        events: list[PresenceEvent] = []
        if kept and venue in self.presence.models:
            # The plan's track takes one sighting at a time anyway: structs cost little more there.
            sightings = batch.sightings(None if picked is None else picked.tolist())
            if ids is not None:
                sightings = [
                    s if s.id == i else msgspec.structs.replace(s, id=i)
                    for s, i in zip(sightings, ids, strict=True)
                ]
            events = self.presence.observe_batch(venue, gateway, sightings)
        elif kept and ids is None:
            events = self.presence.observe_keys(venue, gateway, keys, packed.band_id, t, z, count)
        elif kept:
            events = self.presence.observe_columns(venue, gateway, cast(list[str], ids), t, z, count)
        self._count(events, kept, late, untracked, unresolved)
        return events

    def _tracked_bands_only(self, batch: packed.PackedBatch) -> tuple[npt.NDArray[np.intp] | None, int]:
        """For a batch of band keys only: the positions of the tracked ones (None: all), and how
        many were not; -1 for other batches, or without a TrackedBands set to say when the
        index of keys seen tracked needs checking again."""
        version = getattr(self.tracked_bands, "version", None)
        if version is None or batch.others:
            return None, -1
        index, tracked, rotating = self._tracked_keys, self.tracked_bands, self.rotating_ids

        def heard_as_itself(band: str) -> bool:  # tracked, and not a rotating band's fixed id
            return band in tracked and band not in rotating

        if version != self._tracked_version:
            self._tracked_version = version
            still = [heard_as_itself(packed.band_id(key)) for key in index.keys().tolist()]
            index.retain(np.array(still, dtype=np.bool_))
        found, present = index.lookup(batch.key)
        if present == len(batch):
            return None, 0
        # Spelled out only for keys not yet seen tracked: new bands, and bands nobody tracks.
        missing = np.flatnonzero(found < 0)
        keys = batch.key[missing].tolist()
        known = [heard_as_itself(packed.band_id(key)) for key in keys]
        if any(known):
            seen = [key for key, ok in zip(keys, known, strict=True) if ok]
            index.add(np.array(seen, dtype=np.uint64), np.zeros(len(seen), dtype=np.intp))
        if all(known):
            return None, 0
        untracked = missing[~np.array(known, dtype=np.bool_)]
        return np.setdiff1d(np.arange(len(batch)), untracked, assume_unique=True), len(untracked)

    def _resolve_packed(self, batch: packed.PackedBatch, now: float) -> tuple[list[int], list[str], int, int]:
        """Positions and ids of the tracked packed sightings (rotating ids resolved); how many were
        untracked, and unresolved."""
        kept: list[int] = []
        kept_ids: list[str] = []
        untracked = unresolved = 0
        for i, ident in enumerate(batch.ids()):
            band = self._tracked_band(ident, now)
            if band is Drop.UNTRACKED_BAND:
                untracked += 1
            elif band is Drop.UNRESOLVED_EID:
                unresolved += 1
            elif band is not Drop.REPLAYED_EID:
                kept.append(i)
                kept_ids.append(band)
        return kept, kept_ids, untracked, unresolved

    def _tracked_band(self, ident: str, now: float) -> str | Drop:
        """The tracked band an advertiser id names (a rotating id resolved), or why there is none."""
        if ident in self.tracked_bands:
            return Drop.UNTRACKED_BAND if ident in self.rotating_ids else ident
        if not ident.startswith("eid:"):
            return Drop.UNTRACKED_BAND
        band = self.resolver.resolve(ident, now)
        if band is None:
            return Drop.UNRESOLVED_EID
        if band is Refused.REPLAYED:
            self.stats.dropped_sightings[Drop.REPLAYED_EID] += 1  # counted here: rare, and no hot path
            return Drop.REPLAYED_EID
        return band if band in self.tracked_bands else Drop.UNTRACKED_BAND

    def _count(
        self, events: list[PresenceEvent], kept: int, late: int, untracked: int, unresolved: int
    ) -> None:
        stats = self.stats
        for event in events:
            stats.events_by_kind[event.kind] += 1
        stats.sightings += kept
        stats.events += len(events)
        dropped = stats.dropped_sightings
        if untracked:
            dropped[Drop.UNTRACKED_BAND] += untracked
        if late:
            dropped[Drop.CLOCK_SKEW] += late
        if unresolved:
            dropped[Drop.UNRESOLVED_EID] += unresolved

    def _resolve(
        self, sightings: Iterable[wire.Sighting], now: float
    ) -> tuple[list[wire.Sighting], int, int]:
        """The tracked sightings in order, rotating ids resolved to their bands; untracked, unresolved."""
        kept: list[wire.Sighting] = []
        untracked = unresolved = 0
        for s in sightings:
            band = self._tracked_band(s.id, now)
            if band is Drop.UNTRACKED_BAND:
                untracked += 1
            elif band is Drop.UNRESOLVED_EID:
                unresolved += 1
            elif band is not Drop.REPLAYED_EID:
                kept.append(s if band == s.id else msgspec.structs.replace(s, id=band))
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
