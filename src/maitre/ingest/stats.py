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
    CLOCK_SKEW = "clock_skew"  # sighting stamped too far from the service clock
    UNTRACKED_BAND = "untracked_band"  # unknown band, or its guest has not consented
    UNRESOLVED_EID = "unresolved_eid"  # a rotating id no consenting band advertises now
    OVERLOAD = "overload"  # the service could not keep up


class IngestStats:
    """Plain counters; read by /api/ingest/stats and the metrics endpoint."""

    __slots__ = ("batches", "dropped", "dropped_sightings", "events", "messages", "sightings")

    def __init__(self) -> None:
        self.messages = 0
        self.batches = 0
        self.sightings = 0
        self.events = 0
        self.dropped: Counter[str] = Counter()  # messages dropped, by reason
        self.dropped_sightings: Counter[str] = Counter()  # single sightings dropped, by reason

    def as_dict(self) -> dict[str, object]:
        return {
            "messages": self.messages,
            "batches": self.batches,
            "sightings": self.sightings,
            "presence_events": self.events,
            "dropped_messages": dict(self.dropped),
            "dropped_sightings": dict(self.dropped_sightings),
        }
