"""Gateways venues already own: ESPresense and OpenMQTTGateway / Theengs messages into presence.

Message examples come from those projects' own documentation and libraries, named where used.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import paho.mqtt.publish as publish
import pytest
from sqlalchemy.engine import Engine

from maitre.ingest.foreign import (
    ESPRESENSE_SUBSCRIPTION,
    OMG_SUBSCRIPTION,
    UNMAPPED_GATEWAY,
    ForeignDrop,
    ForeignGateways,
    load_foreign_gateways,
)
from maitre.ingest.pipeline import Ingest
from maitre.mqtt import BrokerAddress
from maitre.presence import PresenceEngine
from tests.conftest import live_service, wait_until
from tests.factories import seed_guest, seed_venue

NOW = 1_795_412_345.0
MAPPING = {"espresense:host-stand": "bistro/door", "omg:OpenMQTTGateway": "bistro/street"}

# ESPresense documentation, "MQTT" (espresense.com/configuration/mqtt): device reports go to
# espresense/devices/<id>/<room>. Fields as ESPresense 3.x publishes them (id, idType, rssi@1m, rssi,
# raw, distance, speed, mac, interval); the UUID is the one its Android beacon app advertises.
ESPRESENSE_TOPIC = "espresense/devices/iBeacon:e5ca1ade-f007-ba11-0000-000000000000-1-2/host-stand"
ESPRESENSE_IBEACON = {
    "id": "iBeacon:e5ca1ade-f007-ba11-0000-000000000000-1-2",
    "idType": 1,
    "rssi@1m": -59,
    "rssi": -72,
    "raw": 1.31,
    "distance": 1.2,
    "speed": 0.01,
    "mac": "5a3f1c9d0e42",
    "interval": 1032,
}
# ESPresense 4.x shape (fields rxAdj, rssiVar, var, int): a phone known only by its address.
ESPRESENSE_APPLE = {
    "mac": "5a3f1c9d0e42",
    "id": "apple:1007:11-12",
    "rssi@1m": -59,
    "rssi": -72.35,
    "rxAdj": 0,
    "rssiVar": 1.84,
    "distance": 3.42,
    "var": 0.21,
    "int": 1032,
}
# OpenMQTTGateway documentation, docs/use/ble.md ("use iBeacon UUID for presence"): the usual
# iBeacon payload, and the same with presenceUseBeaconUuid, where the address moves to "mac".
OMG_TOPIC = "home/OpenMQTTGateway/BTtoMQTT/6087574C9BC2"
OMG_IBEACON = {
    "id": "60:87:57:4C:9B:C2",
    "mac_type": 1,
    "rssi": -78,
    "distance": 7.85288,
    "brand": "GENERIC",
    "model": "iBeacon",
    "model_id": "IBEACON",
    "mfid": "4c00",
    "uuid": "1de4b189115e45f6b44e509352269977",
    "major": 0,
    "minor": 0,
    "txpower": -66,
}
OMG_IBEACON_BY_UUID = {**OMG_IBEACON, "id": "1de4b189115e45f6b44e509352269977", "mac": "60:87:57:4C:9B:C2"}
# TheengsDecoder.decodeBLE (theengsdecoder 2.5.0, the decoder inside Theengs Gateway and OMG) on an
# iBeacon advertisement, as Theengs Gateway publishes it to home/TheengsGateway/BTtoMQTT/<MAC>.
THEENGS_IBEACON = {
    "id": "AA:BB:CC:DD:EE:FF",
    "manufacturerdata": "4c000215f7826da64fa24e988024bc5b71e0893e00640007c5",
    "rssi": -60,
    "brand": "GENERIC",
    "model": "iBeacon",
    "model_id": "IBEACON",
    "type": "BCON",
    "mfid": "4c00",
    "uuid": "f7826da64fa24e988024bc5b71e0893e",
    "major": 100,
    "minor": 7,
    "txpower": -59,
}


def translate(topic: str, message: dict[str, object] | bytes, mapping: dict[str, str] = MAPPING) -> tuple:
    payload = message if isinstance(message, bytes) else json.dumps(message).encode()
    found = ForeignGateways(mapping).translate(topic, payload, NOW)
    s = found.sighting
    return found.venue, found.gateway, s.id, s.rssi, s.tx, s.n, s.t


def test_espresense_ibeacon_becomes_a_typed_ibeacon_sighting_at_the_mapped_gateway() -> None:
    assert translate(ESPRESENSE_TOPIC, ESPRESENSE_IBEACON) == (
        "bistro",
        "door",
        "ibeacon:e5ca1ade-f007-ba11-0000-000000000000:1:2",
        -72,
        -59,
        1,
        NOW,
    )


def test_espresense_device_without_beacon_identity_is_known_by_its_address() -> None:
    topic = "espresense/devices/apple:1007:11-12/host-stand"
    assert translate(topic, ESPRESENSE_APPLE)[2:4] == ("mac:5a3f1c9d0e42", -72.35)


@pytest.mark.parametrize("message", [OMG_IBEACON, OMG_IBEACON_BY_UUID])
def test_openmqttgateway_ibeacon_becomes_the_same_typed_id(message: dict[str, object]) -> None:
    assert translate(OMG_TOPIC, message) == (
        "bistro",
        "street",
        "ibeacon:1de4b189-115e-45f6-b44e-509352269977:0:0",
        -78,
        -66,
        1,
        NOW,
    )


def test_theengs_gateway_messages_are_read_like_openmqttgateway_ones() -> None:
    topic = "home/TheengsGateway/BTtoMQTT/AABBCCDDEEFF"
    mapping = {"omg:TheengsGateway": "bistro/door"}
    assert translate(topic, THEENGS_IBEACON, mapping)[2:5] == (
        "ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:7",
        -60,
        -59,
    )
    sensor = {"id": "C4:7C:8D:6A:3E:01", "rssi": -73, "brand": "Xiaomi", "model": "MiFlora"}
    assert translate(topic, sensor, mapping)[2] == "mac:c47c8d6a3e01"


@pytest.mark.parametrize(
    ("topic", "message", "reason"),
    [
        ("espresense/devices/iBeacon:x/cellar", ESPRESENSE_IBEACON, UNMAPPED_GATEWAY),
        ("home/SomeoneElse/BTtoMQTT/6087574C9BC2", OMG_IBEACON, UNMAPPED_GATEWAY),
        (ESPRESENSE_TOPIC, b"{not json", "malformed"),
        (ESPRESENSE_TOPIC, {**ESPRESENSE_IBEACON, "rssi": 42}, "malformed"),  # impossible RSSI
        (ESPRESENSE_TOPIC, {"id": "iBeacon:e5ca1ade-f007-ba11-0000-000000000000-1-2"}, "malformed"),
        (ESPRESENSE_TOPIC, {"id": "iBeacon:nope-1-2", "rssi": -70}, "malformed"),  # and no "mac"
        (OMG_TOPIC, {**OMG_IBEACON, "major": 70000}, "malformed"),
        (OMG_TOPIC, {"id": "not an address", "rssi": -70}, "malformed"),
    ],
)
def test_unmapped_and_malformed_messages_are_refused_with_a_reason(
    topic: str, message: dict[str, object] | bytes, reason: str
) -> None:
    with pytest.raises(ForeignDrop) as refused:
        translate(topic, message)
    assert refused.value.reason == reason


def test_only_the_mapped_kinds_are_subscribed_and_claimed() -> None:
    esp_only = ForeignGateways({"espresense:host-stand": "bistro/door"})
    assert esp_only.subscriptions == (ESPRESENSE_SUBSCRIPTION,)
    assert esp_only.claims(ESPRESENSE_TOPIC) and not esp_only.claims(OMG_TOPIC)
    assert not esp_only.claims(ESPRESENSE_TOPIC + "/battery")  # a sub-report, not a sighting
    assert ForeignGateways(MAPPING).subscriptions == (ESPRESENSE_SUBSCRIPTION, OMG_SUBSCRIPTION)
    assert not ForeignGateways({})


@pytest.mark.parametrize(
    "mapping",
    [{"espresense": "bistro/door"}, {"zigbee:x": "bistro/door"}, {"omg:x": "bistro"}, {"omg:x": "bis/tro/x"}],
)
def test_a_bad_mapping_is_refused_naming_the_entry(mapping: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="foreign gateway"):
        ForeignGateways(mapping)


def test_a_mapping_file_adds_entries_under_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "foreign.json"
    path.write_text(
        json.dumps({"omg:OpenMQTTGateway": "bistro/door", "espresense:host-stand": "bistro/door"})
    )
    mapping = load_foreign_gateways({"omg:OpenMQTTGateway": "bistro/street"}, path)
    found = mapping.translate(OMG_TOPIC, json.dumps(OMG_IBEACON).encode(), NOW)
    assert (found.venue, found.gateway) == ("bistro", "street")
    assert mapping.translate(ESPRESENSE_TOPIC, json.dumps(ESPRESENSE_IBEACON).encode(), NOW).gateway == "door"


async def test_espresense_sightings_through_the_broker_greet_the_guest_and_bad_ones_are_counted(
    engine: Engine, broker: BrokerAddress
) -> None:
    beacon = "ibeacon:e5ca1ade-f007-ba11-0000-000000000000:1:2"
    async with (
        live_service(engine, broker, foreign_gateways=MAPPING) as live,
        live.client() as client,
    ):
        venue_id = await seed_venue(client)
        guest = await seed_guest(client, venue_id, "Ines", beacon, items=())

        def send(topic: str, message: dict[str, object] | bytes) -> None:
            payload = message if isinstance(message, bytes) else json.dumps(message).encode()
            publish.single(topic, payload, qos=1, hostname=broker.host, port=broker.port)

        # Refused on the way in, counted by reason; the service carries on.
        await asyncio.to_thread(send, "espresense/devices/iBeacon:x/cellar", ESPRESENSE_IBEACON)
        await asyncio.to_thread(send, ESPRESENSE_TOPIC, b"{not json")
        await asyncio.to_thread(send, ESPRESENSE_TOPIC, {**ESPRESENSE_IBEACON, "rssi": 42})
        # Ines walks up to the host stand: the ESPresense node there hears her phone's iBeacon.
        for _ in range(10):
            await asyncio.to_thread(send, ESPRESENSE_TOPIC, {**ESPRESENSE_IBEACON, "rssi": -50})
            await asyncio.sleep(0.2)

        status = ""
        deadline = asyncio.get_running_loop().time() + 10
        while status != "arrived":
            assert asyncio.get_running_loop().time() < deadline, f"Ines never arrived: {status}"
            await asyncio.sleep(0.1)
            r = await client.get(f"/api/reservations/{guest.reservation_id}")
            r.raise_for_status()
            status = r.json()["status"]

        await wait_until(lambda: live.service.ingest.stats.dropped["malformed"] >= 2, what="the drops")
        stats = (await client.get("/api/ingest/stats")).json()
        assert stats["dropped_messages"]["unmapped_gateway"] == 1
        assert stats["dropped_messages"]["malformed"] == 2
        assert stats["sightings"] >= 5


def test_ingest_counts_foreign_drops_like_its_own_and_passes_tracked_sightings_on() -> None:
    beacon = "ibeacon:e5ca1ade-f007-ba11-0000-000000000000:1:2"
    ingest = Ingest(
        PresenceEngine({}),
        known_gateways={("bistro", "door")},
        tracked_bands={beacon},
        clock=lambda: NOW,
        foreign=ForeignGateways({**MAPPING, "espresense:terrace": "bistro/terrace"}),
    )
    ingest.handle(ESPRESENSE_TOPIC, json.dumps(ESPRESENSE_IBEACON).encode())
    ingest.handle("espresense/devices/x/cellar", json.dumps(ESPRESENSE_IBEACON).encode())  # not mapped
    ingest.handle("espresense/devices/x/terrace", json.dumps(ESPRESENSE_IBEACON).encode())  # not registered
    ingest.handle(ESPRESENSE_TOPIC, b"\xff\xfe")
    ingest.handle(ESPRESENSE_TOPIC, json.dumps(ESPRESENSE_APPLE).encode())  # not a guest's band
    stats = ingest.stats.as_dict()
    assert stats["messages"] == 5
    assert stats["sightings"] == 1
    assert stats["dropped_messages"] == {"unmapped_gateway": 1, "unknown_gateway": 1, "malformed": 1}
    assert stats["dropped_sightings"] == {"untracked_band": 1}
