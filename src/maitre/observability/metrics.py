"""Prometheus text exposition (format 0.0.4) of the service's counters, written by hand: it is small."""

from __future__ import annotations

from collections.abc import Mapping, Sized
from typing import Protocol

from maitre.alerts.hub import AlertHub
from maitre.ingest.pipeline import Ingest
from maitre.observability.histogram import Histogram

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Readings(Protocol):
    """What /metrics reads of the running service (runtime.service.VenueService)."""

    @property
    def ingest(self) -> Ingest: ...

    @property
    def hub(self) -> AlertHub: ...

    @property
    def alert_latency(self) -> Histogram: ...

    @property
    def partitioned(self) -> bool: ...

    @property
    def broker(self) -> object | None: ...

    @property
    def presence(self) -> Sized: ...

    def mqtt_connected(self) -> bool: ...

    def inbox_depth(self) -> int: ...

    def venue_claims(self) -> dict[str, str]: ...


class Exposition:
    """Lines of one exposition, one family at a time."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        pairs = ",".join(k + '="' + _escape(v) + '"' for k, v in (labels or {}).items())
        self.lines.append(f"{name}{{{pairs}}} {_number(value)}" if pairs else f"{name} {_number(value)}")

    def labelled(self, name: str, kind: str, help_text: str, label: str, values: Mapping[str, int]) -> None:
        self.family(name, kind, help_text)
        for key, value in sorted(values.items()):
            self.sample(name, value, {label: key})

    def by_gateway(
        self, name: str, kind: str, help_text: str, values: Mapping[tuple[str, str], float]
    ) -> None:
        self.family(name, kind, help_text)
        for (venue, gateway), value in sorted(values.items()):
            self.sample(name, value, {"venue": venue, "gateway": gateway})

    def histogram(self, name: str, help_text: str, hist: Histogram) -> None:
        self.family(name, "histogram", help_text)
        running = 0
        for bound, count in zip((*hist.bounds, float("inf")), hist.counts, strict=True):
            running += count
            self.sample(f"{name}_bucket", running, {"le": "+Inf" if bound == float("inf") else str(bound)})
        self.sample(f"{name}_sum", hist.sum)
        self.sample(f"{name}_count", hist.count)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render(service: Readings) -> str:
    """Everything /metrics shows, read from the running service."""
    stats = service.ingest.stats
    out = Exposition()
    for name, value, help_text in (
        ("maitre_ingest_messages_total", stats.messages, "MQTT messages offered to ingest"),
        ("maitre_ingest_batches_total", stats.batches, "sighting batches accepted"),
        ("maitre_ingest_sightings_total", stats.sightings, "sightings passed to presence"),
    ):
        out.family(name, "counter", help_text)
        out.sample(name, value)
    out.labelled(
        "maitre_ingest_dropped_messages_total",
        "counter",
        "messages dropped, by reason",
        "reason",
        stats.dropped,
    )
    out.labelled(
        "maitre_ingest_dropped_sightings_total",
        "counter",
        "single sightings dropped, by reason",
        "reason",
        stats.dropped_sightings,
    )
    out.by_gateway("maitre_gateway_batches_total", "counter", "batches accepted", stats.batches_by_gateway)
    out.by_gateway(
        "maitre_gateway_flood_total",
        "counter",
        "messages refused over the gateway's budget; venue and gateway empty for unregistered names",
        stats.flooded,
    )
    out.labelled(
        "maitre_presence_events_total", "counter", "presence events, by kind", "kind", stats.events_by_kind
    )
    out.histogram(
        "maitre_alert_latency_seconds",
        "from a presence event to its alerts committed and fanned out",
        service.alert_latency,
    )
    connected = service.broker is not None and service.mqtt_connected()
    for name, value, help_text in (
        ("maitre_screens_connected", service.hub.connected(), "staff screens subscribed to alerts"),
        ("maitre_mqtt_connected", int(connected), "1 while ingest is on"),
        ("maitre_ingest_inbox_depth", service.inbox_depth(), "messages awaiting ingest"),
        ("maitre_tracked_bands", len(service.presence), "bands the presence engine holds state for"),
    ):
        out.family(name, "gauge", help_text)
        out.sample(name, value)
    if service.partitioned:
        out.family(
            "maitre_venue_serving", "gauge", "1 for a venue this instance serves, 0 while it stands by"
        )
        for venue, state in sorted(service.venue_claims().items()):
            out.sample("maitre_venue_serving", int(state == "serving"), {"venue": venue})
    out.by_gateway(
        "maitre_gateway_last_seen_timestamp_seconds",
        "gauge",
        "when a batch from the gateway was accepted",
        stats.last_seen,
    )
    return out.text()


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    return repr(float(value))
