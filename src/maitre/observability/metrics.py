"""Prometheus metrics: the service's counters read at scrape time, through `prometheus_client`.

The counters live where they are counted (ingest/stats.py, the alert latency histogram, the hub);
`ServiceCollector` turns them into metric families when /metrics is scraped, so the hot paths
keep their plain attribute increments. Each app has a registry of its own (tests make many apps),
which also carries prometheus_client's process, platform and garbage collector metrics.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sized
from typing import Protocol, TypeVar

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from maitre.alerts.hub import AlertHub
from maitre.hospitality.directory import Directory
from maitre.ingest.pipeline import Ingest
from maitre.observability.histogram import Histogram
from maitre.presence.selfcal import GatewayGain

# The classic text format, what every Prometheus scrapes (prometheus_client's "latest" is 1.0.0).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
GATEWAY_LABELS = ("venue", "gateway")

F = TypeVar("F", CounterMetricFamily, GaugeMetricFamily)


class Presence(Sized, Protocol):
    """What /metrics reads of the presence engine: how many bands it holds, what it learned."""

    def learned_gains(self, venue: str) -> dict[str, GatewayGain]: ...


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
    def presence(self) -> Presence: ...

    def mqtt_connected(self) -> bool: ...

    def inbox_depth(self) -> int: ...

    def venue_claims(self) -> dict[str, str]: ...

    @property
    def directory(self) -> Directory: ...


class ServiceCollector(Collector):
    """Everything /metrics shows of the service, read from it at each scrape.

    Counter families are named with their `_total`: prometheus_client strips it from the family
    and puts it back on the sample, so the exposed names are the ones given here.
    """

    def __init__(self, service: Readings) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        service = self.service
        stats = service.ingest.stats
        yield CounterMetricFamily(
            "maitre_ingest_messages_total", "MQTT messages offered to ingest", stats.messages
        )
        yield CounterMetricFamily("maitre_ingest_batches_total", "sighting batches accepted", stats.batches)
        yield CounterMetricFamily(
            "maitre_ingest_sightings_total", "sightings passed to presence", stats.sightings
        )
        yield _labelled(
            CounterMetricFamily(
                "maitre_ingest_dropped_messages_total", "messages dropped, by reason", labels=("reason",)
            ),
            stats.dropped,
        )
        yield _labelled(
            CounterMetricFamily(
                "maitre_ingest_dropped_sightings_total",
                "single sightings dropped, by reason",
                labels=("reason",),
            ),
            stats.dropped_sightings,
        )
        yield _by_gateway(
            CounterMetricFamily("maitre_gateway_batches_total", "batches accepted", labels=GATEWAY_LABELS),
            stats.batches_by_gateway,
        )
        yield _by_gateway(
            CounterMetricFamily(
                "maitre_gateway_flood_total",
                "messages refused over the gateway's budget; venue and gateway empty for unregistered names",
                labels=GATEWAY_LABELS,
            ),
            stats.flooded,
        )
        yield _labelled(
            CounterMetricFamily("maitre_presence_events_total", "presence events, by kind", labels=("kind",)),
            stats.events_by_kind,
        )
        yield _histogram(
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
            yield GaugeMetricFamily(name, help_text, value)
        if service.partitioned:
            serving = GaugeMetricFamily(
                "maitre_venue_serving",
                "1 for a venue this instance serves, 0 while it stands by",
                labels=("venue",),
            )
            for venue, state in sorted(service.venue_claims().items()):
                serving.add_metric((venue,), int(state == "serving"))
            yield serving
        plans = GaugeMetricFamily(
            "maitre_venue_plan_problems",
            "what a venue's plan cannot do or will do unexpectedly (GET /api/venues/{slug}/layout/check)",
            labels=("venue",),
        )
        for venue, problems in sorted(service.directory.plan_problems.items()):
            plans.add_metric((venue,), len(problems))
        yield plans
        gains = GaugeMetricFamily(
            "maitre_gateway_learned_gain_db",
            "a gateway's gain against the venue's plan, learned from guests at the host stand",
            labels=GATEWAY_LABELS,
        )
        drift = GaugeMetricFamily(
            "maitre_gateway_gain_drift_db",
            "how far a gateway's latest levels at the host stand stray from its learned gain",
            labels=GATEWAY_LABELS,
        )
        for venue in sorted(service.directory.venue_models):
            for gateway, learned in sorted(service.presence.learned_gains(venue).items()):
                if learned.gain_db is not None:
                    gains.add_metric((venue, gateway), learned.gain_db)
                if learned.drift_db is not None:
                    drift.add_metric((venue, gateway), learned.drift_db)
        yield gains
        yield drift
        errors = CounterMetricFamily(
            "maitre_gateway_errors_total",
            "faults a gateway reports in its telemetry since its boot, by kind (watchdog_restarts: stalled "
            "scans restarted)",
            labels=(*GATEWAY_LABELS, "kind"),
        )
        for (venue, gateway), counts in sorted(stats.gateway_errors.items()):
            for kind, value in sorted(counts.items()):
                errors.add_metric((venue, gateway, kind), value)
        yield errors
        scanning = GaugeMetricFamily(
            "maitre_gateway_scanning",
            "1 for the mode a gateway's radio really scans in (passive, active, stopped), from its telemetry",
            labels=(*GATEWAY_LABELS, "mode"),
        )
        for (venue, gateway), mode in sorted(stats.gateway_scanning.items()):
            scanning.add_metric((venue, gateway, mode), 1)
        yield scanning
        yield _by_gateway(
            GaugeMetricFamily(
                "maitre_gateway_last_seen_timestamp_seconds",
                "when a batch from the gateway was accepted",
                labels=GATEWAY_LABELS,
            ),
            stats.last_seen,
        )


def service_registry(service: Readings) -> CollectorRegistry:
    """A registry of the service's metrics plus the process's (CPU, memory, open files), the
    interpreter's version and its garbage collector's; one per app, not prometheus_client's global."""
    registry = CollectorRegistry()
    registry.register(ServiceCollector(service))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The registry's exposition in the text format of CONTENT_TYPE."""
    return generate_latest(registry)


def _labelled(family: CounterMetricFamily, values: Mapping[str, int]) -> CounterMetricFamily:
    for key, value in sorted(values.items()):
        family.add_metric((key,), value)
    return family


def _by_gateway(family: F, values: Mapping[tuple[str, str], float]) -> F:
    for (venue, gateway), value in sorted(values.items()):
        family.add_metric((venue, gateway), value)
    return family


def _histogram(name: str, help_text: str, hist: Histogram) -> HistogramMetricFamily:
    buckets: list[tuple[str, float]] = []
    running = 0
    for bound, count in zip((*hist.bounds, float("inf")), hist.counts, strict=True):
        running += count
        buckets.append(("+Inf" if bound == float("inf") else str(bound), running))
    return HistogramMetricFamily(name, help_text, buckets=buckets, sum_value=hist.sum)
