"""Old, replayed and future batches are refused and counted; a spool drained after an outage is not."""

from __future__ import annotations

from maitre import wire
from maitre.ingest.dedupe import REMEMBERED_PER_BOOT
from maitre.ingest.pipeline import Ingest
from maitre.ingest.stats import Drop
from maitre.presence import PresenceEngine
from tests.factories import batch

NOW = 1_795_412_345.0
BAND = "band:38b4e652e44da7f2"
TOPIC = wire.sightings_topic("bistro", "door")


def ingest(now: float = NOW) -> Ingest:
    return Ingest(
        PresenceEngine({("bistro", "door"): "door"}),
        known_gateways={("bistro", "door")},
        tracked_bands={BAND},
        clock=lambda: now,
        max_clock_skew=30.0,
        replay_window=600.0,
    )


def send(target: Ingest, seq: int, sent: float, boot: str = "boot-1") -> None:
    target.handle(TOPIC, wire.encode(batch("door", seq, [(BAND, -60)], boot=boot, t=sent)))


def test_a_batch_sent_longer_ago_than_the_replay_window_is_refused_as_stale() -> None:
    target = ingest()
    send(target, 0, NOW - 601)
    assert target.stats.dropped == {Drop.STALE_BATCH: 1}
    assert target.stats.batches == 0


def test_a_captured_batch_replayed_later_is_refused() -> None:
    target = ingest()
    send(target, 7, NOW - 1)
    send(target, 7, NOW - 1)  # the same bytes again, as an attacker or a QoS 1 redelivery sends them
    assert target.stats.batches == 1
    assert target.stats.dropped == {Drop.DUPLICATE_BATCH: 1}


def test_a_sequence_number_below_what_is_remembered_is_refused_as_stale() -> None:
    target = ingest()
    send(target, 5000, NOW)
    send(target, 5000 - REMEMBERED_PER_BOOT - 1, NOW)  # may have been seen and forgotten
    send(target, 5000 - 3, NOW)  # late, but within memory and never seen: accepted
    assert target.stats.batches == 2
    assert target.stats.dropped == {Drop.STALE_BATCH: 1}


def test_a_batch_from_the_future_is_refused_and_does_not_move_the_sequence() -> None:
    target = ingest()
    send(target, 10_000, NOW + 120)  # a gateway two minutes ahead
    send(target, 1, NOW)
    assert target.stats.dropped == {Drop.FUTURE_BATCH: 1}
    assert target.stats.batches == 1  # the refused batch did not make seq 1 look ancient


def test_a_spool_drained_after_a_minute_offline_is_accepted_batch_by_batch() -> None:
    target = ingest()
    for seq in range(120):  # a minute of half-second batches, delivered all at once
        send(target, seq, NOW - 60 + seq * 0.5)
    assert target.stats.batches == 120
    assert not target.stats.dropped
    # Sightings older than the skew allowance no longer say where the guest is now: counted.
    assert target.stats.dropped_sightings[Drop.CLOCK_SKEW] == 60
    assert target.stats.sightings == 60


def test_a_gateway_minutes_slow_is_counted_and_the_others_are_not_affected() -> None:
    target = ingest()
    target.known_gateways.add(("bistro", "street"))
    send(target, 0, NOW - 300)  # the door gateway's clock is five minutes slow
    target.handle(
        wire.sightings_topic("bistro", "street"), wire.encode(batch("street", 0, [(BAND, -70)], t=NOW))
    )
    assert target.stats.batches == 2
    assert target.stats.dropped_sightings == {Drop.CLOCK_SKEW: 1}
    assert target.stats.sightings == 1
    assert set(target.stats.last_seen) == {("bistro", "door"), ("bistro", "street")}
