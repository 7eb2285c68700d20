"""When someone goes in is never known in advance: how well could *any* engine greet them in time?

    uv run python bench/presence_moment_bound.py                 # the hard scenarios, the bistro
    uv run python bench/presence_moment_bound.py --latest -2     # an oracle that waits 2 s
    uv run python bench/presence_moment_bound.py --add door-c=0.3,3.9:door   # what another gateway buys

presence_bound.py compares two fully known paths at a known moment. A real engine does not know
*when* a person near the door goes in, so it must keep asking, every half second, and every
question is another chance to name someone who never went in: a passer-by, or a party standing
outside waiting for friends. This bench measures that cost for an oracle that knows everything
but the moment: the radio exactly (path loss, walls, the wearer's body, shadowing as a
Gauss-Markov process per link with its true spread and time constant, fading over a window's
packets, a dead gateway) and the shapes of the paths people walk (maitre/sim/crowd.py).

At every window it computes exact Gaussian log-likelihoods over the last `--lookback` seconds of
every live gateway's windows and greets when "went in" beats "stayed outside" by a threshold
(a generalised likelihood-ratio test, maximised over the unknowns):

- **straight in**: "walked along the pavement from either side and in to the host stand,
  crossing the door at now + τ" (τ from 3 s ago to 1 s ahead, or only to `--latest`) against
  "a passer-by, level with the door at now + τ′, in any lane of the pavement, at any pace"; the
  threshold names at most `--false-alarm` of passers-by (drawn as the simulator draws them);
- **wait first**: "stood at the waiting spot outside the door, then walked in, crossing at now + τ"
  against "still standing there". Greeted while still outside is *early*, after 3 s *late*; the
  best threshold over both is the "best" column. Against **waiters** (booked people who stand
  `--stand` seconds and walk on; a name shown for one is a wrong-guest greet): the share greeted
  in time with at most `--false-alarm` of waiters ever named.

- **parties as drawn**: whole reservations as the scenario draws them (scenario.party_members),
  each band through the straight-in test on its own radio, the party greeted on its first band
  as the evaluation greets it, or on its bands' evidence added up ("pooled"); with the greet's
  p50. In the simulator every band's shadowing is its own, so a party of several gets several
  chances (in a real group, walking together, the shadowing is partly shared).

Scored as the evaluation scores (in time: from 1 s before to 3 s after crossing the door line;
the looks end anywhere against the crossing).

A detector this well informed is an estimate of the best any engine could do, not a proof: a
cleverer test than the GLRT might do a little better, and an engine that knows less (where
people stand and walk, the shadowing's law) does worse. A gateway that dies in a scenario counts
as dead all evening (`--alive`: as alive). The four hard scenarios take a few minutes.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
if __package__ in (None, ""):
    sys.path.insert(0, str(BENCH_DIR.parent))
    sys.path.insert(0, str(BENCH_DIR))

from presence_bound import WINDOW, Radio, edited, level, radio_of, where  # noqa: E402

from maitre.sim.band import BandFirmware  # noqa: E402
from maitre.sim.crowd import PathBuilder, Person, Waypoint  # noqa: E402
from maitre.sim.family import family  # noqa: E402
from maitre.sim.scenario import Scenario, load_scenario, party_members  # noqa: E402
from maitre.sim.venue import LAYOUTS, GatewayPlacement, Layout, named_layout  # noqa: E402

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

    def __init__(self, name: str | Scenario, layout: Layout, lookback_s: float, faults: bool = True) -> None:
        s = load_scenario(name) if isinstance(name, str) else name
        self.scenario, self.layout = s, layout
        self.radio = radio = radio_of(s)
        dead = {f.gateway for f in s.faults} if faults else set()
        self.live = [g for g in layout.gateways if g.name not in dead]
        self.step, self.packets = step, packets = looks(radio)
        self.lookback = lookback = max(2, round(lookback_s / step))
        lag = np.abs(np.subtract.outer(np.arange(lookback), np.arange(lookback)))
        rho = math.exp(-step / radio.shadowing_tau)
        cov = radio.shadowing_db**2 * rho**lag + np.eye(lookback) * (radio.fading_db**2 / packets + 1 / 12)
        self.inv = inv = np.linalg.inv(cov)
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


class Best(NamedTuple):
    recall: float  # greeted in time
    early: float  # greeted while still outside
    threshold: float


def best_recall(
    early: np.ndarray, window: np.ndarray, floor: float = -math.inf, also: np.ndarray | None = None
) -> Best:
    """The best share greeted in time (not earlier) over all thresholds from `floor` up, and the
    early share there (the fewest, of thresholds as good); `also`: trials counted in time whatever
    the threshold."""
    candidates = np.quantile(np.concatenate([early, window]), np.linspace(0.0, 1.0, 2001))
    candidates = np.append(candidates[candidates >= floor], floor)
    extra = np.zeros(len(early), dtype=bool) if also is None else also
    scores = [
        (float(np.mean(((early <= thr) & (window > thr)) | extra)), -float(np.mean(early > thr)), thr)
        for thr in candidates
    ]
    recalled, fewer_early, thr = max(scores)  # the most in time; of those, the fewest early
    return Best(recalled, -fewer_early, float(thr))


# Passers-by, as the simulator draws them (maitre/sim/crowd.py): street_y + U(-1, 1.5) m, U(1.0, 1.6) m/s.
PASSER_LANES = np.linspace(-1.0, 1.5, 6)
PASSER_SPEEDS = np.linspace(1.0, 1.6, 4)
PASSING = np.arange(-6.0, 6.0 + 1e-9, 0.25)  # level with the door from 6 s ago to 6 s ahead


def straight_in(layout: Layout, from_left: bool) -> tuple[list[Waypoint], float]:
    """Along the pavement (10 m), in at the door, to the host stand; and the crossing time."""
    dx, dy = layout.door
    host = layout.host_stand or (dx, dy + 1.0)
    side = -1.0 if from_left else 1.0
    b = PathBuilder(0.0, dx + side * 10.0, layout.street_y).to(dx, layout.street_y)
    b.to(dx, dy - 0.3).to(dx, dy + 0.3).to(*host).wait(60.0)
    t_out, t_in = b.points[-4][0], b.points[-3][0]
    return b.points, (t_out + t_in) / 2


def passer(layout: Layout, lane: float, speed: float, rightwards: bool) -> tuple[list[Waypoint], float]:
    """Walking the pavement past the door, 20 m each way; and when level with the door."""
    dx = layout.door[0]
    x0, x1 = (dx - 20.0, dx + 20.0) if rightwards else (dx + 20.0, dx - 20.0)
    y = layout.street_y + lane
    return PathBuilder(0.0, x0, y, speed=speed).to(x1, y).points, 20.0 / speed


def bank(
    oracle: Oracle, paths: list[tuple[list[Waypoint], float]], offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each path with its moment (crossing, or level with the door) at now + offset: the linear
    part C⁻¹μ (hypotheses × links·lookback) and ½μᵀC⁻¹μ of its Gaussian log-likelihood."""
    rel = (np.arange(oracle.lookback) - (oracle.lookback - 1)) * oracle.step - oracle.step / 2
    a, b = [], []
    for path, moment in paths:
        for off in offsets:
            mu = means(oracle.layout, oracle.radio, path, moment - off + rel, oracle.live)
            w = mu @ oracle.inv
            a.append(w.ravel())
            b.append(0.5 * float(np.sum(w * mu)))
    return np.array(a), np.array(b)


class StraightIn:
    """The GLRT of "walked straight in from the pavement, crossing at now + τ" against "a
    passer-by, level with the door at now + τ′, in any lane, at any pace", for `oracle`'s radio.
    τ runs up to `latest` (1 s ahead); below 0 the test waits until the guest has been in a while."""

    def __init__(self, oracle: Oracle, latest: float = OFFSETS[-1]) -> None:
        self.oracle = oracle
        layout = oracle.layout
        self.guests = [straight_in(layout, left) for left in (True, False)]
        passers = [
            passer(layout, lane, speed, right)
            for lane in PASSER_LANES
            for speed in PASSER_SPEEDS
            for right in (True, False)
        ]
        self.a1, self.b1 = bank(oracle, self.guests, OFFSETS[OFFSETS <= latest])
        self.a0, self.b0 = bank(oracle, passers, PASSING)

    def statistic(self, levels: np.ndarray) -> np.ndarray:
        """levels: people × links × looks (absolute) → the statistic at every look from the lookback on."""
        o = self.oracle
        win = np.lib.stride_tricks.sliding_window_view(levels, o.lookback, axis=2)  # p × l × k × w
        n, links, k, w = win.shape
        flat = win.transpose(0, 2, 1, 3).reshape(n * k, links * w)
        s1 = (flat @ self.a1.T - self.b1).max(axis=1)
        s0 = (flat @ self.a0.T - self.b0).max(axis=1)
        return (s1 - s0).reshape(n, k)

    def run(
        self, rng: np.random.Generator, path: list[Waypoint], start: float, seconds: float, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """n people on `path` from `start`: the statistic at every look, and when each look ends."""
        o = self.oracle
        steps = o.lookback + round(seconds / o.step)
        times = start + (np.arange(steps) - o.lookback + 1) * o.step
        mu = means(o.layout, o.radio, path, times - o.step / 2, o.live)
        levels = noise(rng, n, len(o.live), steps, o.radio, o.step, o.packets) + mu[None]
        return self.statistic(levels), times[o.lookback - 1 :]


def passer_maxima(test: StraightIn, rng: np.random.Generator, trials: int) -> np.ndarray:
    """The largest statistic of each of `trials` passers-by walking past the door."""
    chunk = max(1, CHUNK // 5)
    top = []
    for start in range(0, trials, chunk):  # each chunk of passers-by walks one lane at one pace
        lane = rng.uniform(-1.0, 1.5)
        speed = rng.uniform(1.0, 1.6)
        path, at_door = passer(test.oracle.layout, lane, speed, bool(rng.integers(2)))
        stat, _ = test.run(rng, path, at_door - 8.0, 16.0, min(chunk, trials - start))
        top.append(stat.max(axis=1))
    return np.concatenate(top)


def straight_in_recall(
    test: StraightIn, passers: np.ndarray, rng: np.random.Generator, trials: int, false_alarm: list[float]
) -> list[tuple[float, float]]:
    """For each share of `passers` (passer_maxima) named: guests who walk straight in greeted in
    time, and early."""
    oracle = test.oracle
    chunk = max(1, CHUNK // 5)
    early, window = [], []
    for start in range(0, trials, chunk):
        path, c = test.guests[int(rng.integers(2))]
        phase = rng.uniform(0.0, oracle.step)  # looks end anywhere against the crossing
        stat, ends = test.run(rng, path, c - 8.0 + phase, 11.5, min(chunk, trials - start))
        early.append(stat[:, ends < c - 1.0].max(axis=1))
        window.append(stat[:, (ends >= c - 1.0) & (ends <= c + 3.0)].max(axis=1))
    e, w = np.concatenate(early), np.concatenate(window)
    return [best_recall(e, w, float(np.quantile(passers, 1 - a)))[:2] for a in false_alarm]


PARTY_CHUNK = 50  # trials of each party drawn: the same members and paths, fresh radio


class PartyTrials(NamedTuple):
    """Per trial party: the largest statistic while nobody is in yet (more than 1 s before the
    first crossing) and within the recall window, band by band (the party greeted on its first
    band) and pooled (its bands' evidence that points in, added up); and which trials are one
    guest alone who waited outside first (the straight-in test does not cover them)."""

    early: np.ndarray
    window: np.ndarray
    pooled_early: np.ndarray
    pooled_window: np.ndarray
    alone_waiting: np.ndarray
    looks: np.ndarray  # band by band, at each look within the window (trials × looks, -inf: none)
    look_ends: np.ndarray  # … and when each ended, seconds after the first crossing (nan: none)

    def latency(self, thr: float) -> float:
        """Median seconds from the first crossing to the greet, of the parties greeted in time
        band by band at `thr` (one guest alone who waited outside first not counted)."""
        in_time = (self.early <= thr) & (self.window > thr)
        first = np.argmax(self.looks[in_time] > thr, axis=1)
        return float(np.median(self.look_ends[in_time, first])) if in_time.any() else math.nan


def drawn_parties(oracle: Oracle, test: StraightIn, rng: np.random.Generator, trials: int) -> PartyTrials:
    """Parties drawn as the scenario draws them (maitre.sim.scenario.party_members), each band
    tested by `test` on its own radio, as in the simulator.

    A member who waits outside while the others go in is left out: they cross long after the
    window, and the oracle is spared the chance they give it to greet early.
    """
    layout = oracle.layout
    draw = random.Random(int(rng.integers(2**32)))
    ident = iter(range(1 << 62))

    def band() -> BandFirmware:
        return BandFirmware(next(ident).to_bytes(8, "big"))

    chunks: list[PartyTrials] = []
    width = math.ceil(4.0 / oracle.step) + 1  # looks that can end within the window
    for start in range(0, trials, PARTY_CHUNK):
        n = min(PARTY_CHUNK, trials - start)
        members = party_members("p", 0.0, oracle.scenario.crowd, layout, draw, band)
        walking = [m for m in members if m.door_crossing is not None and not _waits(m)]
        looks, look_ends = np.full((n, width), -np.inf), np.full((n, width), np.nan)
        if not walking:  # one guest, who waits outside first
            never = np.full(n, -1e12)  # (finite: quantiles of ±inf are NaN)
            chunks.append(PartyTrials(never, never, never, never, np.ones(n, dtype=bool), looks, look_ends))
            continue
        c = min(m.door_crossing for m in walking if m.door_crossing is not None)
        phase = draw.uniform(0.0, oracle.step)  # looks end anywhere against the crossing
        top, pooled = np.full((n, 1), -np.inf), np.zeros((n, 1))
        ends = np.empty(0)
        for m in walking:
            if m.door_crossing is not None and m.door_crossing > c + 5.0:
                continue  # trickling in minutes later: not this window's business
            stat, ends = test.run(rng, m.path, c - 8.0 + phase, 11.5, n)
            top, pooled = np.maximum(top, stat), pooled + np.maximum(stat, 0.0)
        before, within = ends < c - 1.0, (ends >= c - 1.0) & (ends <= c + 3.0)
        k = int(within.sum())
        looks[:, :k], look_ends[:, :k] = top[:, within], ends[within] - c
        chunks.append(
            PartyTrials(
                top[:, before].max(axis=1),
                top[:, within].max(axis=1),
                pooled[:, before].max(axis=1),
                pooled[:, within].max(axis=1),
                np.zeros(n, dtype=bool),
                looks,
                look_ends,
            )
        )
    return PartyTrials(*(np.concatenate(column) for column in zip(*chunks, strict=True)))


def _waits(person: Person) -> bool:
    """Stands still outside the door for a while before going in (crowd.arriving_guest's wait_outside)."""
    c = person.door_crossing
    return c is not None and any(
        t1 - t0 > 1.0 and (x0, y0) == (x1, y1) and t1 < c
        for (t0, x0, y0), (t1, x1, y1) in itertools.pairwise(person.path)
    )


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
        default=[0.005, 0.001],
        help="shares of passers-by, and of waiters, ever named (default 0.005,0.001)",
    )
    parser.add_argument("--trials", type=int, default=10000, help="people simulated of each kind")
    parser.add_argument("--lookback", type=float, default=8.0, help="seconds of windows the oracle weighs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--family",
        choices=["tune", "test"],
        help="instead of scenarios: the first --count venues of a family split, each in its own layout",
    )
    parser.add_argument("--count", type=int, default=12, help="with --family: how many venues (%(default)s)")
    parser.add_argument(
        "--latest",
        type=float,
        default=float(OFFSETS[-1]),
        help="straight in: the latest crossing tested, seconds from now (%(default)s: a second ahead;"
        " -2: only guests in for 2 s or more)",
    )
    parser.add_argument(
        "--alive",
        action="store_true",
        help="a gateway that dies in a scenario counts as alive (before it dies)",
    )
    args = parser.parse_args()
    if min(args.false_alarm) * args.trials < 5:
        parser.error("--trials too few to set that false-alarm share: need at least 5 people above it")
    layout = edited(named_layout(args.layout), args.move, args.add, args.remove)
    rng = np.random.default_rng(args.seed)
    runs: list[tuple[str, str | Scenario, Layout]]
    if args.family:
        runs = [
            (v.label, v.scenario, edited(v.layout, args.move, args.add, args.remove))
            for v in family(args.family, args.count)
        ]
        print(f"family split {args.family!r}: {len(runs)} venues, each in its own layout and radio")
    else:
        runs = [(name, name, layout) for name in args.scenarios]
        print("gateways: " + ", ".join(f"{g.name} ({g.x:g}, {g.y:g}) {g.role}" for g in layout.gateways))
    print(f"{args.trials:,} people of each kind per scenario; waiters stand {args.stand:g} s\n")
    shares = [f"{a:.1%}" for a in args.false_alarm]
    cols = [f"straight in, {a} of passers named" for a in shares] + ["wait first, best"]
    cols += [f"wait first, {a} of waiters named" for a in shares]
    cols += [f"parties as drawn, {a} of passers named" for a in shares]
    cols = [c + " (in time / early / p50)" if c.startswith("parties") else c for c in cols]
    cols += [f"parties, bands pooled, {shares[0]}"]
    print("| scenario | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for name, scenario, layout in runs:
        oracle = Oracle(scenario, layout, args.lookback, faults=not args.alive)
        test = StraightIn(oracle, args.latest)
        passers = passer_maxima(test, rng, args.trials)
        straight = straight_in_recall(test, passers, rng, args.trials, args.false_alarm)
        top = waiters(oracle, rng, args.trials, args.stand)
        early, window = parties(oracle, rng, args.trials, oracle.scenario.crowd.wait_outside)
        recall, too_soon, _ = best_recall(early, window)
        named = [float(np.mean(window > np.quantile(top, 1 - a))) for a in args.false_alarm]
        drawn = drawn_parties(oracle, test, rng, args.trials)
        # One guest alone who waits outside first: in time as often as the wait-first test at its best.
        also = drawn.alone_waiting & (rng.uniform(size=len(drawn.alone_waiting)) < recall)
        floors = [float(np.quantile(passers, 1 - a)) for a in args.false_alarm]
        whole = [best_recall(drawn.early, drawn.window, f, also) for f in floors]
        p50 = [drawn.latency(thr) for _, _, thr in whole]
        pooled = best_recall(drawn.pooled_early, drawn.pooled_window, floors[0], also)
        row = [f"{r:.1%} / {e:.1%}" for r, e in straight] + [f"{recall:.1%} / {too_soon:.1%}"]
        row += [f"{v:.1%}" for v in named]
        row += [f"{r:.1%} / {e:.1%} / {lat:.2f} s" for (r, e, _), lat in zip(whole, p50, strict=True)]
        row += [f"{pooled[0]:.1%} / {pooled[1]:.1%}"]
        print(f"| {name} | " + " | ".join(row) + " |", flush=True)
    print(
        "\nOne person on their own, but for the last columns: the scenario's parties as it draws them,"
        " greeted on their first band (each band's radio its own), or on their bands' evidence"
        " added up (pooled; only passers-by on their own to tell it from). Cells a / b: greeted in time (1 s"
        " before to 3 s after crossing the door) / greeted early (still outside). Wait first, best:"
        " at the threshold that greets most in time."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
