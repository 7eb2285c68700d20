"""The store-and-forward spool: a bounded, ordered, durable queue of encoded batches in SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from maitre.gateway.spool import Spool

TOPIC = "maitre/v1/bistro/gw/door/sightings"


def fill(spool: Spool, seqs: range, boot: str = "boot-a") -> None:
    for seq in seqs:
        spool.put(TOPIC, boot, seq, f"batch {seq}".encode())


def test_batches_survive_reopening_in_the_order_they_were_made(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    spool = Spool(path)
    fill(spool, range(5))
    spool.close()

    again = Spool(path)
    assert len(again) == 5
    waiting = again.after(0, 100)
    assert [(b.topic, b.boot, b.seq, b.payload) for b in waiting] == [
        (TOPIC, "boot-a", seq, f"batch {seq}".encode()) for seq in range(5)
    ]


def test_at_the_bound_the_oldest_batches_are_dropped_and_counted(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3", max_batches=3)
    fill(spool, range(5))
    assert len(spool) == 3
    assert spool.dropped == 2
    assert [b.seq for b in spool.after(0, 100)] == [2, 3, 4]


def test_acknowledged_batches_are_forgotten_and_the_rest_kept(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3")
    fill(spool, range(4))
    rows = [b.row for b in spool.after(0, 100)]
    spool.delete([rows[0], rows[1], 999_999])  # a row dropped meanwhile is no error
    assert len(spool) == 2
    assert [b.seq for b in spool.after(0, 100)] == [2, 3]


def test_reading_resumes_after_a_row_and_respects_the_limit(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3")
    fill(spool, range(6))
    first = spool.after(0, 2)
    assert [b.seq for b in first] == [0, 1]
    assert [b.seq for b in spool.after(first[-1].row, 10)] == [2, 3, 4, 5]


def test_row_ids_keep_growing_after_old_batches_are_deleted(tmp_path: Path) -> None:
    # A reused row id would put a new batch before an old one still in flight.
    spool = Spool(tmp_path / "spool.sqlite3")
    fill(spool, range(2))
    last = spool.after(0, 10)[-1].row
    spool.delete(b.row for b in spool.after(0, 10))
    fill(spool, range(2, 3))
    assert spool.after(0, 10)[0].row > last


def test_a_spool_without_room_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Spool(max_batches=0)
