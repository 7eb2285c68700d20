"""Fan-out: a greeting delivered to 1,000 connected host screens; latency from the decisive batch's publish.

The same rig as bench/alert_latency.py (`maitre serve` in a subprocess, a private Mosquitto), without
background load and with every screen a real websocket held open by this process. Each screen's
time is when this process read the frame, so the spread includes this process reading 1,000 sockets.

    uv run python bench/fanout.py                  # 1,000 screens, 20 greetings
    uv run python bench/fanout.py --screens 50 --guests 3     # smoke run

Baseline, in the same run and read by the same client code: a bare `websockets` server in a
subprocess that broadcasts a frame of the same size to every connection when told to
(`websockets.broadcast`, no framework, no database, no broker): the floor for this machine, this
Python and a client reading 1,000 sockets in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import rig
from bench.alert_latency import measure
from bench.screen_client import Audience

# A greeting frame as the host screen gets it is ~700 bytes of JSON; the baseline sends as many.
BASELINE_FRAME = '{"type":"alert","kind":"greet","payload":"' + "x" * 650 + '"}'
# Compression as Maître's service is configured (none: see maitre.cli), so both send the same bytes.
BASELINE_SERVER = """
import asyncio, sys, websockets
frame, port, clients = sys.argv[1], int(sys.argv[2]), set()
async def handler(ws):
    clients.add(ws)
    try:
        async for msg in ws:
            if msg == "go":
                websockets.broadcast(clients - {ws}, frame)
    finally:
        clients.discard(ws)
async def main():
    async with websockets.serve(handler, "127.0.0.1", port, max_queue=None, compression=None):
        await asyncio.Future()
asyncio.run(main())
"""


async def baseline(screens: int, rounds: int) -> list[list[float]]:
    """Per round, every screen's latency (ms) from telling the bare server to broadcast to reading it."""
    port = rig.free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", BASELINE_SERVER, BASELINE_FRAME, str(port)
    )
    audience = Audience(lambda message: message == BASELINE_FRAME.encode())
    control = Audience(lambda message: False)
    try:
        for _ in range(100):
            try:
                await control.join("127.0.0.1", port, "/")
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            raise RuntimeError("the baseline server did not start")
        for _ in range(screens):
            await audience.join("127.0.0.1", port, "/")
        every = []
        for _ in range(rounds):
            audience.expect()
            started = time.perf_counter()
            control.screens[0].send("go")
            got = await audience.arrivals(30)
            every.append([(at - started) * 1000 for at, _ in got])
            await asyncio.sleep(0.1)
        return every
    finally:
        audience.close()
        control.close()
        server.kill()
        await server.wait()


def rows(name: str, rounds: list[list[float]], target: str = "") -> list[list[str]]:
    """The table's rows for one server: each delivery, and each greeting's last screen."""
    every = [x for row in rounds for x in row]
    last = [max(row) for row in rounds]
    return [
        [f"{name}: publish → each screen", *_stats(every), target],
        [f"{name}: publish → last screen of each greeting", *_stats(last), ""],
    ]


def _stats(values: list[float]) -> list[str]:
    return [f"{rig.percentile(values, p):.1f}" for p in (50, 99)] + [f"{max(values):.1f}"]


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
    maitre = asyncio.run(measure_rounds(args.guests, args.screens, args.bands))
    bare = asyncio.run(baseline(args.screens, args.guests))
    p99 = rig.percentile([x for row in maitre for x in row], 99)
    bare_p99 = rig.percentile([x for row in bare for x in row], 99)
    print(
        f"\n{args.guests} greetings to {args.screens:,} host screens each "
        f"({args.guests * args.screens:,} deliveries), `maitre serve` on SQLite, {os.cpu_count()} CPUs\n"
    )
    met = "met" if p99 <= 100 else "missed"
    print(
        rig.table(
            ["measure", "p50 ms", "p99 ms", "max ms", "target"],
            [
                *rows("Maître", maitre, f"p99 ≤ 100 ms: {met}"),
                *rows("baseline: bare websockets.broadcast", bare, f"Maître/bare p99: {p99 / bare_p99:.1f}×"),
            ],
        )
    )


async def measure_rounds(guests: int, screens: int, bands: int) -> list[list[float]]:
    """Per greeting, every screen's latency (ms) from the decisive publish."""
    return (await measure(guests, screens, 0, bands))[2]


if __name__ == "__main__":
    main()
