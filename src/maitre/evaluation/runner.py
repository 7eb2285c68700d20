"""Run a scenario through the real gateway and ingest code, then score each presence engine."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import msgspec

from maitre import wire
from maitre.floorplan import VenueModel
from maitre.gateway.beacons import decode
from maitre.gateway.window import Window
from maitre.identity.resolver import EidResolver, RotatingBand
from maitre.ingest.pipeline import Ingest
from maitre.presence import GatewayKey, PresenceEngine, PresenceEvent
from maitre.presence.calibration import Calibration, fit
from maitre.sim.scenario import Evening, Scenario, build
from maitre.sim.venue import Layout, named_layout, presence_model
from maitre.wire import Sighting

BATCH_INTERVAL = 0.5
# A greeting up to this long before the first member crosses the door line still greets the
# right people: they are in the doorway. Earlier than that, they were outside.
EARLY_GRACE_S = 1.0
RECALL_WITHIN_S = 3.0
# "Approaching" is right when the band's wearer crosses the door within this long after it, and
# useful when it comes at least APPROACH_LEAD_S before the party's first crossing.
APPROACH_WITHIN_S = 120.0
APPROACH_LEAD_S = 5.0


class Engine(Protocol):
    def observe(self, venue: str, gateway: str, s: Sighting) -> list[PresenceEvent]: ...

    def observe_batch(
        self, venue: str, gateway: str, sightings: Sequence[Sighting]
    ) -> list[PresenceEvent]: ...


@dataclass
class Score:
    engine: str
    greets: int = 0
    correct: int = 0
    wrong_guest: int = 0  # a name shown for someone who is not coming in (passer-by, waiting outside)
    premature: int = 0  # the right party, greeted while still outside (more than the grace early)
    passer_greets: int = 0
    passers: int = 0
    parties: int = 0
    recalled: int = 0  # greeted within RECALL_WITHIN_S of crossing the door
    latencies: list[float] = field(default_factory=list)
    waiters: int = 0  # booked people who stand outside a while and walk on
    waiter_greets: int = 0
    announced: int = 0  # approaching events for booked bands
    announced_right: int = 0  # … whose wearer then crossed the door within APPROACH_WITHIN_S
    announced_ahead: int = 0  # parties announced at least APPROACH_LEAD_S before their first crossing

    @property
    def approach_precision(self) -> float:
        return self.announced_right / self.announced if self.announced else float("nan")

    @property
    def approach_ahead(self) -> float:
        return self.announced_ahead / self.parties if self.parties else float("nan")

    @property
    def precision(self) -> float:
        return self.correct / self.greets if self.greets else 1.0

    @property
    def recall(self) -> float:
        return self.recalled / self.parties if self.parties else 1.0

    @property
    def passer_rate(self) -> float:
        return self.passer_greets / self.passers if self.passers else 0.0

    def latency(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q * 100) - 1]


@dataclass
class Recording:
    """The batches the venue's gateways published, in order: (publish time, gateway, payload)."""

    batches: list[tuple[float, str, bytes]]
    advertisements: int
    seconds: float


def record(
    evening: Evening, progress: Callable[[str], None] | None = None, interval: float = BATCH_INTERVAL
) -> Recording:
    """Simulate the evening and run every gateway's decode ▸ aggregate ▸ encode on what it hears,
    each gateway sending a batch every `interval` seconds (its `--interval`)."""
    air, layout = evening.air, evening.layout
    windows = {g.name: Window() for g in layout.gateways}
    dead = {f.gateway: f.dies_at for f in evening.scenario.faults}
    heard = [0]

    def sink_for(name: str, window: Window) -> Callable[..., None]:
        def sink(adv: object) -> None:
            heard[0] += 1
            found = decode(adv)  # type: ignore[arg-type]
            if found is not None:
                window.add(found[0], adv.rssi, adv.t, found[1])  # type: ignore[attr-defined]

        return sink

    for name, window in windows.items():
        air.listen(name, sink_for(name, window))
    seqs = dict.fromkeys(windows, 0)
    out: list[tuple[float, str, bytes]] = []
    started = time.perf_counter()
    t = 0.0
    duration = evening.scenario.duration
    next_report = 60.0
    while t < duration:
        t += interval
        air.advance(t)
        now = air.epoch + t
        for name, window in windows.items():
            sightings = window.drain()
            if not sightings or t >= dead.get(name, float("inf")):
                continue
            batch = wire.SightingBatch(
                v=1,
                venue=layout.venue,
                gateway=name,
                boot="sim",
                seq=seqs[name],
                sent=now,
                window=interval,
                sightings=sightings,
            )
            seqs[name] += 1
            out.append((now, name, wire.encode(batch)))
        if progress and t >= next_report:
            progress(f"  simulated {t:.0f}/{duration:.0f} s, {heard[0]:,} advertisements")
            next_report += 60.0
    return Recording(out, heard[0], time.perf_counter() - started)


def registered(evening: Evening) -> tuple[set[str], list[RotatingBand], dict[str, str]]:
    """What the service knows: tracked bands, rotating keys, and band → reservation."""
    reservation_of: dict[str, str] = {}
    for party in evening.parties:
        for p in party.members:
            reservation_of[p.band.advertiser_id] = party.key
    for p in evening.people:
        if p.kind in ("passer-by", "waiter") and p.party is not None:
            reservation_of[p.band.advertiser_id] = p.party
    rotating = [
        RotatingBand(bid, p.band.rotation.identity_key, p.band.rotation.exponent, p.band.rotation.epoch)
        for bid, p in evening.bands.items()
        if bid in reservation_of and p.band.rotation is not None
    ]
    return set(reservation_of), rotating, reservation_of


def score(
    evening: Evening,
    recording: Recording,
    name: str,
    make: Callable[[dict[GatewayKey, str], set[GatewayKey]], Engine],
    calibration: Calibration | None = None,
    model: VenueModel | None = None,
) -> Score:
    """Replay the recording through Ingest with one engine; greet once per reservation; score it.

    With a `calibration` (of a walk in the same venue and radio), the engine's venue model
    carries its sigma, as a calibrated venue's does in the service. `model`: the plan the engine
    is given, when it is not the one the simulator's layout implies (a venue as registered).
    """
    layout = evening.layout
    roles: dict[GatewayKey, str] = {(layout.venue, g.name): g.role for g in layout.gateways}
    _models.clear()
    model = presence_model(layout) if model is None else model
    if calibration is not None:
        model = msgspec.structs.replace(model, sigma_db=calibration.sigma_db, gains=dict(calibration.gains))
    _models[layout.venue] = model
    doors = {k for k, r in roles.items() if r == "door"}
    tracked, rotating, reservation_of = registered(evening)
    clock = [0.0]
    resolver = EidResolver()
    for band in rotating:
        resolver.register(band, recording.batches[0][0] if recording.batches else 0.0)
    engine = make(roles, doors)
    ingest = Ingest(
        engine,  # type: ignore[arg-type]
        known_gateways={(layout.venue, g.name) for g in layout.gateways},
        tracked_bands=tracked,
        clock=lambda: clock[0],
        resolver=resolver,  # the per-gateway budget counts on this clock too: the evening's time
    )
    topic = {g.name: wire.sightings_topic(layout.venue, g.name) for g in layout.gateways}
    greeted: dict[str, float] = {}
    approaching: list[tuple[str, float]] = []  # (band, when), booked bands only
    last_refresh = 0.0
    for at, gateway, payload in recording.batches:
        clock[0] = at
        if at - last_refresh >= 1.0:
            resolver.refresh(at)
            last_refresh = at
        for event in ingest.handle(topic[gateway], payload):
            if event.kind == "approaching" and event.band in reservation_of:
                approaching.append((event.band, event.at - evening.air.epoch))
            if event.kind != "arrived":
                continue
            key = reservation_of.get(event.band)
            if key is not None and key not in greeted:
                greeted[key] = event.at - evening.air.epoch

    s = Score(
        engine=name, greets=len(greeted), parties=len(evening.parties), passers=len(evening.known_passers)
    )
    crossing = {p.key: p.first_crossing for p in evening.parties}
    passer_keys = {p.party for p in evening.known_passers}
    waiter_keys = {p.party for p in evening.people if p.kind == "waiter" and p.party is not None}
    s.waiters = len(waiter_keys)
    _score_approaching(s, evening, approaching, reservation_of, crossing)
    for key, g in greeted.items():
        c = crossing.get(key)
        if c is not None and g >= c - EARLY_GRACE_S:
            s.correct += 1
            s.latencies.append(g - c)
            if g <= c + RECALL_WITHIN_S:
                s.recalled += 1
        elif c is not None:
            s.premature += 1
        else:
            s.wrong_guest += 1
            if key in passer_keys:
                s.passer_greets += 1
            if key in waiter_keys:
                s.waiter_greets += 1
    return s


def _score_approaching(
    s: Score,
    evening: Evening,
    approaching: list[tuple[str, float]],
    reservation_of: dict[str, str],
    crossing: dict[str, float | None],
) -> None:
    """How many "approaching" events came true, and how many parties were announced in time."""
    ahead: set[str] = set()
    for band, at in approaching:
        s.announced += 1
        wearer = evening.bands.get(band)
        crossed = wearer.door_crossing if wearer is not None else None
        if crossed is not None and at <= crossed <= at + APPROACH_WITHIN_S:
            s.announced_right += 1
        key = reservation_of[band]
        first = crossing.get(key)
        if first is not None and first - APPROACH_WITHIN_S <= at <= first - APPROACH_LEAD_S:
            ahead.add(key)
    s.announced_ahead = len(ahead)


_models: dict[str, VenueModel] = {}
ENGINES: dict[str, Callable[[dict[GatewayKey, str], set[GatewayKey]], Engine]] = {}


def _register_engines() -> None:
    from maitre.evaluation.baselines import FixedDistance, NearestGateway

    ENGINES["maitre"] = lambda roles, doors: PresenceEngine(roles, models=_models)
    ENGINES["nearest-gateway"] = lambda roles, doors: NearestGateway(doors)
    ENGINES["fixed-distance"] = lambda roles, doors: FixedDistance(doors)


_register_engines()


def with_seed_offset(scenario: Scenario, offset: int) -> Scenario:
    """The same scenario on another evening: tune on these, publish on the shipped seeds."""
    return msgspec.structs.replace(scenario, seed=scenario.seed + offset) if offset else scenario


def with_layout(scenario: Scenario, layout: str | None) -> Scenario:
    """The same evening in another layout (another gateway placement, say)."""
    if layout is None:
        return scenario
    named_layout(layout)  # unknown names fail here, before anything is simulated
    return msgspec.structs.replace(scenario, layout=layout)


def calibrate(scenario: Scenario, interval: float = BATCH_INTERVAL) -> Calibration:
    """Walk the calibration route in the scenario's venue and radio (its own seed), the gateways
    sending every `interval` seconds; fit the venue."""
    from maitre.sim import calibration

    walk = calibration.evening(scenario)
    person = walk.people[0]
    band, epoch = person.band.advertiser_id, walk.air.epoch
    sightings = [
        (gateway, s)
        for _, gateway, payload in record(walk, interval=interval).batches
        for s in wire.decode_batch(payload).sightings
        if s.id == band
    ]
    return fit(presence_model(walk.layout), lambda t: person.position(t - epoch), sightings)


def evaluate(
    scenario: Scenario,
    progress: Callable[[str], None] | None = None,
    calibrated: bool = False,
    layout: Layout | None = None,
) -> tuple[Recording, list[Score]]:
    """Simulate and record the scenario, and score every engine (Maître's calibrated, if asked);
    `layout`: a venue of its own instead of the scenario's named one."""
    if calibrated and layout is not None:
        raise ValueError("the calibration walk runs in named layouts only")
    evening = build(scenario, layout=layout)
    recording = record(evening, progress)
    calibration = calibrate(scenario) if calibrated else None
    if calibration is not None and progress is not None:
        progress(f"  calibration walk: {calibration.describe()}")
    return recording, [
        score(evening, recording, name, make, calibration if name == "maitre" else None)
        for name, make in ENGINES.items()
    ]


def format_table(rows: list[tuple[str, Score]]) -> str:
    head = (
        f"{'scenario':<22} {'engine':<16} {'greets':>6} {'precision':>9} {'recall≤3s':>9} "
        f"{'wrong-guest':>11} {'early':>5} {'passer FP':>12} {'p50 s':>6} {'p95 s':>6}"
    )
    lines = [head, "-" * len(head)]
    for scenario, s in rows:
        lines.append(
            f"{scenario:<22} {s.engine:<16} {s.greets:>6} {s.precision:>9.1%} {s.recall:>9.1%} "
            f"{s.wrong_guest:>11} {s.premature:>5} {s.passer_greets:>4}/{s.passers:<3} {s.passer_rate:>4.1%} "
            f"{s.latency(0.5):>6.2f} {s.latency(0.95):>6.2f}"
        )
    return "\n".join(lines)


def main(names: list[str], seed_offset: int = 0, layout: str | None = None, calibrated: bool = False) -> int:
    from maitre.sim.scenario import load_scenario

    rows: list[tuple[str, Score]] = []
    for name in names:
        scenario = with_layout(with_seed_offset(load_scenario(name), seed_offset), layout)
        print(
            f"{scenario.name}: {scenario.description} (seed {scenario.seed}, layout {scenario.layout})",
            file=sys.stderr,
        )
        recording, scores = evaluate(scenario, lambda m: print(m, file=sys.stderr), calibrated)
        print(
            f"  {recording.advertisements:,} advertisements → {len(recording.batches):,} batches "
            f"in {recording.seconds:.1f} s ({scenario.duration / recording.seconds:.0f}× real time)",
            file=sys.stderr,
        )
        rows += [(scenario.name, s) for s in scores]
    print(format_table(rows))
    return 0
