"""Packed sighting batches: the same batch as JSON, a quarter of the bytes, the same events."""

from __future__ import annotations

import math
import random
import re
import struct

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maitre import wire
from maitre.ingest import packed
from maitre.ingest.pipeline import Ingest
from maitre.ingest.stats import Drop
from maitre.ingest.tracked import TrackedBands
from maitre.presence import PresenceEngine
from maitre.presence.key_index import KeyIndex
from maitre.wire import Sighting
from tests.test_presence_batch import ROLES, VENUE, wandering

NOW = 1_700_000_000.0
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def batch(
    sightings: list[Sighting], gateway: str = "door", seq: int = 0, sent: float = NOW
) -> wire.SightingBatch:
    return wire.SightingBatch(
        v=1, venue=VENUE, gateway=gateway, boot="b1", seq=seq, sent=sent, window=0.5, sightings=sightings
    )


MIXED = [
    Sighting(id="band:38b4e652e44da7f2", rssi=-61.3, rssi_max=-58.0, n=4, t=NOW - 0.2, tx=-59),
    Sighting(id="ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:2", rssi=-70.0, rssi_max=-69.5, n=2, t=NOW),
    Sighting(id="eid:0011223344556677", rssi=-80.1, rssi_max=-80.1, n=1, t=NOW - 0.1),
    Sighting(id="mac:ffeeddccbbaa", rssi=-127.0, rssi_max=20.0, n=65535, t=NOW, tx=20),
    Sighting(id="band:0000000000000000", rssi=-45.5, rssi_max=-44.0, n=9, t=NOW - 0.3, tx=-127),
    Sighting(id="band:ffffffffffffffff", rssi=-90.0, rssi_max=-90.0, n=70000, t=NOW),  # n too big to pack
]


def test_a_packed_batch_holds_the_json_batchs_sightings() -> None:
    original = batch(MIXED)
    decoded = packed.decode(wire.encode_packed(original))
    header = decoded.header
    assert (header.venue, header.gateway, header.boot, header.seq, header.sent, header.window) == (
        VENUE,
        "door",
        "b1",
        0,
        NOW,
        0.5,
    )
    # The ones that do not pack travel in the header, first; the packed ones keep their order.
    assert [s.id for s in header.sightings] == [MIXED[1].id, MIXED[5].id]
    in_order = [MIXED[1], MIXED[5], MIXED[0], MIXED[2], MIXED[3], MIXED[4]]
    assert header.sightings + decoded.sightings() == in_order
    assert decoded.ids() == [MIXED[0].id, MIXED[2].id, MIXED[3].id, MIXED[4].id]


def test_packed_batches_are_about_a_quarter_of_the_json_bytes() -> None:
    rng = random.Random(1)
    sightings = [
        Sighting(
            id=f"band:{rng.getrandbits(64):016x}",
            rssi=round(rng.uniform(-95, -40), 1),
            rssi_max=round(rng.uniform(-95, -40), 1),
            n=rng.randint(1, 9),
            t=round(NOW - rng.random(), 3),
            tx=-59,
        )
        for _ in range(250)
    ]
    json_size, packed_size = len(wire.encode(batch(sightings))), len(wire.encode_packed(batch(sightings)))
    assert packed_size == 250 * wire.PACKED_BYTES_PER_SIGHTING + 136  # the header, padded to 8
    assert packed_size < 0.3 * json_size


def test_an_empty_batch_packs_and_decodes() -> None:
    decoded = packed.decode(wire.encode_packed(batch([])))
    assert len(decoded) == 0 and decoded.sightings() == [] and decoded.header.count == 0


def _columns(payload: bytes) -> tuple[int, int]:
    """Where the columns start, and how many sightings there are."""
    header, start = wire.decode_packed_header(payload)
    return start, header.count


def _poke(payload: bytes, column: str, index: int, value: int | float) -> bytes:
    start, count = _columns(payload)
    offset = start
    for name, code in wire.PACKED_COLUMNS:
        size = struct.calcsize(code)
        if name == column:
            out = bytearray(payload)
            struct.pack_into("<" + code, out, offset + index * size, value)
            return bytes(out)
        offset += size * count
    raise AssertionError(column)


GOOD = wire.encode_packed(batch([MIXED[0], MIXED[2], MIXED[3]]))


@pytest.mark.parametrize(
    ("column", "index", "value", "expected"),
    [
        ("scheme", 1, 0, "a scheme code 1-3 - at packed column `scheme`[1]"),
        ("scheme", 0, 4, "a scheme code 1-3 - at packed column `scheme`[0]"),
        ("key", 2, 1 << 48, "a 48-bit mac - at packed column `key`[2]"),
        ("t", 0, math.nan, "a finite time >= 0 - at packed column `t`[0]"),
        ("t", 1, -1.0, "a finite time >= 0 - at packed column `t`[1]"),
        ("t", 2, math.inf, "a finite time >= 0 - at packed column `t`[2]"),
        ("rssi", 0, -1271, "-127.0 to 20.0 dBm - at packed column `rssi`[0]"),
        ("rssi_max", 2, 201, "-127.0 to 20.0 dBm - at packed column `rssi_max`[2]"),
        ("n", 1, 0, ">= 1 - at packed column `n`[1]"),
        ("tx", 0, 21, "-127 to 20 dBm, or PACKED_NO_TX - at packed column `tx`[0]"),
    ],
)
def test_a_packed_value_out_of_bounds_is_refused_naming_its_column(
    column: str, index: int, value: float, expected: str
) -> None:
    with pytest.raises(msgspec.ValidationError, match=re.escape(f"Expected {expected}")):
        packed.decode(_poke(GOOD, column, index, value))


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (GOOD[:-1], "must be"),  # a byte short
        (GOOD + b"\0" * 24, "must be"),  # a sighting more than the header says
        (b"MTRP", "too short"),
        (b"MTRP" + struct.pack("<I", 10_000) + b"{}", "runs past"),
        (b"MTRP" + struct.pack("<I", 2) + b"{}", "Object missing required field"),
        (GOOD[:4] + struct.pack("<I", 20) + GOOD[8:], "truncated"),  # a length that cuts the header
    ],
)
def test_a_malformed_packed_payload_is_refused(payload: bytes, problem: str) -> None:
    with pytest.raises((msgspec.DecodeError, msgspec.ValidationError), match=problem):
        packed.decode(payload)


@pytest.mark.parametrize(
    "ident", ["ibeacon:not-a-uuid:1:2", "band:0x12345678901234", "band:38B4E652E44DA7F2"]
)
def test_an_id_that_does_not_pack_is_held_to_the_id_pattern(ident: str) -> None:
    """Not spelled canonically, a band id would come back spelled otherwise: it stays text, and fails."""
    bad = batch([msgspec.structs.replace(MIXED[1], id=ident)])
    with pytest.raises(msgspec.ValidationError, match="sightings"):
        packed.decode(wire.encode_packed(bad))


def _ingest(tracked: set[str]) -> Ingest:
    return Ingest(
        PresenceEngine(ROLES),
        known_gateways={(VENUE, g) for g in ("door", "door-2", "street", "hall", "ghost")},
        tracked_bands=tracked,
        clock=lambda: NOW + 2000,
        gateway_burst_messages=0,
    )


def _stream(encode: object) -> list[tuple[str, bytes]]:
    """Wandering bands (late, repeated, stale, no tx), some untracked, some hours off, as messages."""
    out = []
    for seq, (gateway, sightings) in enumerate(wandering(3, bands=60)):
        moved = [msgspec.structs.replace(s, t=s.t + 2000) for s in sightings]
        if seq % 7 == 0 and moved:
            moved[0] = msgspec.structs.replace(moved[0], t=moved[0].t + 3600)  # a clock far off
        body = batch(moved, gateway=gateway, seq=seq, sent=NOW + 2000)
        out.append((wire.sightings_topic(VENUE, gateway), encode(body)))  # type: ignore[operator]
    return out


@pytest.mark.parametrize("tracked_set", [TrackedBands, set], ids=["TrackedBands", "plain set"])
def test_packed_and_json_batches_give_the_same_events_and_counts(tracked_set: type[set[str]]) -> None:
    tracked = {f"band:{i:016x}" for i in range(60) if i % 5}  # every fifth band is nobody's
    json_ingest, packed_ingest = _ingest(tracked_set(tracked)), _ingest(tracked_set(tracked))
    from_json = [e for t, p in _stream(wire.encode) for e in json_ingest.handle(t, p)]
    from_packed = [e for t, p in _stream(wire.encode_packed) for e in packed_ingest.handle(t, p)]
    assert len(from_json) > 50
    assert from_packed == from_json
    j, k = json_ingest.stats, packed_ingest.stats
    assert (k.batches, k.sightings, k.events) == (j.batches, j.sightings, j.events)
    assert k.dropped_sightings == j.dropped_sightings
    assert j.dropped_sightings[Drop.UNTRACKED_BAND] > 100 and j.dropped_sightings[Drop.CLOCK_SKEW] > 10


def test_a_band_no_longer_tracked_is_dropped_from_the_next_packed_batch() -> None:
    band = "band:00000000000000aa"
    tracked = TrackedBands({band})
    target = _ingest(tracked)
    topic = wire.sightings_topic(VENUE, "door")

    def send(seq: int) -> None:
        s = Sighting(id=band, rssi=-50.0, rssi_max=-50.0, n=3, t=NOW + 2000 + seq, tx=-59)
        target.handle(topic, wire.encode_packed(batch([s], seq=seq, sent=NOW + 2000)))

    send(0)
    send(1)
    assert target.stats.sightings == 2
    tracked.discard(band)  # consent withdrawn
    send(2)
    assert target.stats.sightings == 2
    assert target.stats.dropped_sightings[Drop.UNTRACKED_BAND] == 1
    tracked.add(band)  # and given again
    send(3)
    assert target.stats.sightings == 3


def test_rotating_ids_in_a_packed_batch_resolve_to_their_band() -> None:
    band = "band:00000000000000bb"
    target = _ingest(TrackedBands({band}))
    target.resolver.resolve = lambda ident, now: band if ident == "eid:0011223344556677" else None  # type: ignore[method-assign]
    sightings = [
        Sighting(id="eid:0011223344556677", rssi=-50.0, rssi_max=-50.0, n=3, t=NOW + 2000, tx=-59),
        Sighting(id="eid:8899aabbccddeeff", rssi=-50.0, rssi_max=-50.0, n=3, t=NOW + 2000, tx=-59),
    ]
    target.handle(wire.sightings_topic(VENUE, "door"), wire.encode_packed(batch(sightings, sent=NOW + 2000)))
    assert target.stats.sightings == 1
    assert target.stats.dropped_sightings[Drop.UNRESOLVED_EID] == 1
    assert target.presence._rules[VENUE].rows.keys() == {band}


@FUZZ
@given(st.binary(max_size=600))
def test_the_packed_decoder_raises_only_its_own_errors(tail: bytes) -> None:
    for payload in (wire.PACKED_MAGIC + tail, GOOD[: len(GOOD) // 2] + tail):
        try:
            packed.decode(payload)
        except (msgspec.ValidationError, msgspec.DecodeError):
            pass


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), min_size=1, max_size=6))
def test_ingest_takes_any_corruption_of_a_packed_batch_without_raising(flips: list[tuple[int, int]]) -> None:
    payload = bytearray(GOOD)
    for at, value in flips:
        payload[at] = value
    target = _ingest(TrackedBands({MIXED[0].id}))
    target.handle(wire.sightings_topic(VENUE, "door"), bytes(payload))
    stats = target.stats
    assert stats.messages == stats.batches + sum(stats.dropped.values()) == 1


@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 1000)), max_size=60), st.integers(0, 2**64 - 1))
def test_a_key_index_answers_as_a_dictionary_would(pairs: list[tuple[int, int]], offset: int) -> None:
    index, model = KeyIndex(), {}
    keys = [(k * 0x10000000 + offset) % 2**64 for k, _ in pairs]  # keys sharing low bits
    for key, (_, value) in zip(keys, pairs, strict=True):
        index.add(np.array([key], dtype=np.uint64), np.array([value]))
        model[key] = value
    probe = np.array([*sorted(set(keys)), (offset + 7) % 2**64], dtype=np.uint64)
    found, present = index.lookup(probe)
    assert found.tolist() == [model.get(k, -1) for k in probe.tolist()]
    assert present == sum(k in model for k in probe.tolist()) and len(index) == len(model)
    index.retain(np.array([k % 2 == 0 for k in index.keys().tolist()], dtype=np.bool_))
    assert sorted(index.keys().tolist()) == sorted(k for k in model if k % 2 == 0)


def test_every_change_to_the_tracked_set_moves_its_version() -> None:
    tracked = TrackedBands({"a"})
    changes = [
        lambda: tracked.add("b"),
        lambda: tracked.discard("a"),
        lambda: tracked.update({"c"}),
        lambda: tracked.__isub__({"c"}),
        lambda: tracked.__ior__({"d"}),
        lambda: tracked.__iand__({"d"}),
        lambda: tracked.difference_update({"d"}),
        lambda: tracked.clear(),
    ]
    for change in changes:
        before = tracked.version
        change()
        assert tracked.version > before
    before = tracked.version
    tracked.discard("nothing")  # no change, no new version: the index stays valid
    tracked.add("e")
    tracked.add("e")
    assert tracked.version == before + 1
