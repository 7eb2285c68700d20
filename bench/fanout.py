"""Fan-out: a greeting delivered to 1,000 connected host screens; latency from the decisive batch's publish.

The same rig as bench/alert_latency.py (`maitre serve` in a subprocess, a private Mosquitto), without
background load and with every screen a real websocket held open by this process. Each screen's
time is when this process read the frame, so the spread includes this process reading 1,000 sockets.

    uv run python bench/fanout.py                  # 1,000 screens, 20 greetings
    uv run python bench/fanout.py --screens 50 --guests 3     # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import rig
from bench.alert_latency import measure


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--screens", type=int, default=1000)
    parser.add_argument("--guests", type=int, default=20, help="greetings fanned out")
    parser.add_argument("--bands", type=int, default=1000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.screens + 256)), hard))
    first, every = asyncio.run(measure(args.guests, args.screens, 0, args.bands))
    print(
        f"\n{args.guests} greetings to {args.screens:,} host screens each ({len(every):,} deliveries), "
        f"`maitre serve` on SQLite, {os.cpu_count()} CPUs\n"
    )
    p99 = rig.percentile(every, 99)
    print(
        rig.table(
            ["measure", "p50 ms", "p99 ms", "max ms", "target"],
            [
                [
                    "publish → first screen",
                    f"{rig.percentile(first, 50):.1f}",
                    f"{rig.percentile(first, 99):.1f}",
                    f"{max(first):.1f}",
                    "",
                ],
                [
                    "publish → every screen",
                    f"{rig.percentile(every, 50):.1f}",
                    f"{p99:.1f}",
                    f"{max(every):.1f}",
                    "p99 ≤ 100 ms: " + ("met" if p99 <= 100 else "missed"),
                ],
            ],
        )
    )


if __name__ == "__main__":
    main()
