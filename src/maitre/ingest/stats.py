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
    # A rotating id heard outside the window its band advertises it in: a replay, refused.
    REPLAYED_EID = "replayed_eid"
    # One sighting that does not fit the schema (an id that does not parse, an impossible RSSI):
    # left out, and the valid sightings of its batch kept.
    MALFORMED_SIGHTING = "malformed_sighting"
    OVERLOAD = "overload"  # the service could not keep up
    # Past the gateway's budget of messages or bytes (ingest/budget.py): refused before decoding,
    # so one gateway's flood costs little and does not starve the others.
    GATEWAY_FLOOD = "gateway_flood"


class IngestStats:
    """Plain counters; read by /api/ingest/stats and the metrics endpoint."""

    __slots__ = (
        "batches",
        "batches_by_gateway",
        "dropped",
        "dropped_sightings",
        "events",
        "events_by_kind",
        "flooded",
        "gateway_errors",
        "gateway_scanning",
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
        self.batches_by_gateway: Counter[tuple[str, str]] = Counter()  # (venue, gateway) -> batches accepted
        # (venue, gateway) -> messages over its budget; ("", "") for every unregistered name together
        self.flooded: Counter[tuple[str, str]] = Counter()
        # From registered gateways' telemetry: their faults since their boot, by kind, and the mode
        # their radio really scans in (passive, active, stopped).
        self.gateway_errors: dict[tuple[str, str], dict[str, int]] = {}
        self.gateway_scanning: dict[tuple[str, str], str] = {}

    def as_dict(self) -> dict[str, object]:
        return {
            "messages": self.messages,
            "batches": self.batches,
            "sightings": self.sightings,
            "presence_events": self.events,
            "dropped_messages": dict(self.dropped),
            "dropped_sightings": dict(self.dropped_sightings),
            "batches_by_gateway": _by_gateway(self.batches_by_gateway),
            "gateway_flood": _by_gateway(self.flooded),
        }


def _by_gateway(counts: Counter[tuple[str, str]]) -> dict[str, int]:
    return {f"{venue}/{gateway}" if venue else "(unregistered)": n for (venue, gateway), n in counts.items()}
