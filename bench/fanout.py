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

import websockets

from bench import rig
from bench.alert_latency import measure

# A greeting frame as the host screen gets it is ~700 bytes of JSON; the baseline sends as many.
BASELINE_FRAME = '{"type":"alert","kind":"greet","payload":"' + "x" * 650 + '"}'
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
    async with websockets.serve(handler, "127.0.0.1", port, max_queue=None):
        await asyncio.Future()
asyncio.run(main())
"""


async def _read_one(ws: websockets.ClientConnection, started: float) -> float:
    await ws.recv()
    return (time.perf_counter() - started) * 1000


async def baseline(screens: int, rounds: int) -> list[float]:
    """Every screen's latency (ms) from telling the bare server to broadcast to reading the frame."""
    port = rig.free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", BASELINE_SERVER, BASELINE_FRAME, str(port)
    )
    try:
        for _ in range(100):
            try:
                control = await websockets.connect(f"ws://127.0.0.1:{port}")
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            raise RuntimeError("the baseline server did not start")
        clients = [
            await websockets.connect(f"ws://127.0.0.1:{port}", max_queue=None, open_timeout=60)
            for _ in range(screens)
        ]
        every: list[float] = []
        for _ in range(rounds):
            started = time.perf_counter()
            await control.send("go")

            every += await asyncio.gather(*(_read_one(ws, started) for ws in clients))
            await asyncio.sleep(0.1)
        for ws in [control, *clients]:
            await ws.close()
        return every
    finally:
        server.kill()
        await server.wait()


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
    bare = asyncio.run(baseline(args.screens, args.guests))
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
                [
                    "baseline: bare websockets.broadcast → every screen",
                    f"{rig.percentile(bare, 50):.1f}",
                    f"{rig.percentile(bare, 99):.1f}",
                    f"{max(bare):.1f}",
                    f"Maître/bare p99: {p99 / rig.percentile(bare, 99):.1f}×",
                ],
            ],
        )
    )


if __name__ == "__main__":
    main()
