"""`maitre plan check`: what a venue's plan and gateways will do, predicted by playing evenings in it.

The service knows the plan as registered (walls, door, inside, host stand, gateways, their roles
and heights) but not the venue's radio. The check turns the plan so that the way in points up
the simulator's frame, plays short evenings in it under radios drawn as the venue family draws
them (path-loss exponent 1.8-3.2, shadowing 3-10 dB, loss, bodies, and gateway gains of ±6 dB that
the engine is not told), runs Maître's engine on the plan exactly as registered, and scores it
as `maitre eval` does. With advice, the same evenings are played again with one more gateway at
each of a few places an installer could hang one, and the places are ranked by what they gain.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import msgspec
import numpy as np

from maitre.evaluation.family import pooled
from maitre.evaluation.runner import ENGINES, Score, record, score
from maitre.floorplan import (
    BAND_HEIGHT_M,
    FloorPlanError,
    Rect,
    VenueModel,
    WallSpec,
    host_stand_depth,
    inward,
)
from maitre.presence.grid import crosses_wall
from maitre.sim.family import draw_radio
from maitre.sim.scenario import CrowdSpec, Scenario, build
from maitre.sim.venue import GatewayPlacement, Layout, Wall, Zone

DOOR_Y = 2.0  # the simulator's frame: the door at (0, DOOR_Y), inside towards +y, the street below
STREET_FROM_DOOR_M = 2.8  # where passers-by walk, metres out from the facade (they spread ±1.5 m)
EVENING_S = 360.0
PARTIES = 12
# Gains a calibrated venue still gets wrong, dB, against the ±6 dB of one nobody measured.
RESIDUAL_GAIN_DB = 1.5
UNMEASURED_GAIN_DB = 6.0
Role = Literal["door", "approach", "inside"]
TOO_CLOSE_M = 1.0  # a suggested place this near an existing gateway, on its side of the walls, adds little


@dataclass(frozen=True)
class Frame:
    """The turn and shift between the plan's metres and the simulator's frame."""

    quarter_turns: int  # counter-clockwise, applied after moving the door to the origin
    door: tuple[float, float]

    def to_sim(self, x: float, y: float) -> tuple[float, float]:
        x, y = x - self.door[0], y - self.door[1]
        for _ in range(self.quarter_turns):
            x, y = -y, x
        return x, y + DOOR_Y

    def to_plan(self, x: float, y: float) -> tuple[float, float]:
        y -= DOOR_Y
        for _ in range(self.quarter_turns):
            x, y = y, -x
        return round(x + self.door[0], 2), round(y + self.door[1], 2)

    def rect(self, r: Rect) -> Rect:
        ax, ay = self.to_sim(r[0], r[1])
        bx, by = self.to_sim(r[2], r[3])
        return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)


def frame_of(model: VenueModel) -> Frame:
    """The frame that points the plan's way in up (+y); FloorPlanError when the plan has none."""
    turns = {(0.0, 1.0): 0, (1.0, 0.0): 1, (0.0, -1.0): 2, (-1.0, 0.0): 3}
    return Frame(turns[inward(model)], model.door)


def in_sim_frame(model: VenueModel, frame: Frame) -> VenueModel:
    """The same plan in the simulator's frame: every place turned and shifted, nothing else changed."""
    walls = []
    for w in model.walls:
        x0, y0 = frame.to_sim(w.x0, w.y0)
        x1, y1 = frame.to_sim(w.x1, w.y1)
        walls.append(WallSpec(x0, y0, x1, y1, w.loss_db))
    return msgspec.structs.replace(
        model,
        gateways={n: frame.to_sim(x, y) for n, (x, y) in model.gateways.items()},
        walls=walls,
        inside=[frame.rect(r) for r in model.inside],
        door=(0.0, DOOR_Y),
        bounds=None if model.bounds is None else frame.rect(model.bounds),
        host_stand=None if model.host_stand is None else frame.to_sim(*model.host_stand),
    )


def sim_layout(model: VenueModel, roles: dict[str, str]) -> Layout:
    """A layout the simulator can play an evening in, from a plan already in its frame."""
    host = model.host_stand or (0.0, DOOR_Y + host_stand_depth(model))
    # Seated guests: 4 m past the host stand, kept inside the inside rectangle nearest to there.
    want = (host[0], host[1] + 4.0)
    best = min(model.inside, key=lambda r: math.dist(want, _clamp(want, r, 0.0)))
    tables = _clamp(want, best, 0.5)
    street_y = DOOR_Y - STREET_FROM_DOOR_M
    return Layout(
        venue="plan",
        door=(0.0, DOOR_Y),
        zones=[
            Zone("street", "street", -30.0, street_y - 2.0, 30.0, DOOR_Y - 0.8),
            *[Zone(f"inside-{k}", "dining", *r) for k, r in enumerate(model.inside)],
        ],
        gateways=[
            GatewayPlacement(n, x, y, _role(roles.get(n)), model.heights.get(n))
            for n, (x, y) in sorted(model.gateways.items())
        ],
        street_y=street_y,
        walls=[Wall(w.x0, w.y0, w.x1, w.y1, w.loss_db) for w in model.walls],
        host_stand=host,
        tables=tables,
    )


def _clamp(p: tuple[float, float], r: Rect, margin: float) -> tuple[float, float]:
    """The point of rectangle `r` (shrunk by `margin`) nearest to `p`."""
    return min(max(p[0], r[0] + margin), r[2] - margin), min(max(p[1], r[1] + margin), r[3] - margin)


def _role(role: str | None) -> Role:
    """A gateway's role as the simulator takes it; one the plan does not give counts as inside."""
    return "door" if role == "door" else "approach" if role == "approach" else "inside"


@dataclass(frozen=True)
class Place:
    """Somewhere one more gateway could hang."""

    name: str
    where: str
    x: float  # simulator frame
    y: float
    role: Role
    height: float


def candidate_places(model: VenueModel) -> list[Place]:
    """A few places installers can reach, in the simulator's frame, skipping any already taken."""
    host = model.host_stand or (0.0, DOOR_Y + host_stand_depth(model))
    street_y = DOOR_Y - STREET_FROM_DOOR_M
    places = [
        Place("lintel", "over the door, outside, on the lintel", 0.0, DOOR_Y - 0.1, "approach", 2.3),
        Place("stand", "on the host stand", host[0] + 0.4, host[1] + 0.4, "door", 1.1),
        Place("facade", "on the facade outside, 2 m beside the door", 2.0, DOOR_Y - 0.1, "approach", 2.5),
        Place("post", "across the sidewalk (a lamp post or awning)", 0.0, street_y - 1.5, "approach", 3.0),
        Place("ceiling", "on the ceiling, 3 m inside the door", 0.0, DOOR_Y + 3.0, "inside", 2.8),
    ]
    return [p for p in places if not any(_same_place(model, p, g) for g in model.gateways)]


def _same_place(model: VenueModel, place: Place, gateway: str) -> bool:
    """Within TOO_CLOSE_M of a gateway (heights too), with no wall between: taken."""
    gx, gy = model.gateways[gateway]
    lift = place.height - model.heights.get(gateway, BAND_HEIGHT_M)
    if math.hypot(place.x - gx, place.y - gy, lift) > TOO_CLOSE_M:
        return False
    xs, ys = np.array([place.x]), np.array([place.y])
    return not any(bool(crosses_wall(w.x0, w.y0, w.x1, w.y1, xs, ys, gx, gy)[0]) for w in model.walls)


def with_place(model: VenueModel, roles: dict[str, str], place: Place) -> tuple[VenueModel, dict[str, str]]:
    name = f"new-{place.name}"
    return (
        msgspec.structs.replace(
            model,
            gateways={**model.gateways, name: (place.x, place.y)},
            heights={**model.heights, name: place.height},
        ),
        {**roles, name: place.role},
    )


@dataclass
class Prediction:
    """What the evenings played in a plan scored, pooled."""

    score: Score
    evenings: int

    @property
    def p50(self) -> float:
        return statistics.median(self.score.latencies) if self.score.latencies else float("nan")


def predict(
    model: VenueModel,
    roles: dict[str, str],
    radios: int = 4,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
    evening_s: float = EVENING_S,
    advertising_s: float | None = None,
) -> Prediction:
    """Play `radios` evenings (one radio drawn each, the same for every plan given the same seed)."""
    layout = sim_layout(model, roles)
    gain = RESIDUAL_GAIN_DB if model.gains else UNMEASURED_GAIN_DB
    scores = []
    for k in range(radios):
        rng = random.Random(seed * 1_000 + k)
        radio = draw_radio(rng, [g.name for g in layout.gateways], ("gauss-markov", "spatial")[k % 2], gain)
        if model.gains:  # the venue knows its gains, up to what is left after calibration
            radio = msgspec.structs.replace(
                radio, gain_db={g: model.gains.get(g, 0.0) + e for g, e in radio.gain_db.items()}
            )
        scenario = Scenario(
            name=f"plan-{k}",
            seed=seed * 1_000 + k,
            duration=evening_s,
            advertising_interval=advertising_s or rng.choice((0.1, 0.25, 0.5, 1.0)),
            radio=radio,
            crowd=CrowdSpec(
                parties=PARTIES,
                max_party_size=4,
                passers_by_per_minute=8.0,
                known_passer_share=0.3,
                waiters_outside=3,
                known_waiter_share=0.6,
                party_waits_outside_share=0.1,
                staff=2,
            ),
        )
        evening = build(scenario, layout=layout)
        scores.append(score(evening, record(evening), "maitre", ENGINES["maitre"], model=model))
        if progress:
            kind, n = scenario.radio.kind, radio.exponent
            progress(f"  evening {k + 1}/{radios}: {kind} radio, path-loss exponent {n:.1f}")
    return Prediction(pooled(scores), radios)


@dataclass
class Advice:
    place: Place
    plan_xy: tuple[float, float]
    prediction: Prediction


@dataclass
class PlanReport:
    frame: Frame
    as_registered: Prediction
    advice: list[Advice]


def check(
    model: VenueModel,
    roles: dict[str, str],
    radios: int = 4,
    advise: bool = True,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
    evening_s: float = EVENING_S,
    advertising_s: float | None = None,
) -> PlanReport:
    """Predict the plan as registered and, with `advise`, with one more gateway at each candidate place."""
    frame = frame_of(model)
    sim_model = in_sim_frame(model, frame)
    if progress:
        progress("the plan as registered:")
    base = predict(sim_model, roles, radios, seed, progress, evening_s, advertising_s)
    advice = []
    for place in candidate_places(sim_model) if advise else []:
        if progress:
            progress(f"with one more gateway {place.where}:")
        m, r = with_place(sim_model, roles, place)
        predicted = predict(m, r, radios, seed, progress, evening_s, advertising_s)
        advice.append(Advice(place, frame.to_plan(place.x, place.y), predicted))
    advice.sort(key=lambda a: (-a.prediction.score.recall, a.prediction.p50))
    return PlanReport(frame, base, advice)


def _pct(x: float) -> str:
    return "-" if x != x else f"{x:.0%}"


def describe(p: Prediction) -> str:
    s = p.score
    return (
        f"{_pct(s.recall)} of parties greeted within 3 s of crossing (p50 {p.p50:.1f} s, "
        f"p95 {s.latency(0.95):.1f} s); wrong names {s.wrong_guest} "
        f"(booked passers-by {s.passer_greets}/{s.passers}, waiting outside {s.waiter_greets}/{s.waiters}); "
        f"greeted before the door {s.premature}; over {p.evenings} simulated evenings, {s.parties} parties"
    )


def format_report(slug: str, report: PlanReport) -> str:
    lines = [f"{slug}: as registered, predicted {describe(report.as_registered)}"]
    if report.advice:
        base = report.as_registered.score.recall
        lines.append("one more gateway, best first (plan metres; the same evenings):")
        for a in report.advice:
            s = a.prediction.score
            lines.append(
                f"  {a.place.where} at ({a.plan_xy[0]}, {a.plan_xy[1]}), {a.place.height} m up, role "
                f"{a.place.role}: {_pct(s.recall)} within 3 s ({(s.recall - base) * 100:+.0f} points), "
                f"p50 {a.prediction.p50:.1f} s, wrong names {s.wrong_guest}"
            )
    lines.append(
        "a prediction from simulated radios, not a measurement: the venue's own radio may be kinder or "
        "rougher (docs/operate/placement.md)"
    )
    return "\n".join(lines)


def _numbers(p: Prediction) -> dict[str, object]:
    s = p.score
    p95 = s.latency(0.95)
    return {
        "within_3s": round(s.recall, 3),
        "p50_s": None if p.p50 != p.p50 else round(p.p50, 2),
        "p95_s": None if p95 != p95 else round(p95, 2),
        "parties": s.parties,
        "wrong_names": s.wrong_guest,
        "passers_by_named": [s.passer_greets, s.passers],
        "waiting_outside_named": [s.waiter_greets, s.waiters],
        "greeted_before_the_door": s.premature,
        "evenings": p.evenings,
    }


def report_json(report: PlanReport) -> dict[str, object]:
    """The report as the API returns it: the plan as registered, and each extra place, best first."""
    return {
        "as_registered": _numbers(report.as_registered),
        "one_more_gateway": [
            {
                "where": a.place.where,
                "x": a.plan_xy[0],
                "y": a.plan_xy[1],
                "height": a.place.height,
                "role": a.place.role,
                **_numbers(a.prediction),
            }
            for a in report.advice
        ],
    }


def main(
    slug: str,
    model: VenueModel,
    roles: dict[str, str],
    radios: int = 4,
    advise: bool = True,
    advertising_s: float | None = None,
    as_json: bool = False,
    evening_s: float = EVENING_S,
) -> int:
    """Print the prediction (and advice); 2 when the plan cannot be simulated."""
    try:
        report = check(
            model,
            roles,
            radios,
            advise,
            progress=lambda m: print(m, file=sys.stderr),
            evening_s=evening_s,
            advertising_s=advertising_s,
        )
    except FloorPlanError as exc:
        print(f"maitre: {slug}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report_json(report)) if as_json else format_report(slug, report))
    return 0
