"""The decode benchmark runs (tiny N); its numbers live in docs/evaluation/, not in asserts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent.parent / "bench" / "gateway_decode.py"


def test_the_decode_benchmark_prints_its_table() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--frames", "40", "--reps", "1", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| frames | count | ours µs/adv")
    assert any(row.startswith("| all (mix) | 40 |") for row in rows)
    assert "ours recognised" in done.stdout
