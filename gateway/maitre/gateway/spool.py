"""Store and forward: every batch is written here first and deleted only once the broker has it."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from maitre.gateway.lograte import RateLimitedLog

log = logging.getLogger("maitre.gateway")

# Two batches a second for about three hours without a broker. A busy evening's batch is a few
# kilobytes, so the bound keeps the file well under 100 MB on a Raspberry Pi's SD card.
DEFAULT_MAX_BATCHES = 20_000
IN_MEMORY = ":memory:"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids never reused, so order survives drops
    topic TEXT NOT NULL,
    boot TEXT NOT NULL,
    seq INTEGER NOT NULL,
    payload BLOB NOT NULL
)
"""


class SpooledBatch:
    """One encoded batch waiting for the broker, with what it is published as."""

    __slots__ = ("boot", "payload", "row", "seq", "topic")

    def __init__(self, row: int, topic: str, boot: str, seq: int, payload: bytes) -> None:
        self.row = row
        self.topic = topic
        self.boot = boot
        self.seq = seq
        self.payload = payload


class Spool:
    """A bounded, ordered queue of encoded batches in SQLite; at the bound the oldest are dropped.

    The batch keeps the boot id and sequence number it was made with, so a batch sent again after
    a restart is still recognised by the service as the one it may already have.
    """

    def __init__(self, path: str | Path = IN_MEMORY, max_batches: int = DEFAULT_MAX_BATCHES) -> None:
        if max_batches < 1:
            raise ValueError("the spool must hold at least one batch")
        self.path = str(path)
        self.max_batches = max_batches
        self.dropped = 0  # batches dropped at the bound since this process opened the spool
        if self.path != IN_MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # The MQTT thread never touches the spool, but stop() may run on another thread than run().
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        # WAL + NORMAL: a committed batch survives the process dying; only a power cut can lose the
        # last few, and a full fsync per batch would wear an SD card twice a second for nothing more.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._count: int = self._db.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
        self._warn = RateLimitedLog(log)
        if self._count:
            log.info("spool %s holds %d batches from before; they go first", self.path, self._count)

    def put(self, topic: str, boot: str, seq: int, payload: bytes) -> int:
        """Append a batch; return its row id. Drops (and counts) the oldest beyond the bound."""
        with self._lock:
            row = self._db.execute(
                "INSERT INTO batches (topic, boot, seq, payload) VALUES (?, ?, ?, ?)",
                (topic, boot, seq, payload),
            ).lastrowid
            self._count += 1
            excess = self._count - self.max_batches
            if excess > 0:
                self._db.execute(
                    "DELETE FROM batches WHERE id IN (SELECT id FROM batches ORDER BY id LIMIT ?)",
                    (excess,),
                )
                self._count -= excess
                self.dropped += excess
        if excess > 0:
            self._warn.warning("spool_full", "spool full (%d batches): dropping the oldest", self.max_batches)
        assert row is not None
        return row

    def after(self, row: int, limit: int) -> list[SpooledBatch]:
        """The oldest `limit` batches with a row id above `row`, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, topic, boot, seq, payload FROM batches WHERE id > ? ORDER BY id LIMIT ?",
                (row, limit),
            ).fetchall()
        return [SpooledBatch(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows]

    def delete(self, rows: Iterable[int]) -> None:
        """Forget batches the broker has acknowledged; rows already dropped are ignored."""
        ids = [(r,) for r in rows]
        if not ids:
            return
        with self._lock:
            self._db.execute("BEGIN")
            before = self._db.total_changes
            self._db.executemany("DELETE FROM batches WHERE id = ?", ids)
            self._count -= self._db.total_changes - before
            self._db.execute("COMMIT")

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        with self._lock:
            self._db.close()
