"""The air between bands and gateways: advances simulated time and delivers what each gateway hears."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable

from maitre.floorplan import BAND_HEIGHT_M
from maitre.gateway.advertisement import Advertisement
from maitre.sim.crowd import Person
from maitre.sim.radio import Link, RadioModel, SpatialLink
from maitre.sim.venue import Layout

Sink = Callable[[Advertisement], None]


class Air:
    """Shared medium: every band advertisement is offered to every listening gateway."""

    def __init__(
        self,
        layout: Layout,
        radio: RadioModel | None = None,
        seed: int = 0,
        epoch: float | None = None,
        gains: dict[str, float] | None = None,
    ) -> None:
        self.layout = layout
        self.radio = radio or RadioModel()
        self.rng = random.Random(seed)
        self.epoch = time.time() if epoch is None else epoch  # unix time of simulated t = 0
        self.now = 0.0
        self.people: list[Person] = []
        self.delivered = 0
        self._sinks: dict[str, Sink] = {}
        self._places = {g.name: (g.x, g.y) for g in layout.gateways}
        # Vertical gaps and gains are only applied where a layout or radio has them, so the
        # bistro's evenings draw and compute exactly as they always have.
        self._lift = {
            g.name: g.height - BAND_HEIGHT_M for g in layout.gateways if g.height is not None
        }
        self._gains = {name: gain for name, gain in (gains or {}).items() if gain}
        self._links: dict[tuple[str, str], Link | SpatialLink] = {}

    def add(self, person: Person) -> None:
        self.people.append(person)

    def listen(self, gateway: str, sink: Sink) -> None:
        if gateway not in self._places:
            raise KeyError(f"no gateway {gateway!r} in the layout of {self.layout.venue}")
        self._sinks[gateway] = sink

    def unlisten(self, gateway: str) -> None:
        self._sinks.pop(gateway, None)

    def advance(self, until: float) -> None:
        """Deliver every advertisement sent up to simulated time `until`."""
        rng, model, sinks, walls = self.rng, self.radio, self._sinks, self.layout.walls
        for person in self.people:
            band = person.band
            while band.next_t <= until:
                t = band.advance(rng)
                pos = person.position(t)
                if pos is None:
                    continue
                frame = band.frame(self.epoch + t)
                px, py = pos
                hx, hy = person.heading(t)
                for gw, sink in sinks.items():
                    gx, gy = self._places[gw]
                    link = self._links.get((person.name, gw))
                    if link is None:
                        link = self._links[(person.name, gw)] = (
                            SpatialLink(rng, model) if model.kind == "spatial" else Link(rng, model)
                        )
                    loss = 0.0
                    for wall in walls:
                        if wall.crosses(px, py, gx, gy):
                            loss += wall.loss_db
                    # Walking away from the gateway puts the wearer's body in the way.
                    if hx * (gx - px) + hy * (gy - py) < 0:
                        loss += model.body_loss_db
                    if gw in self._gains:
                        loss -= self._gains[gw]
                    lift = self._lift.get(gw)
                    d = math.hypot(px - gx, py - gy) if lift is None else math.hypot(px - gx, py - gy, lift)
                    if isinstance(link, SpatialLink):
                        rssi = link.rssi_at(model, band.power_1m, d, px, py, rng, loss)
                    else:
                        rssi = link.rssi(model, band.power_1m, d, t, rng, loss)
                    if rssi is None:
                        continue
                    self.delivered += 1
                    sink(Advertisement(person.name, rssi, self.epoch + t, manufacturer_data=frame))
        self.now = until
        # People who have left the scene no longer advertise into it.
        gone = [p for p in self.people if p.path[-1][0] < until]
        if gone:
            self.people = [p for p in self.people if p.path[-1][0] >= until]
            for p in gone:
                for gw in self._places:
                    self._links.pop((p.name, gw), None)

    async def run(self, speed: float = 1.0, tick: float = 0.05) -> None:
        """Advance in step with the wall clock (speed 1.0 is real time) until cancelled."""
        start = time.monotonic()
        base = self.now
        while True:
            await asyncio.sleep(tick)
            self.advance(base + (time.monotonic() - start) * speed)
