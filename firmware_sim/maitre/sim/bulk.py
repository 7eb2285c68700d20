"""The air for big crowds: the same radio model as air.py, vectorised over every band with numpy.

`Air` walks band by band and packet by packet, which is exact and fine for a venue's evening;
this one advances all bands in fixed ticks so that 10,000 bands run faster than real time on a
small machine. People here walk straight lines between random points of the layout; each tick
every band whose advertising event falls inside the tick is heard (or not) by every gateway.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from maitre.sim.band import ADV_DELAY_MAX, DEFAULT_INTERVAL, DEFAULT_POWER_1M
from maitre.sim.radio import RadioModel
from maitre.sim.venue import Layout

# What a gateway hears in one tick: band indices, RSSI (dBm) and event times (s), as arrays.
BulkSink = Callable[[np.ndarray, np.ndarray, np.ndarray], None]


class BulkAir:
    """N bands wandering a layout's area, heard by its gateways through walls and bodies."""

    def __init__(
        self, layout: Layout, bands: int, radio: RadioModel | None = None, seed: int = 0, speed: float = 1.3
    ) -> None:
        self.layout = layout
        self.radio = radio or RadioModel()
        self.rng = np.random.default_rng(seed)
        self.n = bands
        xs = [v for z in layout.zones for v in (z.x0, z.x1)]
        ys = [v for z in layout.zones for v in (z.y0, z.y1)]
        self.box = (min(xs), min(ys), max(xs), max(ys))
        self.pos = self._points(bands)
        self.goal = self._points(bands)
        self.speed = speed
        self.next_t = self.rng.uniform(0, DEFAULT_INTERVAL, bands)
        self.power = np.full(bands, float(DEFAULT_POWER_1M))
        self.gateways = [(g.name, g.x, g.y) for g in layout.gateways]
        self.shadow = self.rng.normal(0, self.radio.shadowing_db, (bands, len(self.gateways)))
        self.now = 0.0
        self.heard = 0
        self._sinks: dict[str, BulkSink] = {}

    def _points(self, n: int) -> np.ndarray:
        x0, y0, x1, y1 = self.box
        return np.column_stack((self.rng.uniform(x0, x1, n), self.rng.uniform(y0, y1, n)))

    def listen(self, gateway: str, sink: BulkSink) -> None:
        self._sinks[gateway] = sink

    def step(self, dt: float) -> None:
        """Advance every band by dt seconds and deliver what each gateway hears."""
        rng, m = self.rng, self.radio
        t1 = self.now + dt
        # Walk towards the goal; pick a new goal on arrival.
        delta = self.goal - self.pos
        dist = np.hypot(delta[:, 0], delta[:, 1])
        stride = np.minimum(dist, self.speed * dt)
        moving = dist > 1e-9
        heading = np.zeros_like(delta)
        heading[moving] = delta[moving] / dist[moving, None]
        self.pos += heading * stride[:, None]
        arrived = dist <= self.speed * dt
        if arrived.any():
            self.goal[arrived] = self._points(int(arrived.sum()))
        # Bands whose next advertising event falls in this tick (one per tick at most: the
        # interval is longer than the tick).
        firing = np.nonzero(self.next_t < t1)[0]
        times = self.next_t[firing]
        self.next_t[firing] += DEFAULT_INTERVAL + rng.uniform(0, ADV_DELAY_MAX, firing.size)
        # Shadowing drifts for everyone (Gauss-Markov), as in Link.rssi.
        rho = np.exp(-dt / m.shadowing_tau)
        self.shadow = rho * self.shadow + np.sqrt(1 - rho * rho) * rng.normal(
            0, m.shadowing_db, self.shadow.shape
        )
        px, py = self.pos[firing, 0], self.pos[firing, 1]
        hx, hy = heading[firing, 0], heading[firing, 1]
        for g, (name, gx, gy) in enumerate(self.gateways):
            sink = self._sinks.get(name)
            if sink is None:
                continue
            d = np.maximum(np.hypot(px - gx, py - gy), 0.1)
            rssi = self.power[firing] - 10 * m.exponent * np.log10(d) + self.shadow[firing, g]
            rssi += rng.normal(0, m.fading_db, firing.size)
            for w in self.layout.walls:
                rssi -= w.loss_db * _crosses(w.x0, w.y0, w.x1, w.y1, px, py, gx, gy)
            rssi -= m.body_loss_db * ((hx * (gx - px) + hy * (gy - py)) < 0)
            heard = (rssi >= m.sensitivity_dbm) & (rng.random(firing.size) >= m.loss)
            self.heard += int(heard.sum())
            sink(firing[heard], np.round(rssi[heard]), times[heard])
        self.now = t1


def _crosses(
    x0: float, y0: float, x1: float, y1: float, ax: np.ndarray, ay: np.ndarray, bx: float, by: float
) -> np.ndarray:
    d1 = (x1 - x0) * (ay - y0) - (y1 - y0) * (ax - x0)
    d2 = (x1 - x0) * (by - y0) - (y1 - y0) * (bx - x0)
    d3 = (bx - ax) * (y0 - ay) - (by - ay) * (x0 - ax)
    d4 = (bx - ax) * (y1 - ay) - (by - ay) * (x1 - ax)
    return ((d1 * d2) < 0) & ((d3 * d4) < 0)
