"""Someone stood outside the door: how soon could *any* engine tell that they went in?

    uv run python bench/presence_waiting_bound.py                    # the hard scenarios, the bistro
    uv run python bench/presence_waiting_bound.py --stand 90 --trials 20000

presence_bound.py compares two fully known paths at a known moment. A real engine does not know
*when* a person standing by the door goes in, so it must keep asking, every half second, for
as long as they stand there, and every question is another chance to name someone who never
went in. This bench measures that cost for an oracle that knows everything but the moment:

- the person stands at the simulator's waiting spot outside the door (where parties wait for
  friends and strangers wait for a taxi), then either stays (**waiter**, for `--stand` seconds)
  or walks in to the host stand (**guest**), as firmware_sim/crowd.py walks them;
- the oracle knows the radio exactly (path loss, walls, the wearer's body, shadowing as a
  Gauss-Markov process per link with its true spread and time constant, fading over a
  window's packets, a dead gateway) and both paths' shapes; it does not know the moment;
- at every window it computes the exact Gaussian log-likelihood ratio of "walked in, crossing
  the door at τ" against "still standing", over the last `--lookback` seconds of every live
  gateway's windows, for every τ from 3 s ago to 1 s ahead (0.1 s apart), and greets on the
  largest (a generalised likelihood-ratio test);
- **waiters** (booked people who stand `--stand` seconds and walk on; in a venue, a name shown for
  one is a wrong-guest greet): with the threshold set so that at most `--false-alarm` of them are
  ever greeted, the share of guests greeted between 1 s before and 3 s after they cross the door
  line, as the evaluation scores it;
- **parties who wait first** (the scenarios' parties that stand outside 20-90 s for friends, then
  go in): greeted while still outside is *early*, after 3 s is *late*; at the threshold that
  greets most of them in time, the share in time and the share early. They are the scenario's
  `party_waits_outside_share` of its parties, so even with every other party greeted in time,
  recall over the evening is at most 1 − share × (1 − in time): the **cap** column.

A detector this well informed is an estimate of the best any engine could do on these people,
not a proof: a cleverer test than the GLRT might do a little better, and an engine that knows
less (where the spot is, where the guest walks, the shadowing's law) does worse. A gateway that
dies in a scenario counts as dead all evening. The four hard scenarios take about ten seconds.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
if __package__ in (None, ""):
    sys.path.insert(0, str(BENCH_DIR.parent))
    sys.path.insert(0, str(BENCH_DIR))

from presence_bound import WINDOW, Radio, edited, level, radio_of, where  # noqa: E402

from firmware_sim.crowd import PathBuilder, Waypoint  # noqa: E402
from firmware_sim.scenario import load_scenario  # noqa: E402
from firmware_sim.venue import LAYOUTS, GatewayPlacement, Layout, named_layout  # noqa: E402

HARD = ["hard-shadowing", "crowded-door", "slow-advertising", "gateway-dies"]
OFFSETS = np.round(np.arange(-3.0, 1.0 + 1e-9, 0.1), 2)  # τ − now: crossing from 3 s ago to 1 s ahead
LEAD = 20.0  # seconds the hypotheses' guest stands at the spot before leaving (any will do)
CHUNK = 1000  # trials simulated at once


def looks(radio: Radio) -> tuple[float, float]:
    """Seconds between looks at a link, and packets in each (as presence_bound.dprime)."""
    packets = WINDOW / radio.interval * (1 - radio.loss)
    if packets >= 1:
        return WINDOW, packets
    return radio.interval / (1 - radio.loss), 1.0  # slow advertising: a look per packet that arrives


def guest_path(layout: Layout, leave: float) -> tuple[list[Waypoint], float]:
    """Standing at the waiting spot until `leave`, then in to the host stand; and the crossing time."""
    dx, dy = layout.door
    host = layout.host_stand or (dx, dy + 1.0)
    b = PathBuilder(0.0, dx + 1.2, dy - 0.8).wait(leave)
    b.to(dx, dy - 0.3).to(dx, dy + 0.3).to(*host).wait(60.0)
    t_out, t_in = b.points[-4][0], b.points[-3][0]  # the step through the door line
    return b.points, (t_out + t_in) / 2


def means(
    layout: Layout, radio: Radio, path: list[Waypoint], times: np.ndarray, live: list[GatewayPlacement]
) -> np.ndarray:
    """Expected window levels, links × times (each window's level at its middle)."""
    return np.array([[level(layout, g, radio, *where(path, t)) for t in times] for g in live])


def noise(
    rng: np.random.Generator, trials: int, links: int, steps: int, radio: Radio, step: float, packets: float
) -> np.ndarray:
    """Shadowing (Gauss-Markov per link) plus fading averaged over a window: trials × links × steps."""
    rho = math.exp(-step / radio.shadowing_tau)
    s = np.empty((trials, links, steps))
    s[..., 0] = rng.normal(0.0, radio.shadowing_db, (trials, links))
    kick = rng.normal(0.0, radio.shadowing_db * math.sqrt(1 - rho * rho), (trials, links, steps))
    for k in range(1, steps):
        s[..., k] = rho * s[..., k - 1] + kick[..., k]
    white = math.sqrt(radio.fading_db**2 / packets + 1 / 12)
    return s + rng.normal(0.0, white, (trials, links, steps))


def scan(residual: np.ndarray, weights: np.ndarray, offset_terms: np.ndarray, lookback: int) -> np.ndarray:
    """max over τ of the log-likelihood ratio at every look: trials × looks (from `lookback` on).

    residual: trials × links × steps, the levels minus the standing person's means;
    weights: offsets × links × lookback, C⁻¹Δ for each τ; offset_terms: ½ΔᵀC⁻¹Δ for each τ.
    """
    windows = np.lib.stride_tricks.sliding_window_view(residual, lookback, axis=2)  # t × l × k × w
    llr = np.einsum("tlkw,olw->tko", windows, weights, optimize=True) - offset_terms
    return llr.max(axis=2)


class Oracle:
    """The GLRT of one scenario's radio in one layout: "walked in, crossing at now + τ" against
    "still standing at the spot", over the last `lookback` seconds of every live gateway."""

    def __init__(self, name: str, layout: Layout, lookback_s: float) -> None:
        s = load_scenario(name)
        self.scenario, self.layout = s, layout
        self.radio = radio = radio_of(s)
        dead = {f.gateway for f in s.faults}
        self.live = [g for g in layout.gateways if g.name not in dead]
        self.step, self.packets = step, packets = looks(radio)
        self.lookback = lookback = max(2, round(lookback_s / step))
        lag = np.abs(np.subtract.outer(np.arange(lookback), np.arange(lookback)))
        rho = math.exp(-step / radio.shadowing_tau)
        cov = radio.shadowing_db**2 * rho**lag + np.eye(lookback) * (radio.fading_db**2 / packets + 1 / 12)
        inv = np.linalg.inv(cov)
        dx, dy = layout.door
        spot = PathBuilder(0.0, dx + 1.2, dy - 0.8).wait(1e6).points
        self.mu0 = means(layout, radio, spot, np.array([0.0]), self.live)[:, 0]
        rel = (np.arange(lookback) - (lookback - 1)) * step - step / 2  # window middles before now
        base, cross = guest_path(layout, LEAD)
        self.weights = np.empty((len(OFFSETS), len(self.live), lookback))
        self.terms = np.empty(len(OFFSETS))
        for i, off in enumerate(OFFSETS):
            # Crossing at now + off: `rel` seconds from now is cross - off + rel on the base path.
            delta = means(layout, radio, base, cross - off + rel, self.live) - self.mu0[:, None]
            self.weights[i] = delta @ inv
            self.terms[i] = 0.5 * float(np.sum(self.weights[i] * delta))

    def statistic(
        self, rng: np.random.Generator, n: int, path: list[Waypoint] | None, seconds: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """n people on `path` (None: standing at the spot): the statistic at every look, and the
        time each look ends (the first full lookback ends at 0)."""
        steps = self.lookback + round(seconds / self.step)
        times = (np.arange(steps) - self.lookback + 1) * self.step
        r = noise(rng, n, len(self.live), steps, self.radio, self.step, self.packets)
        if path is not None:
            r += (
                means(self.layout, self.radio, path, times - self.step / 2, self.live)[None]
                - self.mu0[:, None]
            )
        return scan(r, self.weights, self.terms, self.lookback), times[self.lookback - 1 :]


def waiters(oracle: Oracle, rng: np.random.Generator, trials: int, stand: float) -> np.ndarray:
    """The largest statistic of each of `trials` people standing `stand` seconds at the spot."""
    top = []
    for start in range(0, trials, CHUNK):
        stat, _ = oracle.statistic(rng, min(CHUNK, trials - start), None, stand)
        top.append(stat.max(axis=1))
    return np.concatenate(top)


def parties(
    oracle: Oracle, rng: np.random.Generator, trials: int, wait: tuple[float, float], strata: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """People who wait at the spot (uniform over `wait` seconds) and then go in: the largest
    statistic while still outside (more than 1 s before crossing) and within the recall window."""
    early, window = [], []
    per = max(1, trials // strata)
    for i in range(strata):
        leave = wait[0] + (i + rng.uniform()) / strata * (wait[1] - wait[0])
        path, c = guest_path(oracle.layout, leave)
        for start in range(0, per, CHUNK):
            stat, ends = oracle.statistic(rng, min(CHUNK, per - start), path, c + 3.5)
            early.append(stat[:, ends < c - 1.0].max(axis=1))
            window.append(stat[:, (ends >= c - 1.0) & (ends <= c + 3.0)].max(axis=1))
    return np.concatenate(early), np.concatenate(window)


def best_recall(early: np.ndarray, window: np.ndarray) -> tuple[float, float]:
    """The best share greeted in time (not earlier) over all thresholds, and the early share there."""
    candidates = np.quantile(np.concatenate([early, window]), np.linspace(0.0, 1.0, 2001))
    recalled = [float(np.mean((early <= thr) & (window > thr))) for thr in candidates]
    i = int(np.argmax(recalled))
    return recalled[i], float(np.mean(early > candidates[i]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=HARD)
    parser.add_argument("--layout", default="bistro", help=f"{', '.join(LAYOUTS)} or a layout JSON file")
    parser.add_argument("--move", action="append", default=[], metavar="NAME=X,Y")
    parser.add_argument("--add", action="append", default=[], metavar="NAME=X,Y:ROLE")
    parser.add_argument("--remove", action="append", default=[], metavar="NAME")
    parser.add_argument("--stand", type=float, default=60.0, help="seconds a waiter stands (%(default)s)")
    parser.add_argument(
        "--false-alarm",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[0.01, 0.001],
        help="shares of waiters ever greeted (default 0.01,0.001)",
    )
    parser.add_argument("--trials", type=int, default=10000, help="people simulated of each kind")
    parser.add_argument("--lookback", type=float, default=8.0, help="seconds of windows the oracle weighs")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if min(args.false_alarm) * args.trials < 5:
        parser.error("--trials too few to set that false-alarm share: need at least 5 waiters above it")
    layout = edited(named_layout(args.layout), args.move, args.add, args.remove)
    rng = np.random.default_rng(args.seed)
    print("gateways: " + ", ".join(f"{g.name} ({g.x:g}, {g.y:g}) {g.role}" for g in layout.gateways))
    print(f"{args.trials:,} people of each kind per scenario; waiters stand {args.stand:g} s")
    cols = [f"in ≤ 3 s, {a:.1%} of waiters named" for a in args.false_alarm]
    cols += ["parties who wait first: in time / early", "share who wait", "cap on recall"]
    head = f"{'scenario':<18}" + "".join(f" {c:>{max(len(c), 12)}}" for c in cols)
    print(head)
    print("-" * len(head))
    for name in args.scenarios:
        oracle = Oracle(name, layout, args.lookback)
        top = waiters(oracle, rng, args.trials, args.stand)
        wait = oracle.scenario.crowd.wait_outside
        early, window = parties(oracle, rng, args.trials, wait)
        cells = [float(np.mean(window > np.quantile(top, 1 - a))) for a in args.false_alarm]
        recall, too_soon = best_recall(early, window)
        share = oracle.scenario.crowd.party_waits_outside_share
        row = [f"{v:.1%}" for v in cells] + [f"{recall:.1%} / {too_soon:.1%}", f"{share:.0%}"]
        row.append(f"{1 - share * (1 - recall):.1%}")
        print(
            f"{name:<18}" + "".join(f" {v:>{max(len(c), 12)}}" for c, v in zip(cols, row, strict=True)),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
