"""`maitre-gateway run`: clear refusals for bad arguments, and a simulated crowd flowing to a broker."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from maitre import wire
from maitre.gateway.cli import main
from maitre.mqtt import BrokerAddress
from tests.conftest import MqttRecorder, wait_until

GOOD = ["run", "--venue", "bistro", "--gateway", "door", "--mqtt-url", "mqtt://127.0.0.1:1"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (["--mqtt-url", "http://broker.local"], "--mqtt-url"),
        (["--mqtt-url", "mqtt://broker.local:99999"], "--mqtt-url"),
        (["--venue", "bistro/paris"], "--venue"),
        (["--gateway", "door+1"], "--gateway"),
        (["--interval", "0"], "--interval"),
        (["--interval", "61"], "--interval"),
        (["--telemetry-interval", "0.1"], "--telemetry-interval"),
        (["--ibeacon-uuid", "f7826da6"], "--ibeacon-uuid"),
        (["--eddystone-namespace", "edd1"], "--eddystone-namespace"),
        (["--spool-max", "0"], "--spool-max"),
        (["--watchdog", "0"], "--watchdog"),
        (["--watchdog", "nan"], "--watchdog"),
        (["--spool", "/proc/maitre/spool.sqlite3"], "--spool"),
        (["--simulate", "--gateway", "kitchen"], "--gateway"),
        (["--passive", "--active"], "not allowed with argument"),
        (["--mqtt-ca-file", "/etc/hostname"], "--mqtt-ca-file is for mqtts://"),
        (["--mqtt-url", "mqtts://127.0.0.1:1", "--mqtt-ca-file", "/nonexistent/ca.crt"], "--mqtt-ca-file"),
    ],
)
def test_a_bad_argument_is_refused_with_exit_2_naming_it(
    change: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*GOOD, *change])
    assert exited.value.code == 2
    assert named in capsys.readouterr().err


def test_without_a_broker_url_the_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MAITRE_MQTT_URL", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["run", "--venue", "bistro", "--gateway", "door"])
    assert exited.value.code == 2
    assert "--mqtt-url (or MAITRE_MQTT_URL) is required" in capsys.readouterr().err


async def test_simulate_sends_batches_and_telemetry_and_stops_cleanly_on_sigterm(
    broker: BrokerAddress, tmp_path: Path
) -> None:
    sightings = wire.sightings_topic("bistro", "street")
    telemetry = wire.telemetry_topic("bistro", "street")
    recorder = MqttRecorder(broker, sightings, telemetry)
    spool = tmp_path / "spool.sqlite3"
    await wait_until(lambda: recorder.subscribed, what="the recorder")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from maitre.gateway.cli import main; raise SystemExit(main())",
            *["run", "--simulate", "--venue", "bistro", "--gateway", "street"],
            *["--mqtt-url", f"mqtt://{broker.host}:{broker.port}", "--spool", str(spool)],
            *["--interval", "0.25", "--telemetry-interval", "1"],
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        await wait_until(
            lambda: len(recorder.payloads(sightings)) >= 3 and recorder.payloads(telemetry),
            timeout=20,
            what="batches and telemetry from the simulated gateway",
        )
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        recorder.close()
    assert proc.returncode == 0, output.decode()
    batches = [wire.decode_batch(p) for p in recorder.payloads(sightings)]
    assert [b.seq for b in batches] == list(range(len(batches)))
    assert all(s.id.startswith(("band:", "eid:")) for b in batches for s in b.sightings)
    assert wire.decode_telemetry(recorder.payloads(telemetry)[0]).scanning == "simulated"
    log = output.decode()
    assert "batch 0:" in log and "adv/s" in log  # progress a developer can watch
    left = sqlite3.connect(spool).execute("SELECT COUNT(*) FROM batches").fetchone()[0]
    assert left == 0  # a clean stop waits for the broker to take what was in flight
