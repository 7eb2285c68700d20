"""One bad sighting is left out and counted; the valid sightings of its batch still count."""

from __future__ import annotations

import json

import msgspec
import pytest

from maitre import wire
from maitre.ingest.pipeline import Ingest
from maitre.ingest.stats import Drop
from maitre.presence import PresenceEngine
from tests.factories import batch

NOW = 1_795_412_345.0
BAND = "band:38b4e652e44da7f2"
TOPIC = wire.sightings_topic("bistro", "door")
# An iBeacon UUID without its dashes: the reproduction in issue 26.
UNDASHED_IBEACON = "ibeacon:f7826da64fa24e988024bc5b71e0893e:1:2"


def ingest(clock: list[float] | None = None) -> Ingest:
    now = clock if clock is not None else [NOW]
    return Ingest(
        PresenceEngine({("bistro", "door"): "door"}),
        known_gateways={("bistro", "door")},
        tracked_bands={BAND},
        clock=lambda: now[0],
    )


def poisoned(seq: int, bad: dict[str, object], t: float = NOW) -> bytes:
    raw = json.loads(wire.encode(batch("door", seq, [(BAND, -50)], t=t)))
    raw["sightings"].insert(0, {**raw["sightings"][0], **bad})
    return json.dumps(raw).encode()


@pytest.mark.parametrize(
    "bad",
    [{"id": UNDASHED_IBEACON}, {"rssi": 50}, {"n": 0}, {"id": 7}],
    ids=["undashed-ibeacon", "impossible-rssi", "no-advertisements", "id-not-a-string"],
)
def test_a_bad_sighting_is_counted_and_the_good_one_beside_it_kept(bad: dict[str, object]) -> None:
    target = ingest()
    target.handle(TOPIC, poisoned(0, bad))
    assert target.stats.dropped == {}
    assert target.stats.batches == 1
    assert target.stats.sightings == 1
    assert target.stats.dropped_sightings == {Drop.MALFORMED_SIGHTING: 1}


def test_a_guest_is_still_greeted_through_batches_each_carrying_a_bad_sighting() -> None:
    clock = [NOW]
    target = ingest(clock)
    kinds: list[str] = []
    for seq in range(40):
        clock[0] = NOW + seq * 0.5
        kinds += [e.kind for e in target.handle(TOPIC, poisoned(seq, {"id": UNDASHED_IBEACON}, clock[0]))]
    assert "arrived" in kinds
    assert target.stats.dropped_sightings[Drop.MALFORMED_SIGHTING] == 40


def test_a_batch_whose_own_fields_are_bad_is_still_malformed() -> None:
    raw = json.loads(poisoned(0, {"id": UNDASHED_IBEACON}))
    raw["seq"] = -1
    target = ingest()
    target.handle(TOPIC, json.dumps(raw).encode())
    assert target.stats.dropped == {Drop.MALFORMED: 1}
    assert target.stats.sightings == 0


def test_the_strict_decoder_still_refuses_a_batch_with_a_bad_sighting() -> None:
    payload = poisoned(0, {"id": UNDASHED_IBEACON})
    with pytest.raises(msgspec.ValidationError):
        wire.decode_batch(payload)
    kept, bad = wire.decode_batch_keeping_good(payload)
    assert [s.id for s in kept.sightings] == [BAND]
    assert bad == 1
