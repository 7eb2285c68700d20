"""`maitre eval --family`: Maître's engine on drawn venues it has never seen, scored per kind of venue."""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable

from maitre.evaluation.runner import ENGINES, Score, record, score
from maitre.sim.family import FamilyVenue, family
from maitre.sim.scenario import build

RADIO_KINDS = ("gauss-markov", "spatial")


def run_venue(venue: FamilyVenue, progress: Callable[[str], None] | None = None) -> Score:
    """Simulate one drawn venue's evening and score Maître's engine on it."""
    evening = build(venue.scenario, layout=venue.layout)
    recording = record(evening, progress)
    return score(evening, recording, "maitre", ENGINES["maitre"])


def pooled(scores: Iterable[Score]) -> Score:
    """One score over many evenings: every count added, latencies pooled."""
    total = Score(engine="maitre")
    counts = [f.name for f in dataclasses.fields(Score) if isinstance(getattr(total, f.name), int)]
    for s in scores:
        for name in counts:
            setattr(total, name, getattr(total, name) + getattr(s, name))
        total.latencies += s.latencies
    return total


def _pct(value: float) -> str:
    return "   -  " if value != value else f"{value:6.1%}"  # NaN: nothing to score


def format_rows(rows: list[tuple[str, str, Score]]) -> str:
    head = (
        f"{'venue':<22} {'gateways':<16} {'parties':>7} {'≤3 s':>6} {'p50 s':>6} {'p95 s':>6} "
        f"{'early':>5} {'named':>5} {'passers':>9} {'waiting':>7} {'appr.prec':>9} {'ahead≥5s':>8}"
    )
    lines = [head, "-" * len(head)]
    for label, placement, s in rows:
        p50 = statistics.median(s.latencies) if s.latencies else float("nan")
        lines.append(
            f"{label:<22} {placement:<16} {s.parties:>7} {_pct(s.recall)} {p50:>6.2f} "
            f"{s.latency(0.95):>6.2f} {s.premature:>5} {s.wrong_guest:>5} "
            f"{s.passer_greets:>4}/{s.passers:<4} {s.waiter_greets:>3}/{s.waiters:<3} "
            f"{_pct(s.approach_precision):>9} {_pct(s.approach_ahead):>8}"
        )
    return "\n".join(lines)


def main(split: str, count: int, radio: str | None = None) -> int:
    """Score the first `count` venues of a split; print a row per venue and a row per kind."""
    if radio is not None and radio not in RADIO_KINDS:
        raise ValueError(f"no radio model {radio!r}; models: {', '.join(RADIO_KINDS)}")
    rows: list[tuple[str, str, Score]] = []
    by_kind: dict[str, list[Score]] = defaultdict(list)
    started = time.perf_counter()
    venues = list(family(split, count, radio or ""))
    for k, venue in enumerate(venues, 1):
        gateways = len(venue.layout.gateways)
        print(
            f"[{k}/{len(venues)}] {venue.label}: {venue.scenario.description}, "
            f"{gateways} gateways, radio {venue.scenario.radio.kind}",
            file=sys.stderr,
        )
        s = run_venue(venue)
        rows.append((venue.label, f"{gateways} {venue.placement}", s))
        by_kind[venue.kind].append(s)

    print(f"split {split!r}, {len(venues)} venues, radio {radio or 'mixed'}")
    print(format_rows(rows))
    print()
    summary = [(kind, f"{len(scores)} venues", pooled(scores)) for kind, scores in sorted(by_kind.items())]
    summary.append(("all", f"{len(rows)} venues", pooled(s for _, _, s in rows)))
    print(format_rows(summary))
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return 0
