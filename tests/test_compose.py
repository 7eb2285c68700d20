"""The production stack's files: docker-compose.yml validates and names only what exists.

The stack itself, started and attacked, is tests/test_compose_stack.py; the broker's logins and
ACL on a real Mosquitto, tests/test_credentials.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from maitre import cli
from maitre.config import Settings
from tests.compose_processes import compose_credentials_command, read_env_file
from tests.conftest import missing

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"


def compose_command() -> list[str]:
    """`docker compose` (the v2 plugin) where installed, else Debian's `docker-compose`."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        return [legacy]
    missing("neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)")
    raise AssertionError("unreachable")


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*compose_command(), "-f", str(COMPOSE_FILE), "config"],
        cwd=ROOT,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def example_env() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs if not k.startswith("#")}


@pytest.fixture(scope="module")
def broker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The broker's files, written as docker-compose.yml's header tells the operator to."""
    out = tmp_path_factory.mktemp("compose") / "broker"
    command = compose_credentials_command()
    assert command[-2:] == ["--out", "broker"]
    assert cli.main([*command[1:-1], str(out)]) == 0
    return out


@pytest.fixture
def env(broker_dir: Path) -> dict[str, str]:
    return {**example_env(), "MAITRE_BROKER_DIR": str(broker_dir)}


def test_compose_file_validates_with_the_example_settings(env: dict[str, str]) -> None:
    result = compose_config(env)

    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert {"mosquitto", "postgres", "migrate", "maitre", "gateway-door"} <= set(resolved["services"])
    # The one-shot books the simulated gateways' guests, unless told not to.
    assert resolved["services"]["migrate"]["command"] == ["db", "upgrade", "--seed-demo", "bistro"]
    real_venue = yaml.safe_load(compose_config({**env, "MAITRE_DEMO_VENUE": ""}).stdout)
    assert real_venue["services"]["migrate"]["command"] == ["db", "upgrade", "--seed-demo", ""]


def test_compose_refuses_to_run_without_the_secrets(env: dict[str, str]) -> None:
    result = compose_config({k: v for k, v in env.items() if k != "POSTGRES_PASSWORD"})

    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stdout + result.stderr


def test_compose_refuses_to_run_without_the_broker_files(env: dict[str, str], tmp_path: Path) -> None:
    result = compose_config({**env, "MAITRE_BROKER_DIR": str(tmp_path / "not-written")})

    assert result.returncode != 0
    assert "service.env" in result.stdout + result.stderr


def test_every_client_logs_in_with_its_own_generated_credentials(env: dict[str, str]) -> None:
    """No shared gateway password: each gateway's and the service's login comes from its own file."""
    services = yaml.safe_load(compose_config(env).stdout)["services"]
    written = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    text = COMPOSE_FILE.read_text() + ENV_EXAMPLE.read_text()

    assert "MQTT_GATEWAY_PASSWORD" not in text and "MQTT_SERVICE_PASSWORD" not in text
    for name, expected in (("maitre", "service.env"), ("gateway-door", "gateway-door.env")):
        assert "MAITRE_MQTT_URL" not in written[name]["environment"]  # only from its file
        url = read_env_file(Path(env["MAITRE_BROKER_DIR"]) / expected)["MAITRE_MQTT_URL"]
        assert url.startswith("mqtts://") and services[name]["environment"]["MAITRE_MQTT_URL"] == url


def test_long_running_services_have_health_checks_and_start_in_order() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]

    for name in ("mosquitto", "postgres", "maitre"):
        assert "test" in services[name]["healthcheck"], name
    assert services["maitre"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "mosquitto": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert services["migrate"]["command"][:2] == ["db", "upgrade"]


def test_service_environment_names_only_real_settings() -> None:
    """A misspelt MAITRE_ variable would be ignored silently: every one must be a setting."""
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    known = {f"MAITRE_{name.upper()}" for name in Settings.model_fields}

    for name in ("maitre", "migrate"):
        used = {k for k in services[name]["environment"] if k.startswith("MAITRE_")}
        assert used <= known, f"{name}: {used - known}"


def test_dockerfiles_install_extras_the_project_declares() -> None:
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])

    for dockerfile, wanted in (("service", {"service", "postgres"}), ("gateway", {"gateway"})):
        text = (ROOT / "docker" / f"{dockerfile}.Dockerfile").read_text()
        assert text.startswith("#") and "FROM python:3.11-slim" in text
        (installed,) = re.findall(r'pip install "\.\[([a-z,]+)\]"', text)
        assert set(installed.split(",")) == wanted
        assert wanted <= extras
