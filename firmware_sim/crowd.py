"""People in the scene: who wears which band, where they walk, and when they cross the door."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

from firmware_sim.band import BandFirmware
from firmware_sim.venue import Layout

WALKING_SPEED = 1.3  # m/s, a relaxed adult pace

Waypoint = tuple[float, float, float]  # (t, x, y)


@dataclass
class Person:
    """A person wearing a band, moving along timed waypoints; ground truth for evaluation."""

    name: str
    kind: Literal["guest", "passer-by", "stranger"]
    band: BandFirmware
    path: list[Waypoint]
    door_crossing: float | None = None  # when the person passes the door, if ever
    _leg: int = field(default=0, repr=False)

    def position(self, t: float) -> tuple[float, float] | None:
        """Where the person is at time t, or None before they enter or after they leave the scene."""
        path = self.path
        if t < path[0][0] or t > path[-1][0]:
            return None
        # Time only moves forward in the simulator, so resume from the last leg.
        i = self._leg if path[self._leg][0] <= t else 0
        while i + 1 < len(path) and path[i + 1][0] < t:
            i += 1
        self._leg = i
        if i + 1 == len(path):
            return path[i][1], path[i][2]
        t0, x0, y0 = path[i]
        t1, x1, y1 = path[i + 1]
        f = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
        return x0 + f * (x1 - x0), y0 + f * (y1 - y0)


def _walk(points: list[tuple[float, float]], start: float, speed: float = WALKING_SPEED) -> list[Waypoint]:
    out: list[Waypoint] = [(start, *points[0])]
    t = start
    for (x0, y0), (x1, y1) in pairwise(points):
        t += math.hypot(x1 - x0, y1 - y0) / speed
        out.append((t, x1, y1))
    return out


def arriving_guest(
    name: str,
    band: BandFirmware,
    layout: Layout,
    start: float,
    from_left: bool = True,
    stay: float = 600.0,
    walk_m: float | None = None,
) -> Person:
    """Walk `walk_m` along the pavement (default half the street), turn in at the door, sit and stay."""
    dx, dy = layout.door
    along = layout.street_half_length / 2 if walk_m is None else walk_m
    sx = dx - along if from_left else dx + along
    points = [(sx, layout.street_y), (dx, layout.street_y), (dx, dy), (dx + 1.5, dy + 6.0)]
    path = _walk(points, start)
    path.append((path[-1][0] + stay, dx + 1.5, dy + 6.0))
    crossing = path[2][0]
    return Person(name=name, kind="guest", band=band, path=path, door_crossing=crossing)


def passer_by(
    name: str, band: BandFirmware, layout: Layout, start: float, rng: random.Random, half: float | None = None
) -> Person:
    """Walk the pavement past the door (2 × `half` metres, default the whole street) without going in."""
    half = layout.street_half_length if half is None else half
    y = layout.street_y + rng.uniform(-1.0, 0.8)
    left_to_right = rng.random() < 0.5
    points = [(-half, y), (half, y)] if left_to_right else [(half, y), (-half, y)]
    return Person(name=name, kind="passer-by", band=band, path=_walk(points, start, rng.uniform(1.0, 1.6)))
