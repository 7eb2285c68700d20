"""Redelivered batches are recognised by gateway, boot and sequence number."""

from maitre.ingest.dedupe import REMEMBERED_PER_BOOT, BatchDeduper


def test_a_redelivered_batch_is_seen_once() -> None:
    d = BatchDeduper()
    assert d.first_time("v", "g", "b1", 5)
    assert not d.first_time("v", "g", "b1", 5)


def test_out_of_order_delivery_is_accepted_once_each() -> None:
    d = BatchDeduper()
    assert [d.first_time("v", "g", "b1", s) for s in (3, 1, 2, 1, 3)] == [True, True, True, False, False]


def test_a_rebooted_gateway_starts_a_new_sequence() -> None:
    d = BatchDeduper()
    assert d.first_time("v", "g", "b1", 10)
    assert d.first_time("v", "g", "b2", 0)
    assert not d.first_time("v", "g", "b1", 10)


def test_gateways_have_independent_sequences() -> None:
    d = BatchDeduper()
    assert d.first_time("v", "g1", "b", 0)
    assert d.first_time("v", "g2", "b", 0)


def test_memory_stays_bounded_and_ancient_sequences_are_refused() -> None:
    d = BatchDeduper()
    for s in range(10 * REMEMBERED_PER_BOOT):
        assert d.first_time("v", "g", "b", s)
    assert not d.first_time("v", "g", "b", 10)
    state = d._gateways[("v", "g")]["b"]
    assert len(state.seen) <= 2 * REMEMBERED_PER_BOOT
