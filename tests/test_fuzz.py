"""Hostile input, generated: decoders and ingest never raise on it, and every message is accounted for."""

from __future__ import annotations

import re

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maitre import wire
from maitre.gateway.ad import parse_advertising_data
from maitre.gateway.advertisement import Advertisement
from maitre.gateway.beacons import decode, identify, telemetry
from maitre.gateway.beacons.band import BAND_COMPANY_ID
from maitre.gateway.beacons.decode import EDDYSTONE_SERVICE_UUID
from maitre.gateway.beacons.ibeacon import APPLE_COMPANY_ID
from maitre.ingest.pipeline import Ingest
from maitre.presence import PresenceEngine

NOW = 1_795_412_345.0
BAND = "band:38b4e652e44da7f2"
# Bounded so the suite stays quick; `--hypothesis-seed` and a larger max_examples dig deeper.
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ID_RE = re.compile(wire.ADVERTISER_ID_PATTERN)

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30,
)
sighting = st.fixed_dictionaries(
    {
        "id": st.sampled_from([BAND, "band:zz", "eid:0011223344556677", "mac:001122334455", ""])
        | st.text(max_size=20)
    },
    optional={
        "rssi": json_leaf,
        "rssi_max": json_leaf,
        "n": json_leaf,
        "t": st.floats(NOW - 1000, NOW + 1000) | json_leaf,
        "tx": json_leaf,
    },
)
# Near-valid batches: the right keys with wrong, extreme or missing values.
near_batch = st.fixed_dictionaries(
    {},
    optional={
        "v": st.sampled_from([1, 2, "1", None]),
        "venue": st.sampled_from(["bistro", "annex", "", "a/b"]),
        "gateway": st.sampled_from(["door", "street", "ghost", "#"]),
        "boot": st.text(max_size=70),
        "seq": st.integers(-5, 2**64) | json_leaf,
        "sent": st.floats(NOW - 2000, NOW + 2000) | json_leaf,
        "window": json_leaf,
        "sightings": st.lists(sighting, max_size=8) | json_value,
        "extra": json_value,
    },
)
topics = st.sampled_from(
    [
        wire.sightings_topic("bistro", "door"),
        wire.sightings_topic("bistro", "street"),
        "maitre/v2/bistro/gw/door/sightings",
        "maitre/v1/bistro/gw/door/status",
        "not/a/topic",
        "",
    ]
) | st.text(max_size=60)


def ingest() -> Ingest:
    return Ingest(
        PresenceEngine({("bistro", "door"): "door", ("bistro", "street"): "approach"}),
        known_gateways={("bistro", "door"), ("bistro", "street")},
        tracked_bands={BAND},
        clock=lambda: NOW,
        max_payload_bytes=4096,
    )


def accounted(target: Ingest) -> bool:
    stats = target.stats
    return stats.messages == stats.batches + sum(stats.dropped.values())


@FUZZ
@given(st.binary(max_size=600))
def test_batch_decoder_raises_only_its_own_errors(payload: bytes) -> None:
    try:
        wire.decode_batch(payload)
    except (msgspec.ValidationError, msgspec.DecodeError):
        pass


def _corrupt(payload: bytes, at: int, value: int) -> bytes:
    """One byte replaced by one that is not UTF-8 on its own: inside a string, msgspec's decoder
    raised UnicodeDecodeError, which ingest did not expect until fuzzing found it."""
    at %= len(payload)
    return payload[:at] + bytes([value]) + payload[at + 1 :]


not_utf8 = st.builds(
    _corrupt, near_batch.map(msgspec.json.encode), st.integers(0, 10**6), st.integers(0x80, 0xFF)
)


@FUZZ
@given(topics, st.binary(max_size=600) | near_batch.map(msgspec.json.encode) | not_utf8)
def test_ingest_never_raises_and_counts_every_message(topic: str, payload: bytes) -> None:
    target = ingest()
    target.handle(topic, payload)
    target.handle(topic, payload)  # and again, as a redelivery
    assert target.stats.messages == 2
    assert accounted(target)


@FUZZ
@given(st.lists(near_batch, min_size=1, max_size=10))
def test_a_stream_of_near_valid_batches_is_accounted_for_to_the_last(
    batches: list[dict[str, object]],
) -> None:
    target = ingest()
    topic = wire.sightings_topic("bistro", "door")
    for body in batches:
        target.handle(topic, msgspec.json.encode(body))
    assert accounted(target)
    stats = target.stats
    offered = stats.sightings + sum(stats.dropped_sightings.values())
    assert offered <= sum(len(b["sightings"]) for b in batches if isinstance(b.get("sightings"), list))


def frame_bytes() -> st.SearchStrategy[bytes]:
    # Random data, and the real frames' markers followed by random bytes (the decoders' edges).
    return st.binary(max_size=40) | st.sampled_from(
        [b"\x02\x15", b"\x4d\x01", b"\x4d\x02", b"\xbe\xac"]
    ).flatmap(lambda head: st.binary(max_size=30).map(lambda tail: head + tail))


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from([APPLE_COMPANY_ID, BAND_COMPANY_ID, 0x0118, 0x004C]) | st.integers(0, 0xFFFF),
        frame_bytes(),
        max_size=3,
    ),
    st.dictionaries(st.just(EDDYSTONE_SERVICE_UUID) | st.text(max_size=36), frame_bytes(), max_size=2),
)
def test_beacon_decoders_return_a_valid_id_or_nothing(
    manufacturer: dict[int, bytes], service: dict[str, bytes]
) -> None:
    adv = Advertisement("aa:bb", -60, NOW, manufacturer, service)
    found = decode(adv)
    if found is not None:
        ident, power = found
        assert ID_RE.match(ident), found
        assert power is None or -127 <= power <= 20, found  # within what the wire accepts
    frame = identify(adv)
    assert (frame is None) == (found is None)
    telemetry(adv)


@FUZZ
@given(st.binary(max_size=62))
def test_raw_advertising_data_parses_or_names_the_bad_offset(raw: bytes) -> None:
    try:
        adv = parse_advertising_data(raw)
    except ValueError as exc:
        assert "offset" in str(exc)
        return
    decode(adv)


def test_a_string_that_is_not_utf8_is_a_malformed_message() -> None:
    target = ingest()
    body = b'{"v":1,"venue":"\x80istro","gateway":"door","boot":"b","seq":0,"sent":1,"window":0.5}'
    target.handle(wire.sightings_topic("bistro", "door"), body)
    assert target.stats.dropped == {"malformed": 1}
    for reader, field in (
        (wire.decode_status, b"state"),
        (wire.decode_config, b"scanning"),
        (wire.decode_telemetry, b"boot"),
        (wire.decode_config_result, b"error"),
    ):
        try:
            reader(b'{"v":1,"' + field + b'":"\xff"}')
        except msgspec.DecodeError as exc:
            assert "malformed" in str(exc)
        else:
            raise AssertionError(f"{reader.__name__} took a string that is not UTF-8")
