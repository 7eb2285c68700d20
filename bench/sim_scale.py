"""How many bands the simulator runs in real time: the exact per-packet air vs the vectorised one.

    uv run python bench/sim_scale.py [--seconds 10]

Both use the same radio model and the bistro layout with its five gateways. "× real time" is
simulated seconds per wall-clock second; ≥ 1 means the simulator keeps up with the venue.
The bulk air also hands each gateway's advertisements to a consumer that builds one
`Advertisement` per packet and runs the gateway's decode ▸ aggregate on it, so the last column
is the whole chain a simulated gateway runs.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from maitre.gateway.advertisement import Advertisement
from maitre.gateway.beacons import decode
from maitre.gateway.beacons.band import BAND_COMPANY_ID, encode_band
from maitre.gateway.window import Window
from maitre.sim.air import Air
from maitre.sim.band import BandFirmware
from maitre.sim.bulk import BulkAir
from maitre.sim.crowd import PathBuilder, Person
from maitre.sim.venue import bistro_layout


def exact_air(bands: int, seconds: float) -> float:
    """Per-packet Air: simulated seconds per wall second."""
    layout = bistro_layout()
    air = Air(layout, seed=1)
    rng = np.random.default_rng(1)
    for i in range(bands):
        x, y = rng.uniform(-8, 8), rng.uniform(-2, 13)
        b = PathBuilder(0.0, x, y).wait(seconds + 10)
        air.add(Person(f"p{i}", "staff", BandFirmware(rng.bytes(8)), b.points))
    count = [0]
    for g in layout.gateways:
        air.listen(g.name, lambda adv: count.__setitem__(0, count[0] + 1))
    start = time.perf_counter()
    t = 0.0
    while t < seconds:
        t += 0.1
        air.advance(t)
    return seconds / (time.perf_counter() - start)


def bulk_air(bands: int, seconds: float, with_gateways: bool) -> float:
    layout = bistro_layout()
    air = BulkAir(layout, bands, seed=1)
    frames = [{BAND_COMPANY_ID: encode_band(i.to_bytes(8, "big"), -59)} for i in range(bands)]
    windows = {g.name: Window() for g in layout.gateways}

    def sink_for(window: Window):  # type: ignore[no-untyped-def]
        def sink(idx: np.ndarray, rssi: np.ndarray, times: np.ndarray) -> None:
            if not with_gateways:
                return
            for i, r, t in zip(idx.tolist(), rssi.tolist(), times.tolist(), strict=True):
                found = decode(Advertisement("sim", r, t, manufacturer_data=frames[i]))
                if found is not None:
                    window.add(found[0], r, t, found[1])

        return sink

    for g in layout.gateways:
        air.listen(g.name, sink_for(windows[g.name]))
    start = time.perf_counter()
    steps = int(seconds / 0.1)
    for k in range(steps):
        air.step(0.1)
        if k % 5 == 4:
            for w in windows.values():
                w.drain()
    return seconds / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="simulated seconds per run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'bands':>7} {'exact air ×rt':>14} {'bulk air ×rt':>13} {'bulk + gateways ×rt':>20}")
    for bands in (1_000, 5_000, 10_000):
        exact = statistics.median(exact_air(bands, args.seconds / 5) for _ in range(args.repeat))
        bulk = statistics.median(bulk_air(bands, args.seconds, False) for _ in range(args.repeat))
        full = statistics.median(bulk_air(bands, args.seconds / 5, True) for _ in range(args.repeat))
        print(f"{bands:>7,} {exact:>14.2f} {bulk:>13.1f} {full:>20.2f}", flush=True)


if __name__ == "__main__":
    main()
