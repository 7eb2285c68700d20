"""Fusion across gateways: where in the venue a band most likely is, tracked over time.

The venue is cut into cells. For every cell and gateway the path-loss model and the walls in
between give the level a band there would produce. A band's filtered levels at all gateways
that hear it weigh every cell (missing gateways contribute no term, so a dead gateway degrades
the estimate instead of breaking it). Between updates the band's probability spreads to
neighbouring cells at walking pace, but never through a wall: to get inside, a band has to
pass the door. A passer-by whose signal briefly looks like "inside" cannot get there.
"""

from __future__ import annotations

import numpy as np

from maitre.floorplan import BAND_HEIGHT_M, VenueModel, default_bounds

CELL_M = 0.5  # about a stride: finer than the signal can resolve anyway
MIN_DISTANCE_M = 0.3  # the near field: the model stops meaning anything closer than this
# Shadowing has heavy tails: one link 15 dB off (a body, a pillar, a reflection) is common. A
# Gaussian would let that one link outvote all others; this floor caps what one link can say.
OUTLIER_LOG = -6.0  # log of the floor: a link ~3.5 σ off costs no more than that
# People appear from the street far more often than from nowhere inside the room.
PRIOR_INSIDE = 0.03
# Each update a little probability is drawn back to the edges of the street, so a track that
# started in the wrong place (the walls would otherwise keep it there) recovers. Never to the
# inside nor next to the door: that would let a passer-by's shadowed signal grow a greeting out
# of nothing, when a real guest's probability gets in the way the guest does, along the street
# and through the door.
RESEED = 0.01
# Levels are rounded to this before weighing cells: far below what shadowing lets us resolve,
# and it lets every band share one term per gateway and level (levels span ~120 dB, so at
# most ~240 cached terms per gateway: a few MB for a venue).
LEVEL_STEP_DB = 0.5


def expected_levels(
    model: VenueModel, exponent: float, gateway: str, xs: np.ndarray, ys: np.ndarray
) -> np.ndarray:
    """The level relative to 1 m power that `gateway` should hear from a band at each (x, y)."""
    px, py = model.gateways[gateway]
    height = model.heights.get(gateway)
    if height is None:
        d = np.maximum(np.hypot(xs - px, ys - py), MIN_DISTANCE_M)
    else:  # hung above (or below) the bands: the vertical gap is part of the distance
        d = np.maximum(
            np.sqrt((xs - px) ** 2 + (ys - py) ** 2 + (height - BAND_HEIGHT_M) ** 2), MIN_DISTANCE_M
        )
    level = model.gains.get(gateway, 0.0) - 10.0 * exponent * np.log10(d)
    for w in model.walls:
        level -= w.loss_db * crosses_wall(w.x0, w.y0, w.x1, w.y1, xs, ys, px, py)
    return level


class Fix:
    __slots__ = ("p_inside", "x", "y")

    def __init__(self, p_inside: float, x: float, y: float) -> None:
        self.p_inside = p_inside
        self.x = x
        self.y = y


class VenueGrid:
    """Expected level per cell and gateway, precomputed once per venue model."""

    def __init__(self, model: VenueModel, exponent: float, sigma_db: float, cell: float = CELL_M) -> None:
        self.model = model
        self.sigma = sigma_db
        x0, y0, x1, y1 = model.bounds if model.bounds is not None else default_bounds(model)
        xs = np.arange(x0 + cell / 2, x1, cell)
        ys = np.arange(y0 + cell / 2, y1, cell)
        gxs, gys = np.meshgrid(xs, ys)
        self.shape = gxs.shape
        self.cell = cell
        self.xs = gxs.ravel()
        self.ys = gys.ravel()
        inside = np.zeros(self.xs.shape, dtype=bool)
        for rx0, ry0, rx1, ry1 in model.inside:
            inside |= (self.xs >= rx0) & (self.xs <= rx1) & (self.ys >= ry0) & (self.ys <= ry1)
        self.inside = inside
        self.expected: dict[str, np.ndarray] = {}
        self._terms: dict[tuple[str, int], np.ndarray] = {}
        for name in model.gateways:
            self.expected[name] = expected_levels(model, exponent, name, self.xs, self.ys)
        # Which neighbouring cells a person can step between: not through a wall.
        ny, nx = self.shape
        right = np.ones((ny, nx - 1), dtype=bool)
        up = np.ones((ny - 1, nx), dtype=bool)
        for w in model.walls:
            right &= ~crosses_wall(w.x0, w.y0, w.x1, w.y1, gxs[:, :-1], gys[:, :-1], gxs[:, 1:], gys[:, 1:])
            up &= ~crosses_wall(w.x0, w.y0, w.x1, w.y1, gxs[:-1, :], gys[:-1, :], gxs[1:, :], gys[1:, :])
        self.open_right = right.astype(float)
        self.open_up = up.astype(float)
        self.inside2d = inside.reshape(self.shape)
        n_in = max(int(inside.sum()), 1)
        n_out = max(int((~inside).sum()), 1)
        self.outside_prior = np.where(self.inside2d, PRIOR_INSIDE / n_in, (1 - PRIOR_INSIDE) / n_out)
        # Where people come from: the edges of the area, outside. Not every street cell: a cell by
        # the door would let a shadowed passer-by appear there and be inside a moment later.
        edge = np.zeros(self.shape, dtype=bool)
        edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = True
        edge &= ~self.inside2d
        self.street_edges = edge / max(int(edge.sum()), 1)

    def shift_gains(self, model: VenueModel, deltas: dict[str, float]) -> None:
        """The same grid for `model`, whose gateways' gains moved by `deltas` dB: no rebuild."""
        for gateway, delta in deltas.items():
            if delta and gateway in self.expected:
                self.expected[gateway] = self.expected[gateway] + delta
                for key in [k for k in self._terms if k[0] == gateway]:
                    del self._terms[key]
        self.model = model

    def loglik(self, levels: dict[str, float]) -> np.ndarray | None:
        """Log-likelihood of every cell given levels relative to 1 m power; None if none apply."""
        ll: np.ndarray | None = None
        for gateway, level in levels.items():
            one = self._term(gateway, level)
            if one is None:
                continue
            ll = one if ll is None else ll + one
        return ll

    def _term(self, gateway: str, level: float) -> np.ndarray | None:
        """One gateway's log-likelihood term, cached per LEVEL_STEP_DB: it is the hot path."""
        expected = self.expected.get(gateway)
        if expected is None:
            return None
        step = round(level / LEVEL_STEP_DB)
        key = (gateway, step)
        one = self._terms.get(key)
        if one is None:
            term = (step * LEVEL_STEP_DB - expected) / self.sigma
            one = self._terms[key] = np.logaddexp(-0.5 * term * term, OUTLIER_LOG)
        return one

    def locate(self, levels: dict[str, float]) -> Fix | None:
        """Probability of being inside, and the most likely place, from these levels alone."""
        ll = self.loglik(levels)
        if ll is None:
            return None
        w = np.exp(ll - ll.max())
        total = float(w.sum())
        best = int(np.argmax(w))
        return Fix(float(w[self.inside].sum()) / total, float(self.xs[best]), float(self.ys[best]))


class Track:
    """One band's probability over the venue's cells.

    `prior` is the belief at the start of the current evidence period, moved to walking pace;
    every sighting within the period recomputes `p` from it with the freshest levels, so a
    decision never waits for the next period to see what a gateway just said, and no
    evidence is counted twice.
    """

    __slots__ = ("last_t", "p", "prior", "prior_t")

    def __init__(self, p: np.ndarray, t: float, prior: np.ndarray) -> None:
        self.p = p
        self.last_t = t
        self.prior = prior
        self.prior_t = t


def _diffuse(grid: VenueGrid, p: np.ndarray, steps: int, a: float = 0.2) -> np.ndarray:
    """Spread probability to open neighbours; each step moves a share `a` across every open edge."""
    for _ in range(steps):
        flow_r = a * (p[:, :-1] - p[:, 1:]) * grid.open_right
        flow_u = a * (p[:-1, :] - p[1:, :]) * grid.open_up
        p = p.copy()
        p[:, :-1] -= flow_r
        p[:, 1:] += flow_r
        p[:-1, :] -= flow_u
        p[1:, :] += flow_u
    return p


def track_start(grid: VenueGrid, levels: dict[str, float], t: float) -> Track | None:
    """A new track: most people appear from the street, so the prior leans outside."""
    ll = grid.loglik(levels)
    if ll is None:
        return None
    p = grid.outside_prior * np.exp(ll - ll.max()).reshape(grid.shape)
    return Track(p / p.sum(), t, grid.outside_prior)


def track_update(
    grid: VenueGrid,
    track: Track,
    levels: dict[str, float],
    t: float,
    speed: float,
    period: float,
    weight: float = 1.0,
) -> float:
    """Weigh the track by the freshest levels; once a period is over, move it on at walking pace.

    Returns P(inside).
    """
    if t - track.prior_t >= period:
        # What we believed becomes the prior of the next period, spread at walking pace.
        # Each diffusion step spreads a variance of 2·a cells² per axis; walking covers speed·dt.
        spread = (speed * (t - track.prior_t) / grid.cell) ** 2
        steps = min(40, int(spread / 0.4) + 1)
        track.prior = _diffuse(grid, track.p, steps)
        track.prior_t = t
    p = track.prior
    ll = grid.loglik(levels)
    if ll is not None:
        # Filtered levels repeat much of what they said last period: weigh them below one.
        p = p * np.exp(weight * (ll - ll.max())).reshape(grid.shape)
    total = p.sum()
    p = (1 - RESEED) * p / total + RESEED * grid.street_edges if total > 0 else grid.outside_prior.copy()
    track.p = p
    track.last_t = t
    return float(p[grid.inside2d].sum())


def crosses_wall(
    x0: float, y0: float, x1: float, y1: float, ax: np.ndarray, ay: np.ndarray, bx: float, by: float
) -> np.ndarray:
    """For each point a: does the segment a→b cross the wall (x0,y0)→(x1,y1)?"""
    d1 = (x1 - x0) * (ay - y0) - (y1 - y0) * (ax - x0)
    d2 = (x1 - x0) * (by - y0) - (y1 - y0) * (bx - x0)
    d3 = (bx - ax) * (y0 - ay) - (by - ay) * (x0 - ax)
    d4 = (bx - ax) * (y1 - ay) - (by - ay) * (x1 - ax)
    return ((d1 * d2) < 0) & ((d3 * d4) < 0)
