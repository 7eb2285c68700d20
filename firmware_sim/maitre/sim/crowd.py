"""People in the scene: who wears which band, where they walk, and when they cross the door."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

from maitre.sim.band import BandFirmware
from maitre.sim.venue import Layout

WALKING_SPEED = 1.3  # m/s, a relaxed adult pace

Waypoint = tuple[float, float, float]  # (t, x, y)
Kind = Literal["guest", "passer-by", "stranger", "staff", "waiter"]


@dataclass
class Person:
    """A person wearing a band, moving along timed waypoints; ground truth for evaluation."""

    name: str
    kind: Kind
    band: BandFirmware
    path: list[Waypoint]
    party: str | None = None  # the reservation this person belongs to, if any
    door_crossing: float | None = None  # when the person first passes the door inwards, if ever
    _leg: int = field(default=0, repr=False)

    def _locate(self, t: float) -> int | None:
        path = self.path
        if t < path[0][0] or t > path[-1][0]:
            return None
        # Time only moves forward in the simulator, so resume from the last leg.
        i = self._leg if path[self._leg][0] <= t else 0
        while i + 1 < len(path) and path[i + 1][0] < t:
            i += 1
        self._leg = i
        return i

    def position(self, t: float) -> tuple[float, float] | None:
        """Where the person is at time t, or None before they enter or after they leave the scene."""
        i = self._locate(t)
        if i is None:
            return None
        path = self.path
        if i + 1 == len(path):
            return path[i][1], path[i][2]
        t0, x0, y0 = path[i]
        t1, x1, y1 = path[i + 1]
        f = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
        return x0 + f * (x1 - x0), y0 + f * (y1 - y0)

    def heading(self, t: float) -> tuple[float, float]:
        """Direction of travel at time t (unit vector), or (0, 0) while standing still."""
        i = self._locate(t)
        if i is None or i + 1 == len(self.path):
            return 0.0, 0.0
        _, x0, y0 = self.path[i]
        _, x1, y1 = self.path[i + 1]
        d = math.hypot(x1 - x0, y1 - y0)
        return (0.0, 0.0) if d == 0 else ((x1 - x0) / d, (y1 - y0) / d)


def crossing_time(path: list[Waypoint], door_y: float) -> float | None:
    """The first moment the path crosses the facade line inwards."""
    for (t0, _, y0), (t1, _, y1) in pairwise(path):
        if y0 < door_y <= y1:
            return t0 + (t1 - t0) * (door_y - y0) / (y1 - y0)
    return None


class PathBuilder:
    """Timed waypoints from places to walk to and pauses."""

    def __init__(self, start: float, x: float, y: float, speed: float = WALKING_SPEED) -> None:
        self.speed = speed
        self.points: list[Waypoint] = [(start, x, y)]

    def to(self, x: float, y: float) -> PathBuilder:
        t, x0, y0 = self.points[-1]
        self.points.append((t + math.hypot(x - x0, y - y0) / self.speed, x, y))
        return self

    def wait(self, seconds: float) -> PathBuilder:
        t, x, y = self.points[-1]
        self.points.append((t + seconds, x, y))
        return self


def _person(
    name: str, kind: Kind, band: BandFirmware, layout: Layout, b: PathBuilder, party: str | None = None
) -> Person:
    return Person(
        name, kind, band, b.points, party=party, door_crossing=crossing_time(b.points, layout.door[1])
    )


def arriving_guest(
    name: str,
    band: BandFirmware,
    layout: Layout,
    start: float,
    from_left: bool = True,
    stay: float = 600.0,
    walk_m: float | None = None,
    host_wait: float = 0.0,
    offset: float = 0.0,
    party: str | None = None,
    wait_outside: float = 0.0,
) -> Person:
    """Walk `walk_m` along the pavement, turn in at the door, stop at the host stand, sit and stay.

    `offset` shifts the person sideways (a party walking abreast); `wait_outside` makes them
    stand just outside the door first (waiting for friends) before going in.
    """
    dx, dy = layout.door
    along = layout.street_half_length / 2 if walk_m is None else walk_m
    sx = dx - along if from_left else dx + along
    b = PathBuilder(start, sx, layout.street_y + offset).to(dx + offset, layout.street_y + 0.3 * offset)
    if wait_outside:
        b.to(dx + 1.2 + offset, dy - 0.8).wait(wait_outside)
    b.to(dx + 0.3 * offset, dy - 0.3).to(dx + 0.3 * offset, dy + 0.3)
    for ex, ey in layout.entry:  # a vestibule's inner door, say
        b.to(ex + 0.3 * offset, ey)
    if layout.host_stand is not None:
        hx, hy = layout.host_stand
        b.to(hx + 0.5 * offset, hy).wait(host_wait)
    tx, ty = layout.tables
    b.to(tx + offset, ty).wait(stay)
    return _person(name, "guest", band, layout, b, party)


def passer_by(
    name: str,
    band: BandFirmware,
    layout: Layout,
    start: float,
    rng: random.Random,
    half: float | None = None,
    party: str | None = None,
) -> Person:
    """Walk the pavement past the door (2 × `half` metres, default the whole street) without going in."""
    half = layout.street_half_length if half is None else half
    y = layout.street_y + rng.uniform(-1.0, 1.5)
    x0, x1 = (-half, half) if rng.random() < 0.5 else (half, -half)
    b = PathBuilder(start, x0, y, speed=rng.uniform(1.0, 1.6)).to(x1, y)
    return _person(name, "passer-by", band, layout, b, party)


def waiter_outside(
    name: str, band: BandFirmware, layout: Layout, start: float, rng: random.Random, wait: float
) -> Person:
    """Walk up to the door, stand just outside it for `wait` seconds (a taxi, a friend), walk on."""
    dx, dy = layout.door
    side = rng.choice((-1.0, 1.0))
    b = PathBuilder(start, dx + side * 12, layout.street_y)
    b.to(dx + side * rng.uniform(0.8, 2.0), dy - rng.uniform(0.5, 1.2)).wait(wait)
    b.to(dx - side * 14, layout.street_y)
    return _person(name, "waiter", band, layout, b)


def staff_member(
    name: str, band: BandFirmware, layout: Layout, start: float, end: float, rng: random.Random
) -> Person:
    """Move about the room all evening: tables, the pass, the host stand."""
    tx, ty = layout.tables
    hx, hy = layout.host_stand or (layout.door[0], layout.door[1] + 1.0)
    b = PathBuilder(start, tx, ty)
    while b.points[-1][0] < end:
        if rng.random() < 0.2:
            b.to(hx + rng.uniform(-0.5, 1.0), hy + rng.uniform(0.3, 1.0))
        else:
            b.to(tx + rng.uniform(-5, 5), ty + rng.uniform(-3, 4))
        b.wait(rng.uniform(5, 40))
    return _person(name, "staff", band, layout, b)
