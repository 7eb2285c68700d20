"""The production stack's files: docker-compose.yml validates, and the broker's logins and ACLs hold."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import tomllib
from pathlib import Path

import paho.mqtt.client as paho
import pytest
import yaml

from maitre.config import Settings
from maitre.mqtt import BrokerAddress, make_client
from tests.conftest import MOSQUITTO, MqttRecorder, free_port, missing, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SECRETS = ("POSTGRES_PASSWORD", "MQTT_SERVICE_PASSWORD", "MQTT_GATEWAY_PASSWORD", "MAITRE_SECRET_KEY")


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


def test_compose_file_validates_with_the_example_settings() -> None:
    result = compose_config(example_env())

    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert {"mosquitto", "postgres", "migrate", "maitre", "gateway-door"} <= set(resolved["services"])
    # The one-shot books the simulated gateways' guests, unless told not to.
    assert resolved["services"]["migrate"]["command"] == ["db", "upgrade", "--seed-demo", "bistro"]
    real_venue = yaml.safe_load(compose_config({**example_env(), "MAITRE_DEMO_VENUE": ""}).stdout)
    assert real_venue["services"]["migrate"]["command"] == ["db", "upgrade", "--seed-demo", ""]


def test_compose_refuses_to_run_without_the_secrets() -> None:
    env = {k: v for k, v in example_env().items() if k != "MQTT_SERVICE_PASSWORD"}

    result = compose_config(env)

    assert result.returncode != 0
    assert "MQTT_SERVICE_PASSWORD" in result.stdout + result.stderr


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


# -- the broker's configuration, on a real Mosquitto --------------------------------------------------


@pytest.fixture
def stack_broker(tmp_path: Path) -> BrokerAddress:
    """Mosquitto with the stack's ACL file and the password file its entrypoint would write."""
    if MOSQUITTO is None or shutil.which("mosquitto_passwd") is None:
        missing("mosquitto and mosquitto_passwd are needed to test the broker's ACLs")
    passwd = tmp_path / "passwd"
    passwd.touch(mode=0o600)
    for user, password in (("maitre-service", "svc-pw"), ("bistro", "gw-pw")):
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True)
    port = free_port()
    conf = (ROOT / "docker/mosquitto/mosquitto.conf").read_text()
    conf = conf.replace("listener 1883", f"listener {port} 127.0.0.1")
    conf = conf.replace("/mosquitto/data/passwd", str(passwd))
    conf = conf.replace("/mosquitto/config/acl", str(ROOT / "docker/mosquitto/acl"))
    conf = re.sub(r"persistence_location .*", f"persistence_location {tmp_path}/", conf)
    # Run as root (CI is), Mosquitto would drop to its own user, who cannot read a pytest temp dir.
    (tmp_path / "mosquitto.conf").write_text(conf + "user root\n")
    proc = subprocess.Popen(
        [str(MOSQUITTO), "-c", str(tmp_path / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    yield BrokerAddress(host="127.0.0.1", port=port)  # type: ignore[misc]
    proc.terminate()
    proc.wait(5)


def connect(address: BrokerAddress, user: str | None, password: str | None) -> tuple[paho.Client, str]:
    """Connect and return the client with the broker's answer."""
    client = make_client(
        BrokerAddress(address.host, address.port, username=user, password=password),
        client_id=f"acl-{user}-{time.monotonic_ns()}",
    )
    answers: list[str] = []
    client.on_connect = lambda c, u, f, reason, p: answers.append(str(reason))
    client.connect(address.host, address.port)
    client.loop_start()
    deadline = time.monotonic() + 5
    while not answers and time.monotonic() < deadline:
        time.sleep(0.02)
    return client, answers[0] if answers else "no answer"


def test_broker_refuses_anonymous_and_wrong_passwords(stack_broker: BrokerAddress) -> None:
    for user, password in ((None, None), ("bistro", "wrong")):
        client, answer = connect(stack_broker, user, password)
        client.loop_stop()
        assert answer != "Success", (user, answer)


def test_gateway_can_publish_for_its_own_venue_only(stack_broker: BrokerAddress) -> None:
    service = MqttRecorder(
        BrokerAddress(stack_broker.host, stack_broker.port, username="maitre-service", password="svc-pw"),
        "maitre/+/+/gw/+/+",
    )
    gateway, answer = connect(stack_broker, "bistro", "gw-pw")
    assert answer == "Success"
    deadline = time.monotonic() + 5
    while not service.subscribed and time.monotonic() < deadline:
        time.sleep(0.02)

    gateway.publish("maitre/v1/other-venue/gw/door/sightings", b"forged", qos=1).wait_for_publish(5)
    gateway.publish("maitre/v1/bistro/gw/door/sightings", b"ours", qos=1).wait_for_publish(5)
    deadline = time.monotonic() + 5
    while not service.payloads("maitre/v1/bistro/gw/door/sightings") and time.monotonic() < deadline:
        time.sleep(0.02)
    gateway.disconnect()
    gateway.loop_stop()
    service.close()

    assert service.payloads("maitre/v1/bistro/gw/door/sightings") == [b"ours"]
    assert service.payloads("maitre/v1/other-venue/gw/door/sightings") == []
