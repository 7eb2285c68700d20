"""`maitre plan check`: the plan turned into the simulator's frame, predicted, and advised on."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from maitre.cli import main
from maitre.evaluation.plan_check import (
    DOOR_Y,
    candidate_places,
    check,
    frame_of,
    in_sim_frame,
    sim_layout,
    with_place,
)
from maitre.floorplan import VenueModel, WallSpec, inward

EXAMPLE = Path(__file__).resolve().parent.parent / "docs/operate/plans/storefront-three-gateways.json"


def storefront() -> tuple[VenueModel, dict[str, str]]:
    """The storefront of docs/operate/plans: facade on y = 0, inside towards +y."""
    return (
        VenueModel(
            gateways={"door": (0.0, 0.6), "stand": (1.5, 3.0), "street": (0.0, -5.0)},
            walls=[WallSpec(-8, 0, -1, 0, 8.0), WallSpec(1, 0, 8, 0, 8.0), WallSpec(-8, 12, 8, 12, 12.0)],
            inside=[(-8.0, 0.0, 8.0, 12.0)],
            door=(0.0, 0.0),
            host_stand=(1.5, 3.0),
            heights={"street": 3.0},
        ),
        {"door": "door", "stand": "door", "street": "approach"},
    )


def turned(model: VenueModel, quarter_turns: int, shift: tuple[float, float]) -> VenueModel:
    """The same venue drawn in other coordinates: turned counter-clockwise and moved."""

    def p(x: float, y: float) -> tuple[float, float]:
        for _ in range(quarter_turns):
            x, y = -y, x
        return x + shift[0], y + shift[1]

    def r(rect: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        (ax, ay), (bx, by) = p(rect[0], rect[1]), p(rect[2], rect[3])
        return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)

    return msgspec.structs.replace(
        model,
        gateways={n: p(*xy) for n, xy in model.gateways.items()},
        walls=[WallSpec(*p(w.x0, w.y0), *p(w.x1, w.y1), w.loss_db) for w in model.walls],
        inside=[r(x) for x in model.inside],
        door=p(*model.door),
        host_stand=None if model.host_stand is None else p(*model.host_stand),
    )


@pytest.mark.parametrize("quarter_turns", [0, 1, 2, 3])
def test_any_plan_is_turned_so_the_way_in_points_up_and_turned_back_exactly(quarter_turns: int) -> None:
    model, _ = storefront()
    plan = turned(model, quarter_turns, (12.5, -3.0))
    frame = frame_of(plan)
    sim = in_sim_frame(plan, frame)
    assert inward(sim) == (0.0, 1.0)
    assert sim.door == (0.0, DOOR_Y)
    # Every place lands where the unturned plan's does, and comes back where it was.
    reference = in_sim_frame(model, frame_of(model))
    for name, xy in sim.gateways.items():
        assert xy == pytest.approx(reference.gateways[name])
        assert frame.to_plan(*xy) == pytest.approx(plan.gateways[name])
    assert sim.inside[0] == pytest.approx(reference.inside[0])


def test_the_simulated_venue_keeps_the_plan_its_roles_heights_and_host_stand() -> None:
    model, roles = storefront()
    sim = in_sim_frame(model, frame_of(model))
    layout = sim_layout(sim, roles)
    assert {(g.name, g.role, g.height) for g in layout.gateways} == {
        ("door", "door", None),
        ("stand", "door", None),
        ("street", "approach", 3.0),
    }
    assert layout.host_stand == pytest.approx((1.5, DOOR_Y + 3.0))
    assert layout.street_y < DOOR_Y  # passers-by walk outside, in front of the facade
    x0, _, x1, y1 = sim.inside[0]
    assert x0 < layout.tables[0] < x1 and layout.host_stand[1] < layout.tables[1] < y1


def test_places_already_taken_are_not_suggested_and_a_suggestion_adds_one_gateway() -> None:
    model, roles = storefront()
    sim = in_sim_frame(model, frame_of(model))
    names = {p.name for p in candidate_places(sim)}
    assert "stand" not in names  # a gateway already hangs on the host stand
    assert {"lintel", "facade", "ceiling"} <= names
    lintel = next(p for p in candidate_places(sim) if p.name == "lintel")
    more, more_roles = with_place(sim, roles, lintel)
    assert len(more.gateways) == 4 and more_roles["new-lintel"] == "approach"
    assert more.heights["new-lintel"] == lintel.height


def test_a_turned_plan_predicts_exactly_what_the_same_plan_unturned_does() -> None:
    """The prediction depends on the venue, not on the coordinates it was drawn in."""
    model, roles = storefront()
    one = check(model, roles, radios=1, advise=False, evening_s=150.0)
    other = check(turned(model, 1, (4.0, 7.0)), roles, radios=1, advise=False, evening_s=150.0)
    a, b = one.as_registered.score, other.as_registered.score
    assert a.parties == 12 and a.passers > 0
    counts = ("recalled", "greets", "wrong_guest", "premature", "passer_greets")
    assert [getattr(a, c) for c in counts] == [getattr(b, c) for c in counts]
    assert a.latencies == pytest.approx(b.latencies, abs=1e-6)


def test_plan_check_refuses_what_it_cannot_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text(json.dumps({"layout": {"inside": [], "door": [0, 0]}, "gateways": []}))
    assert main(["plan", "check", "--file", str(bad)]) == 2
    assert "cannot read the plan" in capsys.readouterr().err
    assert main(["plan", "check", "cafe", "--file", str(EXAMPLE)]) == 2
    assert "not both" in capsys.readouterr().err
    no_door_side = json.loads(EXAMPLE.read_text())
    no_door_side["layout"]["inside"] = [[-8, 5, 8, 12]]  # the door is not on the inside's edge
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(no_door_side))
    assert main(["plan", "check", "--file", str(odd), "--no-advice", "--radios", "1"]) == 2
    assert "which side of the door" in capsys.readouterr().err


def test_plan_check_names_a_venue_missing_from_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAITRE_DATABASE_URL", f"sqlite:///{tmp_path / 'maitre.db'}")
    assert main(["db", "upgrade"]) == 0
    assert main(["plan", "check", "nowhere"]) == 2
    assert "no venue 'nowhere'" in capsys.readouterr().err
