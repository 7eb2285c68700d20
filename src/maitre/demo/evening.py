"""The demo's evening for as long as it runs: a party every 10-15 s, now and then a walk-in, passers-by.

The first six parties are the named demo guests (DEMO_GUESTS); after them, parties are made up from
a pool of names, so the host stand and the kitchen never fall silent. One party in five never
agreed to be recognised (never greeted); one in four arrivals is a walk-in whose band nobody
registered (never greeted either: the host adds them by hand).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine

from maitre.demo.seed import DEMO_GUESTS, DemoGuest, seed_guest
from maitre.sim.scene import Scene

FIRST_ARRIVAL = 1.0  # seconds after start that the first guest sets off: ~15 s later they are at the stand
GAP = (10.0, 15.0)  # seconds between parties setting off, drawn evenly: a busy but readable door
PASSER_BY_GAP = 5.0
WALK_IN_EVERY = 4  # every fourth party is a walk-in with an unregistered band
UNRECOGNISED_EVERY = 5  # every fifth made-up party never agreed to be recognised
LOOKAHEAD = 20.0  # parties are booked and sent walking this far ahead of scene time

FIRST_NAMES = (
    "Amara", "Bastien", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hiroshi", "Ines", "Jonas",
    "Kofi", "Leila", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Thandi",
)  # fmt: skip
LAST_NAMES = (
    "Achebe", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ivanova",
    "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okoye", "Petrov", "Rossi", "Schmidt",
)  # fmt: skip
OCCASIONS = (None, None, None, "Birthday", "Anniversary", "Date night")
ALLERGIES = ((), (), (), ("peanuts",), ("shellfish",), ("sesame",), ("gluten",))
DISHES = (
    ("Burrata", 6),
    ("Duck confit", 18),
    ("Mushroom risotto", 20),
    ("Tarte tatin", 12),
    ("Steak frites", 16),
)


@dataclass(frozen=True)
class Booked:
    """A party booked for the demo: who, their check-in code, and when they set off (scene seconds)."""

    guest: DemoGuest
    code: str
    sets_off: float


def made_up_party(k: int, rng: random.Random) -> DemoGuest:
    """The k-th party after the named ones."""
    items = tuple((name, rng.randint(1, 2), prep) for name, prep in rng.sample(DISHES, rng.randint(0, 2)))
    return DemoGuest(
        FIRST_NAMES[k % len(FIRST_NAMES)],
        LAST_NAMES[(k * 7) % len(LAST_NAMES)],
        rng.randint(1, 6),
        occasion=rng.choice(OCCASIONS),
        allergies=rng.choice(ALLERGIES),
        items=items,
        consent=k % UNRECOGNISED_EVERY != UNRECOGNISED_EVERY - 1,
    )


class Evening:
    """Books parties and sends them (and walk-ins, and passers-by) into the scene, ahead of time."""

    def __init__(self, engine: Engine, venue_id: int, scene: Scene, seed: int = 7) -> None:
        self.engine = engine
        self.venue_id = venue_id
        self.scene = scene
        self.rng = random.Random(seed)
        self.parties = 0
        self.next_party = FIRST_ARRIVAL
        self.next_passer_by = 1.0
        self.booked: list[Booked] = []
        self.on_booked: Callable[[Booked], None] | None = None  # the demo prints each party's check-in code
        # A running service learns of bands registered after it started only when told (as a link is).
        self.on_band: Callable[[int], None] | None = None
        self.on_walk_in: Callable[[float], None] | None = None

    def book_until(self, horizon: float) -> list[Booked]:
        """Book every party setting off before `horizon` (scene seconds); returns the new bookings."""
        new = []
        while self.next_party < horizon:
            k = self.parties
            self.parties += 1
            start = self.next_party
            self.next_party += self.rng.uniform(*GAP)
            if k >= len(DEMO_GUESTS) and k % WALK_IN_EVERY == WALK_IN_EVERY - 1:
                self.scene.guest_arrives(f"walk-in {k}", self.scene.new_band(), start, from_left=k % 2 == 0)
                if self.on_walk_in is not None:
                    self.on_walk_in(start)
                continue
            guest = DEMO_GUESTS[k] if k < len(DEMO_GUESTS) else made_up_party(k, self.rng)
            # Every guest's band advertises rotating ids (a new one every 16 s, to watch it): a fixed
            # id could be recorded on the street and replayed (issue 26).
            band = self.scene.new_band(rotation_exponent=4)
            # Booked for about when they come: inside the matching window, early or a little late.
            at = timedelta(seconds=start - self.scene.air.now, minutes=self.rng.uniform(-10, 10))
            guest_id, code = seed_guest(self.engine, self.venue_id, guest, band, at)
            if self.on_band is not None:
                self.on_band(guest_id)
            self.scene.guest_arrives(f"{guest.first} {guest.last}", band, start, from_left=k % 2 == 0)
            booked = Booked(guest, code, start)
            self.booked.append(booked)
            new.append(booked)
            if self.on_booked is not None:
                self.on_booked(booked)
        while self.next_passer_by < horizon:
            self.scene.passer_by(
                f"passer-by {self.next_passer_by:.0f}", self.scene.new_band(), self.next_passer_by
            )
            self.next_passer_by += PASSER_BY_GAP
        return new

    async def run(self) -> None:
        """Keep booking ahead of the scene's clock until cancelled."""
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                # In the loop, not a thread: the scene is the air's, which runs here (a booking is ~ms).
                self.book_until(self.scene.air.now + LOOKAHEAD)
                await asyncio.sleep(2.0)
