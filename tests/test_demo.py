"""`maitre demo`, the README's first command: a fresh venue, calibrated, greets its first guest by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port


def test_the_demo_calibrates_its_venue_and_greets_the_first_guest(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAITRE_")}
    env |= {"MAITRE_HTTP_PORT": str(free_port()), "MAITRE_EMBEDDED_MQTT_PORT": str(free_port())}
    run = subprocess.run(
        [sys.executable, "-m", "maitre.cli", "demo", "--duration", "25"],
        cwd=tmp_path,  # its own maitre-demo.db, made fresh
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout
    assert "calibration walk (simulated): " in out and "from 5 gateways" in out
    sigma = float(out.split("→ sigma ")[1].split(" dB")[0])
    assert 4.0 <= sigma < 6.0  # the demo's radio has 3 dB of shadowing: calmer than the 8 dB default
    assert "Welcome, Sarah — party of 2" in out  # sets off 4 s in, at the stand ~15 s in
    assert "Lars" not in out.split("Ctrl-C to stop.")[1]  # never agreed to be recognised
    assert (tmp_path / "maitre-demo.db").exists()
    # Its own signing key beside its database, for its owner only, and no warning of a random one.
    assert (tmp_path / "maitre-demo.secret").stat().st_mode & 0o077 == 0
    assert "MAITRE_SECRET_KEY is not set" not in run.stderr
