"""bench/presence_tune.py: variants spelled field by field reach the engine's config as typed values."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).parent.parent / "bench" / "presence_tune.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("presence_tune", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_variant_spelled_field_by_field_overrides_its_named_base() -> None:
    tune = _bench()
    overrides = tune.overrides_of("cal+0.5:door_agree_llr=none:door_test=False:track_hold=1")
    assert overrides == {
        "calibration_margin_db": 0.5,
        "door_agree_llr": None,
        "door_test": False,
        "track_hold": 1.0,
    }
    assert tune.overrides_of("defaults") == {}


def test_an_unknown_setting_is_refused_before_anything_is_simulated() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--variants", "cal+0.5:door_agree=1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown settings: ['door_agree']" in done.stderr
