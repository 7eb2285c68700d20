"""A second opinion at the door: did this band just walk in, or is it still outside?

A generalised likelihood-ratio test over a bank of paths drawn from the venue's plan, as
bench/presence_moment_bound.py's oracle tests, but knowing only the plan: "walked in, crossing
the door at now + τ" (along the pavement from either side, or from standing beside the door, to
the plan's host stand, or a metre inside where it does not say) against "still outside" (standing anywhere
within 2.5 m of the door, or walking past in any lane of the pavement at any pace and moment).
Each gateway's windows of the last 8 s are weighed once each, as heard (not filtered), with the
shadowing's correlation over time: a link that was already shadowed before the door is read as
shadowed, not as a move. The grid track (grid.py) weighs filtered levels step by step and must
discount them for repeating themselves; this test does not, and so is sure sooner on the same
evidence. The same windows also check the track's own arrivals: "inside by now" (crossed the door
already, or standing inside a while) against "still outside" (`Scores.inside`); and a later
question with a lower bar, crossed at least 2 s ago against still outside
(`Scores.crossed_llr`), a shape no passer-by makes.

What it assumes of a venue, beyond its plan: the pavement runs about 2 m outside the door line
(as the calibration walk's route does), people walk at about 1.3 m/s, a body between band and
gateway costs about 5 dB, and shadowing decorrelates over about 2 s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from maitre.floorplan import VenueModel, host_stand_depth
from maitre.presence.grid import expected_levels

WALK = 1.3  # m/s
DT = 0.1  # the time grid of the precomputed means, seconds
LOOKBACK = 8.0  # seconds of windows weighed
CROSSINGS = np.round(np.arange(-3.0, 1.0 + 1e-9, 0.2), 2)  # crossing at now + τ
PASSING = np.arange(-6.0, 6.0 + 1e-9, 0.5)  # a passer level with the door at now + τ′
# A window's level is its mean over the gateway's batch window (0.5 s by default); the sighting
# carries the last packet's time.
WINDOW_MIDDLE_S = 0.25
WINDOW_FLOOR_VAR = 1.0  # dB²: rounding and the radio's own jitter, on top of fading
BODY_DB = 5.0  # a wearer's body between band and gateway (walking away from it)
SHADOW_TAU_S = 2.0  # how long shadowing takes to decorrelate as people move

Path = list[tuple[float, float, float]]  # (t, x, y)
Window = tuple[float, float, float]  # time, level relative to the 1 m power, its white-noise variance


def remember(
    windows: dict[str, list[Window]], gateway: str, t: float, level: float, fading_var: float
) -> None:
    """Keep a window's level (and its fading's variance) for the door test; drop what is older
    than the test looks back."""
    kept = windows.setdefault(gateway, [])
    kept.append((t, level, fading_var + WINDOW_FLOOR_VAR))
    while kept and kept[0][0] < t - LOOKBACK - 1.0:
        kept.pop(0)


def _walk(points: Sequence[tuple[float, float]], start: float = 0.0, speed: float = WALK) -> Path:
    path = [(start, points[0][0], points[0][1])]
    for x, y in points[1:]:
        t0, x0, y0 = path[-1]
        path.append((t0 + math.hypot(x - x0, y - y0) / speed, x, y))
    return path


def _at(path: Path, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions and unit headings (0 when standing) along a path at times ts (ends held)."""
    if len(path) == 1:  # standing still
        zero = np.zeros_like(ts)
        return zero + path[0][1], zero + path[0][2], zero, zero
    t = np.array([p[0] for p in path])
    x = np.array([p[1] for p in path])
    y = np.array([p[2] for p in path])
    px, py = np.interp(ts, t, x), np.interp(ts, t, y)
    seg = np.clip(np.searchsorted(t, ts) - 1, 0, len(t) - 2)
    dx, dy, dt = x[seg + 1] - x[seg], y[seg + 1] - y[seg], t[seg + 1] - t[seg]
    moving = (dt > 0) & (ts > t[0]) & (ts < t[-1]) & (np.hypot(dx, dy) > 0)
    norm = np.maximum(np.hypot(dx, dy), 1e-9)
    return px, py, np.where(moving, dx / norm, 0.0), np.where(moving, dy / norm, 0.0)


@dataclass(frozen=True, slots=True)
class Scores:
    """The best log-likelihood of each hypothesis: walked in, crossing the door at now + τ (one
    for each τ of CROSSINGS), still outside, inside a while."""

    by_crossing: np.ndarray
    outside: float
    stayed_in: float

    @property
    def walked_in_llr(self) -> float:
        """Walking in (crossing up to a second from now) against still outside."""
        return float(self.by_crossing.max()) - self.outside

    def crossed_llr(self, ago: float) -> float:
        """Crossed the door at least `ago` seconds ago (at most 3) against still outside."""
        return float(self.by_crossing[CROSSINGS <= -min(ago, 3.0)].max()) - self.outside

    @property
    def inside(self) -> float:
        """Inside by now (crossed lately or standing inside a while) against still outside."""
        return max(self.crossed_llr(0.0), self.stayed_in - self.outside)


class DoorTest:
    """The hypotheses' expected levels, precomputed once per venue plan (~4 MB)."""

    def __init__(
        self,
        model: VenueModel,
        inward: tuple[float, float],
        exponent: float,
        shadow_db: float,
        tau: float = SHADOW_TAU_S,
        body_db: float = BODY_DB,
    ) -> None:
        self.gateways = list(model.gateways)
        self.index = {g: i for i, g in enumerate(self.gateways)}
        self.shadow_var = shadow_db * shadow_db
        self.tau = tau
        dx, dy = model.door
        ix, iy = inward
        ax, ay = iy, -ix
        host = host_stand_depth(model)  # where guests stop to be greeted

        def at(into: float, along: float) -> tuple[float, float]:
            return dx + ix * into + ax * along, dy + iy * into + ay * along

        rel = np.arange(-round(LOOKBACK / DT), 1) * DT  # times before now, oldest first
        self.steps = len(rel)
        ins: list[tuple[Path, float]] = []  # (path, crossing time on it)
        for end in (-0.3, 0.3):
            stand = [at(0.3, 0.0), at(host, end), at(host, end)]
            for side in (-1.0, 1.0):
                path = _walk([at(-2.0, side * 10), at(-2.0, 0.0), at(-0.3, 0.0), *stand])
                ins.append((path, (path[2][0] + path[3][0]) / 2))  # the door line: between ±0.3 m
                path = _walk([at(-0.8, side * 1.2), at(-0.3, 0.0), *stand], start=10.0)
                ins.append((path, (path[1][0] + path[2][0]) / 2))
        outs: list[tuple[Path, float]] = []
        stays: list[tuple[Path, float]] = []  # already inside a while: standing near the door
        for into in (0.5, 1.0, 1.5, 2.0, 2.5):
            for along in np.arange(-2.5, 2.5 + 1e-9, 0.5):
                outs.append(([(0.0, *at(-into, along))], 0.0))
                stays.append(([(0.0, *at(into, along))], 0.0))
        for into in (-0.7, -1.2, -1.7, -2.2, -2.7, -3.2):
            for speed in (1.0, 1.3, 1.6):
                for side in (-1.0, 1.0):
                    path = _walk([at(into, side * 20), at(into, -side * 20)], speed=speed)
                    outs.append((path, 20.0 / speed))
        self.mu1 = self._means(model, exponent, body_db, ins, CROSSINGS, rel)
        self.mu0 = self._means(model, exponent, body_db, outs, PASSING, rel)
        self.mu_stay = self._means(model, exponent, body_db, stays, PASSING, rel)

    def shift_gains(self, deltas: dict[str, float]) -> None:
        """The same hypotheses after the gateways' gains moved by `deltas` dB: a constant per gateway."""
        for gateway, delta in deltas.items():
            k = self.index.get(gateway)
            if delta and k is not None:
                for mu in (self.mu1, self.mu0, self.mu_stay):
                    mu[:, k, :] += delta

    def _means(
        self,
        model: VenueModel,
        exponent: float,
        body_db: float,
        paths: list[tuple[Path, float]],
        offsets: np.ndarray,
        rel: np.ndarray,
    ) -> np.ndarray:
        """hypotheses × gateways × steps: expected levels of each path with its moment at now + offset.

        Every hypothesis's positions go through each gateway's level model in one array.
        """
        tracks = []
        for path, moment in paths:
            moving = len(path) > 1
            for off in offsets if moving else offsets[:1]:
                tracks.append(_at(path, moment - off + rel))
        x, y, hx, hy = (np.stack(column) for column in zip(*tracks, strict=True))
        planes = []
        for g in self.gateways:
            gx, gy = model.gateways[g]
            lv = expected_levels(model, exponent, g, x.ravel(), y.ravel()).reshape(x.shape)
            behind = hx * (gx - x) + hy * (gy - y) < 0
            planes.append(lv - body_db * behind)
        return np.stack(planes, axis=1)

    def scores(self, windows: dict[str, list[Window]], now: float) -> Scores | None:
        """Each hypothesis' best log-likelihood from the gateways' recent windows; None when no
        window is recent enough."""
        ll1 = np.zeros(len(self.mu1))
        ll0 = np.zeros(len(self.mu0))
        lls = np.zeros(len(self.mu_stay))
        used = False
        for g, ws in windows.items():
            k = self.index.get(g)
            if k is None:
                continue
            ws = [w for w in ws if now - LOOKBACK <= w[0] - WINDOW_MIDDLE_S <= now]
            if not ws:
                continue
            used = True
            ts = np.array([w[0] - WINDOW_MIDDLE_S for w in ws])
            y = np.array([w[1] for w in ws])
            white = np.array([w[2] for w in ws])
            idx = np.clip(np.round((ts - now) / DT).astype(int) + self.steps - 1, 0, self.steps - 1)
            cov = self.shadow_var * np.exp(-np.abs(np.subtract.outer(ts, ts)) / self.tau) + np.diag(white)
            inv = np.linalg.inv(cov)
            for mu, ll in ((self.mu1, ll1), (self.mu0, ll0), (self.mu_stay, lls)):
                r = y - mu[:, k, idx]
                ll -= 0.5 * np.sum((r @ inv) * r, axis=1)
        if not used:
            return None
        by_crossing = ll1.reshape(-1, len(CROSSINGS)).max(axis=0)  # rows: each path at each τ
        return Scores(by_crossing, float(ll0.max()), float(lls.max()))
