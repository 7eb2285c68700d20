"""The ingest benchmark runs (tiny N) in both encodings; its numbers live in docs/evaluation/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent.parent / "bench" / "ingest.py"


# Few bands in each batch: a walker also drawn at random into a door batch is heard twice at one
# time there, and the later (loud) sighting is then a late duplicate to the filter.
ARGS = ("--batches", "200", "--bands", "1500", "--per-batch", "25", "--arriving", "3", "--runs", "1")


def test_the_ingest_benchmark_prints_both_encodings_and_greets_the_walkers() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), *ARGS],
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| consumer | messages/s | sightings/s | vs bare")
    expected = [
        "| bare paho subscriber (counts only), json batches",
        "| Maître ingest → presence → matching, json batches",
        "| bare paho subscriber (counts only), packed batches",
        "| Maître ingest → presence → matching, packed batches",
    ]
    assert [row[: len(start)] for row, start in zip(rows[1:], expected, strict=True)] == expected
    notes = [line for line in done.stdout.splitlines() if line.startswith("- run 1")]
    assert len(notes) == 2
    for note in notes:  # both encodings: every batch to presence, the three walkers greeted, nothing dropped
        assert "200 batches" in note and "3 greeted" in note and "dropped none" in note, note
