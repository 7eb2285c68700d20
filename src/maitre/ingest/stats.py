"""Counters for what ingest accepted and what it dropped, by reason."""

from __future__ import annotations

from collections import Counter
from enum import StrEnum


class Drop(StrEnum):
    OVERSIZED = "oversized"
    MALFORMED = "malformed"  # not JSON, or JSON that does not fit the schema
    UNKNOWN_VERSION = "unknown_version"
    TOPIC_MISMATCH = "topic_mismatch"  # payload names another venue or gateway than its topic
    UNKNOWN_GATEWAY = "unknown_gateway"
    DUPLICATE_BATCH = "duplicate_batch"
    # Sent longer ago than the replay window, or numbered below what the deduper still remembers
    # for that boot: a replay, or a spool drained after too long an outage to matter.
    STALE_BATCH = "stale_batch"
    FUTURE_BATCH = "future_batch"  # sent further ahead of the service clock than the skew allowed
    CLOCK_SKEW = "clock_skew"  # sighting stamped too far from the service clock
    UNTRACKED_BAND = "untracked_band"  # unknown band, or its guest has not consented
    UNRESOLVED_EID = "unresolved_eid"  # a rotating id no consenting band advertises now
    OVERLOAD = "overload"  # the service could not keep up


class IngestStats:
    """Plain counters; read by /api/ingest/stats and the metrics endpoint."""

    __slots__ = (
        "batches",
        "dropped",
        "dropped_sightings",
        "events",
        "events_by_kind",
        "last_seen",
        "messages",
        "sightings",
    )

    def __init__(self) -> None:
        self.messages = 0
        self.batches = 0
        self.sightings = 0
        self.events = 0
        self.dropped: Counter[str] = Counter()  # messages dropped, by reason
        self.dropped_sightings: Counter[str] = Counter()  # single sightings dropped, by reason
        self.events_by_kind: Counter[str] = Counter()  # presence events: approaching, arrived, left
        self.last_seen: dict[tuple[str, str], float] = {}  # (venue, gateway) -> service time of last batch

    def as_dict(self) -> dict[str, object]:
        return {
            "messages": self.messages,
            "batches": self.batches,
            "sightings": self.sightings,
            "presence_events": self.events,
            "dropped_messages": dict(self.dropped),
            "dropped_sightings": dict(self.dropped_sightings),
        }
