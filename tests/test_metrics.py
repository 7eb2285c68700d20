"""What the service says about itself: Prometheus metrics, health and readiness, JSON logs."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator

import httpx
import paho.mqtt.publish as publish
import pytest
from sqlalchemy.engine import Engine

from maitre import wire
from maitre.mqtt import BrokerAddress
from maitre.observability.histogram import Histogram
from maitre.observability.logs import configure_logging
from maitre.observability.metrics import render, service_registry
from maitre.presence.selfcal import GatewayGain
from tests.conftest import MosquittoProcess, live_service, wait_until
from tests.factories import batch, open_screen, seed_guest, seed_venue

SAMPLE = re.compile(r"^([a-z_]+)(\{[^}]*\})? (\S+)$")
LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')


def samples(text: str) -> dict[str, float]:
    """`name{labels}` → value, for every sample line of an exposition (and a check that each parses).

    Labels are keyed in name order (`{gateway=…,venue=…}`): their order in an exposition means nothing.
    """
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ .+$", line), line
            continue
        found = SAMPLE.match(line)
        assert found, f"not a sample line: {line!r}"
        raw = (found[2] or "{}")[1:-1]
        labels = LABEL.findall(raw)
        assert ",".join(f'{k}="{v}"' for k, v in labels) == raw, f"labels do not parse: {line!r}"
        key = "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels)) + "}" if labels else ""
        out[found[1] + key] = float(found[3])
    return out


async def test_metrics_count_ingest_drops_events_screens_and_gateways(
    engine: Engine, broker: BrokerAddress
) -> None:
    async with live_service(engine, broker) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah")
        topic = wire.sightings_topic("bistro", "door")
        host, _ = await open_screen(live.ws, live.token("host"), "host")
        async with host:
            await asyncio.to_thread(
                publish.single, topic, b"not json", qos=1, hostname=broker.host, port=broker.port
            )
            for seq in range(8):  # Sarah at the host stand, a batch every quarter second
                payload = wire.encode(batch("door", seq, [(sarah.advertiser_id, -50)]))
                await asyncio.to_thread(
                    publish.single, topic, payload, qos=1, hostname=broker.host, port=broker.port
                )
                await asyncio.sleep(0.25)
            await wait_until(lambda: live.service.alert_latency.count >= 1, what="the greeting")
            r = await client.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
        got = samples(r.text)
    assert got["maitre_ingest_messages_total"] == 9
    assert got["maitre_ingest_batches_total"] == 8
    assert got['maitre_ingest_dropped_messages_total{reason="malformed"}'] == 1
    assert got['maitre_presence_events_total{kind="arrived"}'] == 1
    assert got["maitre_alert_latency_seconds_count"] >= 1
    assert got['maitre_alert_latency_seconds_bucket{le="+Inf"}'] == got["maitre_alert_latency_seconds_count"]
    assert got["maitre_screens_connected"] == 1
    assert got["maitre_mqtt_connected"] == 1
    assert got['maitre_gateway_last_seen_timestamp_seconds{gateway="door",venue="bistro"}'] > 0
    # The process's own, from prometheus_client's collectors in the app's registry.
    assert got["process_cpu_seconds_total"] > 0
    assert got["process_resident_memory_bytes"] > 0
    assert got['python_gc_objects_collected_total{generation="0"}'] >= 0


async def test_metrics_show_each_registered_gateways_scanning_mode_and_faults_from_its_telemetry(
    engine: Engine, broker: BrokerAddress
) -> None:
    def report(errors: dict[str, int], scanning: str) -> bytes:
        fields = {"uptime": 300, "period": 10, "adv_rate": 180, "advertisers": 12, "queue": 0, "batches": 600}
        return wire.encode(
            wire.GatewayTelemetry(
                v=1, boot="b00t", version="0.1.0", t=1_795_412_345.0, dropped={}, errors=errors,
                scanning=scanning, interval=0.5, **fields,
            )
        )  # fmt: skip

    async with live_service(engine, broker) as live, live.client() as client:
        await seed_venue(client)
        for gateway, errors, scanning in (
            ("door", {"watchdog_restarts": 2, "passive_scan_failed": 1}, "active"),
            ("ghost", {"watchdog_restarts": 9}, "stopped"),  # not registered: not shown
        ):
            await asyncio.to_thread(
                publish.single,
                wire.telemetry_topic("bistro", gateway),
                report(errors, scanning),
                qos=1,
                hostname=broker.host,
                port=broker.port,
            )
        await asyncio.to_thread(
            publish.single,
            wire.telemetry_topic("bistro", "street"),
            b"{",
            qos=1,
            hostname=broker.host,
            port=broker.port,
        )
        await wait_until(
            lambda: live.service.ingest.stats.dropped["malformed_telemetry"] == 1, what="telemetry"
        )
        got = samples((await client.get("/metrics")).text)
    assert got['maitre_gateway_errors_total{gateway="door",kind="watchdog_restarts",venue="bistro"}'] == 2
    assert got['maitre_gateway_errors_total{gateway="door",kind="passive_scan_failed",venue="bistro"}'] == 1
    assert got['maitre_gateway_scanning{gateway="door",mode="active",venue="bistro"}'] == 1
    assert not [key for key in got if "ghost" in key]


async def test_metrics_ask_for_the_metrics_token_when_one_is_set(engine: Engine) -> None:
    async with (
        live_service(engine, None, metrics_token="scrape-me-please") as live,
        httpx.AsyncClient(base_url=live.base) as client,
    ):
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        ok = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
        assert ok.status_code == 200 and samples(ok.text)["maitre_ingest_messages_total"] == 0


def test_histogram_buckets_are_cumulative_and_labels_are_escaped() -> None:
    hist = Histogram((0.01, 0.1))
    for value in (0.005, 0.05, 0.05, 3.0):
        hist.observe(value)
    assert (hist.count, hist.counts) == (4, [1, 2, 1])

    class Stub:  # just what render reads
        pass

    from maitre.ingest.stats import IngestStats

    service = Stub()
    service.ingest = Stub()  # type: ignore[attr-defined]
    service.ingest.stats = IngestStats()  # type: ignore[attr-defined]
    service.ingest.stats.last_seen[('bi"stro', "do\\or\n")] = 5.0  # type: ignore[attr-defined]
    service.alert_latency = hist  # type: ignore[attr-defined]
    service.hub = Stub()  # type: ignore[attr-defined]
    service.hub.connected = lambda: 0  # type: ignore[attr-defined]
    service.broker = None  # type: ignore[attr-defined]
    service.partitioned = False  # type: ignore[attr-defined]
    service.inbox_depth = lambda: 0  # type: ignore[attr-defined]
    service.presence = Stub()  # type: ignore[attr-defined]
    service.presence.__class__.__len__ = lambda self: 0  # type: ignore[attr-defined]
    learned = {"door": GatewayGain(4.2, 30, -7.0), "street": GatewayGain(None, 2, None)}
    service.presence.learned_gains = lambda venue: learned if venue == "bistro" else {}  # type: ignore[attr-defined]
    service.directory = Stub()  # type: ignore[attr-defined]
    service.directory.plan_problems = {"bistro": ["no walls", "fewer than two gateways"]}  # type: ignore[attr-defined]
    service.directory.venue_models = {"bistro": None, "cafe": None}  # type: ignore[attr-defined]
    text = render(service_registry(service)).decode()  # type: ignore[arg-type]
    got = samples(text)
    assert got['maitre_alert_latency_seconds_bucket{le="0.01"}'] == 1
    assert got['maitre_alert_latency_seconds_bucket{le="0.1"}'] == 3
    assert got['maitre_alert_latency_seconds_bucket{le="+Inf"}'] == 4
    assert got["maitre_alert_latency_seconds_count"] == 4
    assert got['maitre_venue_plan_problems{venue="bistro"}'] == 2
    assert got["maitre_alert_latency_seconds_sum"] == pytest.approx(3.105)
    assert got['maitre_gateway_last_seen_timestamp_seconds{gateway="do\\\\or\\n",venue="bi\\"stro"}'] == 5.0
    assert "maitre_venue_serving" not in text  # one instance serving every venue: no claims to show
    assert got['maitre_gateway_learned_gain_db{gateway="door",venue="bistro"}'] == 4.2
    assert got['maitre_gateway_gain_drift_db{gateway="door",venue="bistro"}'] == -7.0
    assert not any("street" in k for k in got if k.startswith("maitre_gateway_learned"))  # not learned yet


async def test_readiness_follows_the_broker_while_health_stays_up(
    engine: Engine, mosquitto: MosquittoProcess
) -> None:
    async with (
        live_service(engine, mosquitto.address) as live,
        httpx.AsyncClient(base_url=live.base) as client,
    ):
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "database": "ok", "mqtt": "ok"}
        mosquitto.stop()
        await wait_until(lambda: not live.service.ingress.connected.is_set(), what="the disconnect")  # type: ignore[union-attr]
        down = await client.get("/readyz")
        assert down.status_code == 503 and down.json()["mqtt"] == "disconnected"
        assert (await client.get("/healthz")).status_code == 200
        mosquitto.start()
        await wait_until(lambda: live.service.ingress.connected.is_set(), 15, what="the reconnect")  # type: ignore[union-attr]
        assert (await client.get("/readyz")).status_code == 200


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_logs_are_one_object_per_line_with_extra_fields(
    root_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(logging.INFO, "json", force=True)
    log = logging.getLogger("maitre.test")
    log.info("gateway %s back", "door", extra={"venue": "bistro"})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("it broke\non two lines")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    first, second = map(json.loads, lines)
    assert (first["level"], first["logger"], first["msg"], first["venue"]) == (
        "INFO",
        "maitre.test",
        "gateway door back",
        "bistro",
    )
    assert first["ts"].endswith("Z")
    assert second["msg"] == "it broke\non two lines" and "ValueError: boom" in second["exc"]
