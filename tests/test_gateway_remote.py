"""The gateway seen from the venue: retained config applied live, answers, telemetry, refusals."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jsonschema
import paho.mqtt.publish as publish

from maitre import wire
from maitre.gateway.advertisement import Advertisement
from maitre.gateway.agent import GatewayAgent
from maitre.gateway.beacons.ibeacon import APPLE_COMPANY_ID, encode_ibeacon
from maitre.gateway.settings import RunSettings
from maitre.gateway.spool import Spool
from maitre.mqtt import BrokerAddress
from tests.conftest import MOSQUITTO, MosquittoProcess, MqttRecorder, missing, wait_until

CONFIG = wire.config_topic("bistro", "door")
RESULT = wire.config_result_topic("bistro", "door")
TELEMETRY = wire.telemetry_topic("bistro", "door")
VENUE_UUID = "f7826da6-4fa2-4e98-8024-bc5b71e0893e"
OTHER_UUID = "e2c56db5-dffb-48d2-b060-d0f5a71096e0"


async def send_config(broker: BrokerAddress, config: dict[str, object] | bytes) -> None:
    payload = config if isinstance(config, bytes) else json.dumps(config).encode()
    await asyncio.to_thread(
        publish.single, CONFIG, payload, qos=1, retain=True, hostname=broker.host, port=broker.port
    )


def results(recorder: MqttRecorder) -> list[wire.GatewayConfigResult]:
    return [wire.decode_config_result(p) for p in recorder.payloads(RESULT)]


def hear(agent: GatewayAgent, uuid: str) -> None:
    data = {APPLE_COMPANY_ID: encode_ibeacon(uuid, 1, 2, -59)}
    agent.on_advertisement(Advertisement("AA", -60, agent.clock(), data))


async def test_retained_config_changes_interval_and_allow_list_without_a_restart(
    broker: BrokerAddress,
) -> None:
    # Retained before the gateway starts: it gets the config the moment it subscribes.
    await send_config(broker, {"v": 1, "revision": 7, "interval": 0.25, "ibeacon_uuids": [VENUE_UUID]})
    agent = GatewayAgent("bistro", "door", broker)
    recorder = MqttRecorder(broker, RESULT)
    try:
        agent.start()
        await wait_until(lambda: agent.settings.revision == 7, what="the config to apply")
        assert agent.interval == 0.25
        hear(agent, VENUE_UUID)
        hear(agent, OTHER_UUID)
        batch = agent.flush()
        assert batch is not None and [s.id for s in batch.sightings] == [f"ibeacon:{VENUE_UUID}:1:2"]
        assert batch.window == 0.25

        await wait_until(lambda: results(recorder), what="the config result")
        answer = results(recorder)[-1]
        assert (answer.ok, answer.revision, answer.in_force.interval) == (True, 7, 0.25)
        assert answer.in_force.scanning == "passive"  # not in the config: the command line's

        # Deleting the retained config (an empty message) returns to the command line's settings.
        await send_config(broker, b"")
        await wait_until(lambda: agent.settings.revision is None, what="the local settings")
        assert agent.interval == 0.5
    finally:
        agent.stop()
        recorder.close()


async def test_a_bad_config_is_answered_with_the_reason_and_the_last_good_one_stays(
    broker: BrokerAddress,
) -> None:
    agent = GatewayAgent("bistro", "door", broker)
    recorder = MqttRecorder(broker, RESULT)
    try:
        agent.start()
        await wait_until(lambda: agent.uplink.connected and recorder.subscribed, what="connections")
        await send_config(broker, {"v": 1, "revision": 1, "interval": 1.0})
        await wait_until(lambda: len(results(recorder)) == 1, what="the first answer")

        bad: list[dict[str, object] | bytes] = [
            {"v": 1, "revision": 2, "interval": 0},
            {"v": 1, "revision": 3, "ibeacon_uuids": ["not-a-uuid"]},
            {"v": 1, "revision": 4, "scanning": "turbo"},
            b"{not json",
        ]
        for config in bad:
            await send_config(broker, config)
        await wait_until(lambda: len(results(recorder)) == 5, what="four refusals")
        refusals = results(recorder)[1:]
        assert [(r.ok, r.revision) for r in refusals] == [(False, 2), (False, 3), (False, 4), (False, None)]
        assert "interval" in refusals[0].error and "ibeacon_uuids" in refusals[1].error
        assert all(r.in_force.interval == 1.0 and r.in_force.revision == 1 for r in refusals)
        assert agent.settings.revision == 1 and agent.interval == 1.0
        assert agent.telemetry().errors["config_refused"] == 4
    finally:
        agent.stop()
        recorder.close()


async def test_telemetry_reaches_the_venue_with_rate_advertisers_and_queue(broker: BrokerAddress) -> None:
    agent = GatewayAgent("bistro", "door", broker)
    recorder = MqttRecorder(broker, TELEMETRY)
    try:
        agent.start()
        await wait_until(lambda: agent.uplink.connected and recorder.subscribed, what="connections")
        hear(agent, VENUE_UUID)
        hear(agent, OTHER_UUID)
        agent.flush()
        agent.publish_telemetry()
        await wait_until(lambda: recorder.payloads(TELEMETRY), what="telemetry")
        report = wire.decode_telemetry(recorder.payloads(TELEMETRY)[0])
        assert (report.boot, report.version, report.advertisers, report.batches) == (
            agent.boot,
            "0.1.0",
            2,
            1,
        )
        assert report.adv_rate > 0 and report.uptime >= 0 and report.queue >= 0
    finally:
        agent.stop()
        recorder.close()


async def test_a_broker_refusing_the_credentials_is_counted_and_batches_wait_in_the_spool(
    tmp_path: Path,
) -> None:
    if MOSQUITTO is None:
        missing("mosquitto is not installed; the refusing broker is a Mosquitto")
    strict = MosquittoProcess(tmp_path, anonymous=False)
    strict.start()
    wrong = BrokerAddress("127.0.0.1", strict.port, username="door", password="wrong")
    agent = GatewayAgent("bistro", "door", wrong, RunSettings(), spool=Spool(tmp_path / "spool.sqlite3"))
    try:
        agent.start()
        await wait_until(lambda: agent.uplink.refusals >= 1, what="the refusal")
        hear(agent, VENUE_UUID)
        agent.tick()
        assert not agent.uplink.connected
        assert agent.uplink.queue_depth == 1
        assert agent.telemetry().errors["connect_refused"] >= 1
        await wait_until(lambda: agent.uplink.refusals >= 2, what="paho to keep trying")
    finally:
        agent.stop()
        strict.stop()


def test_what_the_gateway_publishes_validates_against_the_committed_schemas() -> None:
    schemas = Path(__file__).parent.parent / "docs" / "schemas"
    agent = GatewayAgent("bistro", "door", BrokerAddress("127.0.0.1", 9))
    hear(agent, VENUE_UUID)
    agent.flush()
    refused = agent.apply_config(b'{"v": 1, "revision": 2, "scanning": "turbo"}')
    applied = agent.apply_config(
        b'{"v": 1, "revision": 3, "ibeacon_uuids": ["' + VENUE_UUID.encode() + b'"]}'
    )
    for name, message in (
        ("gateway-telemetry", agent.telemetry()),
        ("gateway-config-result", refused),
        ("gateway-config-result", applied),
        ("gateway-config", applied.in_force),
    ):
        jsonschema.validate(
            json.loads(wire.encode(message)), json.loads((schemas / f"{name}.schema.json").read_text())
        )
    assert (refused.ok, applied.ok, applied.in_force.ibeacon_uuids) == (False, True, [VENUE_UUID])
