"""The wire contract: payloads round-trip, bad ones are refused, committed schemas stay current."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maitre import wire
from tests.factories import batch

SCHEMAS = Path(__file__).parent.parent / "docs" / "schemas"
# What msgspec checked on each id before decode_batch took it over (`$` allows a final newline).
ID_RE = re.compile(wire.ADVERTISER_ID_PATTERN)


def test_batch_round_trips_through_json() -> None:
    original = batch(
        "door",
        7,
        [("band:0011223344556677", -60.5), ("ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:2", -80)],
    )
    assert wire.decode_batch(wire.encode(original)) == original


def test_committed_json_schemas_match_the_contract() -> None:
    for name, schema in wire.json_schemas().items():
        committed = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
        assert committed == schema, f"docs/schemas/{name}.schema.json is stale: run `maitre schemas --write`"


def test_encoded_batch_validates_against_committed_schema() -> None:
    schema = json.loads((SCHEMAS / "sighting-batch.schema.json").read_text())
    payload = json.loads(wire.encode(batch("door", 1, [("band:0011223344556677", -60)])))
    jsonschema.validate(payload, schema)
    payload["sightings"][0]["id"] = "band:not-hex"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, schema)


@pytest.mark.parametrize(
    "ident",
    ["band:0011", "BAND:0011223344556677", "ibeacon:nope:1:2", "mac:zz", "", "eid:" + "0" * 17, "x" * 500],
)
def test_malformed_advertiser_ids_are_refused(ident: str) -> None:
    raw = json.loads(wire.encode(batch("door", 1, [("band:0011223344556677", -60)])))
    raw["sightings"][0]["id"] = ident
    with pytest.raises(msgspec.ValidationError):
        wire.decode_batch(json.dumps(raw).encode())


@pytest.mark.parametrize("rssi", [-200, 50])
def test_impossible_rssi_is_refused(rssi: float) -> None:
    raw = json.loads(wire.encode(batch("door", 1, [("band:0011223344556677", -60)])))
    raw["sightings"][0]["rssi"] = rssi
    with pytest.raises(msgspec.ValidationError):
        wire.decode_batch(json.dumps(raw).encode())


def test_unknown_fields_are_tolerated_for_forward_compatibility() -> None:
    raw = json.loads(wire.encode(batch("door", 1, [("band:0011223344556677", -60)])))
    raw["firmware"] = "2.0"
    raw["sightings"][0]["aoa"] = 12.5
    assert wire.decode_batch(json.dumps(raw).encode()).seq == 1


def test_topics_are_built_and_parsed_symmetrically() -> None:
    topic = wire.sightings_topic("bistro", "door-1")
    assert topic == "maitre/v1/bistro/gw/door-1/sightings"
    assert wire.parse_topic(topic) == wire.TopicParts("v1", "bistro", "door-1", "sightings")
    assert wire.parse_topic("maitre/v1/bistro/sightings") is None


@pytest.mark.parametrize("name", ["a/b", "a+", "#", "", "x" * 65, "café"])
def test_names_that_would_break_topics_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="invalid venue or gateway name"):
        wire.sightings_topic(name, "door")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["band:0011223344556677", "eid:0011223344556677", "mac:001122334455\n"])
        | st.text(alphabet="band:0123456789abcdef\x00\n٣", max_size=24),
        max_size=6,
    )
)
def test_ids_are_checked_per_batch_as_the_schema_checks_each(ids: list[str]) -> None:
    raw = json.loads(wire.encode(batch("door", 1, [])))
    raw["sightings"] = [{"id": i, "rssi": -60, "rssi_max": -60, "n": 1, "t": 1.0} for i in ids]
    each_valid = all(ID_RE.search(i) for i in ids)
    try:
        wire.decode_batch(json.dumps(raw).encode())
    except msgspec.ValidationError as exc:
        assert not each_valid
        assert "sightings[" in str(exc)
    else:
        assert each_valid
