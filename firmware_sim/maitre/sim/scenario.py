"""Scenario files: a venue, its radio and an evening's crowd, reproducible from a seed."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from maitre.sim.air import Air
from maitre.sim.band import BandFirmware, Rotation
from maitre.sim.crowd import Person, arriving_guest, passer_by, staff_member, waiter_outside
from maitre.sim.radio import RadioModel
from maitre.sim.venue import Layout, named_layout

SCENARIO_DIR = Path(__file__).parent / "scenarios"


class RadioSpec(msgspec.Struct, frozen=True):
    exponent: float = 2.2
    shadowing_db: float = 3.0
    shadowing_tau: float = 2.0
    fading_db: float = 2.0
    loss: float = 0.1
    body_loss_db: float = 5.0
    # Each gateway's own gain, dB (antenna, enclosure, mounting): what an uncalibrated install
    # gets wrong. Gateways not named: 0.
    gain_db: dict[str, float] = {}
    kind: str = "gauss-markov"  # or "spatial": the second, independent radio model (radio.py)


class CrowdSpec(msgspec.Struct, frozen=True):
    parties: int = 20  # reservations that arrive during the run
    max_party_size: int = 4
    together_share: float = 0.7  # parties whose bands arrive together; the rest trickle in
    host_wait: tuple[float, float] = (4.0, 20.0)  # seconds a party stands at the host stand
    passers_by_per_minute: float = 6.0
    known_passer_share: float = 0.3  # passers-by whose band belongs to a guest booked tonight
    waiters_outside: int = 3  # people who stand by the door a while and walk on
    wait_outside: tuple[float, float] = (20.0, 90.0)
    party_waits_outside_share: float = 0.1  # parties that wait by the door before going in
    known_waiter_share: float = 0.0  # people waiting outside whose band belongs to a booked guest
    staff: int = 2


class ScenarioError(ValueError):
    """A scenario that cannot be run as written (the message says why)."""


class GatewayFault(msgspec.Struct, frozen=True):
    gateway: str
    dies_at: float  # seconds into the run


class Scenario(msgspec.Struct, frozen=True):
    name: str
    description: str = ""
    seed: int = 1
    duration: float = 600.0  # seconds of simulated evening
    layout: str = "bistro"  # the venue and where its gateways hang (maitre.sim.venue.LAYOUTS)
    advertising_interval: float = 0.1
    rotating_share: float = 0.5  # bands advertising rotating ids
    rotation_exponent: int = 8
    drift_ppm: float = 40.0  # each band's clock error is drawn from ±this
    radio: RadioSpec = RadioSpec()
    crowd: CrowdSpec = CrowdSpec()
    faults: list[GatewayFault] = []


def load_scenario(name_or_path: str) -> Scenario:
    """A scenario by file path, or by name from maitre.sim's scenarios/ folder."""
    path = Path(name_or_path)
    if not path.exists():
        path = SCENARIO_DIR / f"{name_or_path}.json"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.json")))
        raise FileNotFoundError(f"no scenario {name_or_path!r}; shipped scenarios: {known}")
    return msgspec.json.decode(path.read_bytes(), type=Scenario)


@dataclass
class Party:
    """A reservation in the scene and the people who belong to it."""

    key: str
    members: list[Person]

    @property
    def first_crossing(self) -> float | None:
        times = [p.door_crossing for p in self.members if p.door_crossing is not None]
        return min(times) if times else None


@dataclass
class Evening:
    """A built scenario: the air with everyone in it, and the ground truth to score against."""

    scenario: Scenario
    layout: Layout
    air: Air
    people: list[Person]
    parties: list[Party]  # reservations whose guests come in
    known_passers: list[Person]  # passers-by whose bands are registered guests of another night
    bands: dict[str, Person]  # stable band id → wearer


def radio_model(r: RadioSpec) -> RadioModel:
    return RadioModel(
        exponent=r.exponent,
        shadowing_db=r.shadowing_db,
        shadowing_tau=r.shadowing_tau,
        fading_db=r.fading_db,
        loss=r.loss,
        body_loss_db=r.body_loss_db,
        kind=r.kind,
    )


def party_members(
    key: str,
    start: float,
    c: CrowdSpec,
    layout: Layout,
    rng: random.Random,
    band: Callable[[], BandFirmware],
) -> list[Person]:
    """One reservation's guests as the crowd draws them: 1 to max_party_size, together (a second
    or so apart, abreast) or trickling in minutes apart, the first maybe waiting outside first."""
    size = rng.randint(1, c.max_party_size)
    together = rng.random() < c.together_share
    from_left = rng.random() < 0.5
    host_wait = rng.uniform(*c.host_wait)
    wait_outside = rng.uniform(*c.wait_outside) if rng.random() < c.party_waits_outside_share else 0.0
    members = []
    for m in range(size):
        delay = m * rng.uniform(0.3, 1.5) if together else m * rng.uniform(30, 180)
        members.append(
            arriving_guest(
                f"{key}/{m}",
                band(),
                layout,
                start + delay,
                from_left=from_left if together else rng.random() < 0.5,
                walk_m=rng.uniform(8, 14),
                host_wait=host_wait,
                offset=(m - (size - 1) / 2) * 0.6 if together else rng.uniform(-0.4, 0.4),
                party=key,
                wait_outside=wait_outside if m == 0 else 0.0,
            )
        )
    return members


def build(scenario: Scenario, epoch: float = 1_795_000_000.0, layout: Layout | None = None) -> Evening:
    """Place the scenario's crowd into a fresh air; same seed, same evening. `layout`: a venue of
    its own (a drawn one, family.py) instead of the scenario's named layout."""
    if scenario.radio.kind not in ("gauss-markov", "spatial"):
        raise ScenarioError(f"scenario {scenario.name!r}: no radio model {scenario.radio.kind!r}")
    layout = layout or named_layout(scenario.layout)
    names = {g.name for g in layout.gateways}
    for fault in scenario.faults:
        if fault.gateway not in names:  # it would silently never die
            raise ScenarioError(
                f"scenario {scenario.name!r}: a fault names gateway {fault.gateway!r}, but layout "
                f"{scenario.layout!r} has {sorted(names)}"
            )
    rng = random.Random(scenario.seed)
    radio = radio_model(scenario.radio)
    air = Air(layout, radio, seed=scenario.seed, epoch=epoch, gains=scenario.radio.gain_db)
    c = scenario.crowd
    people: list[Person] = []

    def band() -> BandFirmware:
        rotation = None
        if rng.random() < scenario.rotating_share:
            drift = rng.uniform(-scenario.drift_ppm, scenario.drift_ppm)
            rotation = Rotation(
                rng.randbytes(16), scenario.rotation_exponent, epoch - rng.uniform(0, 5e6), drift
            )
        return BandFirmware(
            rng.randbytes(8), interval=scenario.advertising_interval, rng=rng, rotation=rotation
        )

    parties: list[Party] = []
    span = max(scenario.duration - 120.0, 60.0)
    for i in range(c.parties):
        key = f"party-{i}"
        start = 20.0 + span * (i + rng.random()) / c.parties
        members = party_members(key, start, c, layout, rng, band)
        parties.append(Party(key, members))
        people += members

    known_passers = []
    t = 0.0
    k = 0
    while c.passers_by_per_minute > 0:
        t += rng.expovariate(c.passers_by_per_minute / 60.0)
        if t > scenario.duration:
            break
        known = rng.random() < c.known_passer_share
        p = passer_by(f"passer-{k}", band(), layout, t - 25.0, rng, party=f"later-{k}" if known else None)
        people.append(p)
        if known:
            known_passers.append(p)
        k += 1
    for w in range(c.waiters_outside):
        start = rng.uniform(0, scenario.duration - 60)
        waiter = waiter_outside(f"waiter-{w}", band(), layout, start, rng, rng.uniform(*c.wait_outside))
        if c.known_waiter_share and rng.random() < c.known_waiter_share:
            waiter.party = f"waiting-{w}"  # booked for later: must not be greeted while waiting outside
        people.append(waiter)
    for s in range(c.staff):
        people.append(staff_member(f"staff-{s}", band(), layout, 0.0, scenario.duration, rng))

    for p in people:
        air.add(p)
    return Evening(
        scenario=scenario,
        layout=layout,
        air=air,
        people=people,
        parties=parties,
        known_passers=known_passers,
        bands={p.band.advertiser_id: p for p in people},
    )
