"""`maitre eval`: a simulated evening through the real pipeline, scored against ground truth."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from maitre.cli import main
from maitre.evaluation.runner import evaluate, with_seed_offset
from maitre.sim.scenario import (
    CrowdSpec,
    GatewayFault,
    RadioSpec,
    Scenario,
    ScenarioError,
    build,
    load_scenario,
)

# Short and quiet enough for CI; deterministic, since every random draw comes from the seed.
SHORT = Scenario(
    name="short",
    seed=7,
    duration=240,
    radio=RadioSpec(shadowing_db=3.0, fading_db=2.0, loss=0.05),
    crowd=CrowdSpec(parties=6, passers_by_per_minute=6, known_passer_share=0.5, waiters_outside=1, staff=1),
)


def test_engine_greets_every_party_once_and_no_passer_by() -> None:
    recording, scores = evaluate(SHORT)
    by = {s.engine: s for s in scores}
    ours = by["maitre"]
    assert recording.batches
    assert ours.parties == 6
    assert ours.correct == 6 and ours.wrong_guest == 0 and ours.passer_greets == 0
    assert ours.recall == 1.0
    # The baselines, on the very same batches, greet people walking past.
    assert by["nearest-gateway"].wrong_guest > 0
    assert by["fixed-distance"].precision < ours.precision


def test_shipped_scenarios_load() -> None:
    for name in ("easy", "medium", "hard-shadowing", "crowded-door", "slow-advertising", "gateway-dies"):
        assert load_scenario(name).name == name
    for name in ("lintel-dies", "hard-lintel-dies"):
        lintel_dies = load_scenario(name)
        assert lintel_dies.layout == "bistro-lintel"
        assert [f.gateway for f in lintel_dies.faults] == ["lintel"]


def test_a_fault_on_a_gateway_the_layout_lacks_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = msgspec.structs.replace(
        load_scenario("gateway-dies"), faults=[GatewayFault(gateway="lintel", dies_at=300.0)]
    )  # the five-gateway bistro has no gateway over the door
    with pytest.raises(ScenarioError, match=r"'lintel'.*layout 'bistro' has"):
        build(scenario)
    path = tmp_path / "typo.json"
    path.write_bytes(msgspec.json.encode(scenario))
    assert main(["eval", str(path)]) == 2
    assert "a fault names gateway 'lintel'" in capsys.readouterr().err


def test_unknown_scenario_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "no-such-evening"]) == 2
    err = capsys.readouterr().err
    assert "no scenario 'no-such-evening'" in err and "hard-shadowing" in err


def test_seed_offset_gives_another_evening_of_the_same_scenario() -> None:
    shipped = load_scenario("hard-shadowing")
    other = with_seed_offset(shipped, 1000)
    assert other.seed == shipped.seed + 1000
    assert (other.radio, other.crowd, other.duration) == (shipped.radio, shipped.crowd, shipped.duration)
    assert with_seed_offset(shipped, 0) == shipped
