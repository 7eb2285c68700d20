"""A scene: who walks past or into the venue, and when. The demo's and the tests' script."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from maitre.sim.air import Air
from maitre.sim.band import BandFirmware, Rotation
from maitre.sim.crowd import Person, arriving_guest, passer_by


@dataclass
class Scene:
    """Schedules people into an air; keeps the ground truth of everyone it placed."""

    air: Air
    seed: int = 0
    people: list[Person] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def new_band(self, rotation_exponent: int | None = None, drift_ppm: float = 0.0) -> BandFirmware:
        """A band switched on now; with a rotation exponent it advertises rotating ids."""
        rotation = None
        if rotation_exponent is not None:
            # Registered a day before the scene starts, so its counter is well past zero.
            rotation = Rotation(self.rng.randbytes(16), rotation_exponent, self.air.epoch - 86_400, drift_ppm)
        return BandFirmware(self.rng.randbytes(8), rng=self.rng, start=self.air.now, rotation=rotation)

    def guest_arrives(
        self, name: str, band: BandFirmware, start: float, from_left: bool = True, walk_m: float | None = None
    ) -> Person:
        person = arriving_guest(name, band, self.air.layout, start, from_left=from_left, walk_m=walk_m)
        self._place(person)
        return person

    def passer_by(self, name: str, band: BandFirmware, start: float, half: float | None = None) -> Person:
        person = passer_by(name, band, self.air.layout, start, self.rng, half=half)
        self._place(person)
        return person

    def _place(self, person: Person) -> None:
        self.people.append(person)
        self.air.add(person)
