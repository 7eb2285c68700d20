"""CPU per sighting of the presence engine's accurate path (a venue with a plan), against the role rule.

One simulated family evening is recorded once (the gateways' batches, as `maitre eval` records
them) and its sightings are fed, in order, to a fresh engine per run: the accurate path (grid
track and door test, with the gains it learns, as shipped), the same without learning, and the
role rule a venue without a plan gets (a batch at a time). CPU time is the process's
(`time.process_time`), over the whole evening, divided by the sightings; the first run builds
the grids and door tests and is reported apart. Medians over `--runs`.

    uv run python bench/presence_cost.py                  # the test split's first venue
    uv run python bench/presence_cost.py --index 2 --runs 5
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from collections.abc import Callable

from maitre import wire
from maitre.evaluation.runner import record
from maitre.floorplan import VenueModel
from maitre.presence import PresenceEngine
from maitre.presence.config import PresenceConfig
from maitre.sim.family import family
from maitre.sim.scenario import build
from maitre.sim.venue import presence_model
from maitre.wire import Sighting

Batch = tuple[str, list[Sighting]]


def run_once(
    make: Callable[[], PresenceEngine], venue_name: str, batches: list[Batch], per_sighting: bool
) -> float:
    """CPU seconds to feed the evening to a fresh engine."""
    engine = make()
    gc.collect()
    start = time.process_time()
    for gateway, sightings in batches:
        if per_sighting:
            for s in sightings:
                engine.observe(venue_name, gateway, s)
        else:
            engine.observe_batch(venue_name, gateway, sightings)
    return time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["tune", "test"], default="test")
    parser.add_argument("--index", type=int, default=0, help="which venue of the split (default: its first)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    v = list(family(args.split, args.index + 1))[-1]
    evening = build(v.scenario, layout=v.layout)
    print(f"{v.label}: {v.scenario.description}; recording its evening ...", file=sys.stderr)
    recording = record(evening)
    batches: list[Batch] = []
    for _, gateway, payload in recording.batches:
        batch = wire.decode_batch(payload)
        batches.append((gateway, list(batch.sightings)))
    sightings = sum(len(s) for _, s in batches)
    name = v.layout.venue
    roles = {(name, g.name): g.role for g in v.layout.gateways}
    model: dict[str, VenueModel] = {name: presence_model(v.layout)}
    engines: dict[str, tuple[Callable[[], PresenceEngine], bool]] = {
        "accurate path, learning gains (shipped)": (
            lambda: PresenceEngine(roles, PresenceConfig(), models=model),
            True,
        ),
        "accurate path, no learning": (
            lambda: PresenceEngine(roles, PresenceConfig(learn_gains=False), models=model),
            True,
        ),
        "role rule (no plan), per batch": (lambda: PresenceEngine(roles, PresenceConfig()), False),
    }
    print(f"{sightings:,} sightings in {len(batches):,} batches over {v.scenario.duration:.0f} s simulated")
    machine = platform.processor() or platform.machine()
    print(f"{machine}, Python {platform.python_version()}, {args.runs} runs\n")
    print("| engine | first run µs/sighting | median µs/sighting | runs µs/sighting |")
    print("|---|---|---|---|")
    for label, (make, per) in engines.items():
        times = [run_once(make, name, batches, per) for _ in range(args.runs + 1)]
        first, rest = times[0], times[1:]
        us = [t / sightings * 1e6 for t in rest]
        med = statistics.median(us)
        print(
            f"| {label} | {first / sightings * 1e6:.1f} | {med:.1f} | {', '.join(f'{u:.1f}' for u in us)} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
