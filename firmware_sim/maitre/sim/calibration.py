"""The calibration walk in the simulator: one person walks a known route through the venue.

The same walk a venue's staff would do on installation day (docs/operate/calibration.md, "Calibrating a
venue"): along the pavement past the door, a stop just outside it, in to the host stand, into
the room, back out and along the pavement the other way. It runs in the scenario's own radio
(shadowing, bodies, loss) with its own seed, never the evening's, and with every gateway alive:
a calibration is done before the evening, not during it.
"""

from __future__ import annotations

import random

import msgspec

from maitre.floorplan import STAND_S, route
from maitre.sim.air import Air
from maitre.sim.band import BandFirmware
from maitre.sim.crowd import PathBuilder, Person, crossing_time
from maitre.sim.scenario import Evening, Scenario, radio_model
from maitre.sim.venue import Layout, named_layout, presence_model

SEED_OFFSET = 7_919  # the walk's radio draws are not the evening's


def walker(layout: Layout, band: BandFirmware, start: float = 2.0, stand_s: float = STAND_S) -> Person:
    """The calibration route an operator walks (`maitre.floorplan.route`), at walking pace."""
    stops = route(presence_model(layout), stand_s)
    b = PathBuilder(start, stops[0].x, stops[0].y)
    for stop in stops[1:]:
        b.to(stop.x, stop.y)
        if stop.stand_s:
            b.wait(stop.stand_s)
    return Person(
        "calibration", "staff", band, b.points, door_crossing=crossing_time(b.points, layout.door[1])
    )


def evening(scenario: Scenario, epoch: float = 1_795_000_000.0) -> Evening:
    """The walk alone in the scenario's venue and radio, as an evening `runner.record` can replay."""
    layout = named_layout(scenario.layout)
    rng = random.Random(scenario.seed + SEED_OFFSET)
    air = Air(
        layout,
        radio_model(scenario.radio),
        seed=scenario.seed + SEED_OFFSET,
        epoch=epoch,
        gains=scenario.radio.gain_db,
    )
    band = BandFirmware(rng.randbytes(8), interval=scenario.advertising_interval, rng=rng)
    person = walker(layout, band)
    air.add(person)
    walk = msgspec.structs.replace(scenario, duration=person.path[-1][0] + 1.0, faults=[])
    return Evening(
        scenario=walk,
        layout=layout,
        air=air,
        people=[person],
        parties=[],
        known_passers=[],
        bands={band.advertiser_id: person},
    )
