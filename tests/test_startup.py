"""`maitre serve` with settings that point nowhere: a message naming the setting, and a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from maitre.db import make_engine, upgrade_schema
from tests.conftest import MOSQUITTO, MosquittoProcess, free_port, missing

# Imports, the database and one broker round trip: well under this even on a loaded machine.
START_LIMIT_SECONDS = 60
SECRET = "startup-test-secret-0123456789abcdef"


def serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `maitre serve` until it exits; one that starts anyway is killed, and the test fails."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("MAITRE_")}
    full |= {
        "MAITRE_HTTP_PORT": str(free_port()),
        "MAITRE_EMBEDDED_MQTT_PORT": str(free_port()),
        "MAITRE_SECRET_KEY": SECRET,
    } | env
    return subprocess.run(
        [sys.executable, "-m", "maitre.cli", "serve"],
        env=full,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=START_LIMIT_SECONDS,
    )


def migrated_sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'venue.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    engine.dispose()
    return url


def test_unreachable_database_stops_the_start_naming_the_setting(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://maitre:secret@127.0.0.1:{free_port()}/maitre"

    result = serve(tmp_path, MAITRE_DATABASE_URL=url)

    assert result.returncode == 1
    assert "MAITRE_DATABASE_URL" in result.stderr
    assert "Connection refused" in result.stderr
    assert "secret" not in result.stderr  # the password is never printed


def test_database_url_that_is_not_a_url_stops_the_start(tmp_path: Path) -> None:
    result = serve(tmp_path, MAITRE_DATABASE_URL="localhost:5432/maitre")

    assert result.returncode == 1
    assert "MAITRE_DATABASE_URL 'localhost:5432/maitre' is not a database URL" in result.stderr


def test_empty_database_stops_the_start_naming_the_upgrade_command(tmp_path: Path) -> None:
    result = serve(tmp_path, MAITRE_DATABASE_URL=f"sqlite:///{tmp_path / 'new.db'}")

    assert result.returncode == 1
    assert "run `maitre db upgrade`" in result.stderr


def test_mqtt_url_with_a_wrong_scheme_stops_the_start(tmp_path: Path) -> None:
    result = serve(
        tmp_path, MAITRE_DATABASE_URL=migrated_sqlite(tmp_path), MAITRE_MQTT_URL="http://broker:1883"
    )

    assert result.returncode == 1
    assert "MAITRE_MQTT_URL" in result.stderr
    assert "scheme must be mqtt:// or mqtts://" in result.stderr


def test_unreachable_broker_stops_the_start(tmp_path: Path) -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"

    result = serve(tmp_path, MAITRE_DATABASE_URL=migrated_sqlite(tmp_path), MAITRE_MQTT_URL=url)

    assert result.returncode == 1
    assert "MAITRE_MQTT_URL: cannot reach the broker" in result.stderr


def test_broker_refusing_the_credentials_stops_the_start(tmp_path: Path) -> None:
    if MOSQUITTO is None:
        missing("mosquitto is not installed")
    mosq = MosquittoProcess(tmp_path, anonymous=False)  # no password file: every login is refused
    mosq.start()
    try:
        url = f"mqtt://maitre:wrong@127.0.0.1:{mosq.port}"
        result = serve(tmp_path, MAITRE_DATABASE_URL=migrated_sqlite(tmp_path), MAITRE_MQTT_URL=url)
    finally:
        mosq.stop()

    assert result.returncode == 1
    assert "refused the connection" in result.stderr
    assert "MAITRE_MQTT_URL" in result.stderr


def test_serve_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAITRE_")}
    env |= {"MAITRE_DATABASE_URL": migrated_sqlite(tmp_path), "MAITRE_HTTP_PORT": str(free_port())}
    result = subprocess.run(
        [sys.executable, "-m", "maitre.cli", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=START_LIMIT_SECONDS,
    )
    assert result.returncode == 1
    assert "MAITRE_SECRET_KEY (or MAITRE_SECRET_KEY_FILE) is not set" in result.stderr


def test_serve_refuses_the_placeholder_secret_of_env_example(tmp_path: Path) -> None:
    example = (Path(__file__).parent.parent / ".env.example").read_text()
    placeholder = next(
        line.split("=", 1)[1] for line in example.splitlines() if line.startswith("MAITRE_SECRET_KEY=")
    )
    result = serve(tmp_path, MAITRE_DATABASE_URL=migrated_sqlite(tmp_path), MAITRE_SECRET_KEY=placeholder)
    assert result.returncode == 1
    assert "placeholder" in result.stderr


def test_serve_refuses_a_short_secret(tmp_path: Path) -> None:
    result = serve(
        tmp_path, MAITRE_DATABASE_URL=migrated_sqlite(tmp_path), MAITRE_SECRET_KEY="hunter2hunter2"
    )
    assert result.returncode == 1
    assert "shorter than 32 characters" in result.stderr
