"""Per-gateway MQTT credentials: a real Mosquitto lets each gateway publish as itself and nothing more."""

from __future__ import annotations

import base64
import getpass
import hashlib
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest

from maitre import cli, wire
from maitre.mqtt import BrokerAddress, make_client
from maitre.security.credentials import SERVICE_USER, env_file, gateway_username, mosquitto_hash
from tests.conftest import MOSQUITTO, free_port, wait_for_port


class Peer:
    """A connected MQTT client that records what it receives and how its subscriptions were answered."""

    def __init__(self, url: str) -> None:
        self.address = BrokerAddress.parse(url)
        self.connected = threading.Event()
        self.refused: object = None
        self.granted: list[int] = []
        self.received: list[str] = []
        self.client = make_client(self.address, client_id=f"peer-{time.monotonic_ns()}")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda c, u, msg: self.received.append(msg.topic)
        self.client.connect(self.address.host, self.address.port, keepalive=15)
        self.client.loop_start()

    def wait_connect(self) -> bool:
        deadline = time.monotonic() + 5
        while not self.connected.is_set() and self.refused is None:
            assert time.monotonic() < deadline, "no CONNACK"
            time.sleep(0.01)
        return self.connected.is_set()

    def subscribe(self, topic: str) -> int:
        """The granted QoS, once the broker has answered."""
        before = len(self.granted)
        self.client.subscribe(topic, 1)
        deadline = time.monotonic() + 5
        while len(self.granted) == before:
            assert time.monotonic() < deadline, "no SUBACK"
            time.sleep(0.01)
        return self.granted[-1]

    def publish(self, topic: str) -> None:
        self.client.publish(topic, b"{}", qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: Any, userdata: object, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self.refused = reason
        else:
            self.connected.set()

    def _on_subscribe(self, client: Any, userdata: object, mid: int, reasons: Any, properties: Any) -> None:
        self.granted.append(reasons[0].value)


def url_in(path: Path) -> str:
    line = path.read_text().strip()
    assert line.startswith("MAITRE_MQTT_URL=")
    return line.removeprefix("MAITRE_MQTT_URL=")


def test_hash_is_what_mosquitto_passwd_writes() -> None:
    salt = bytes(range(12))
    ours = mosquitto_hash("s3cret", rounds=101, salt=salt)
    key = base64.b64encode(hashlib.pbkdf2_hmac("sha512", b"s3cret", salt, 101)).decode()
    assert ours == f"$7$101${base64.b64encode(salt).decode()}${key}"


@pytest.fixture
def secured_broker(tmp_path: Path) -> Any:
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed")
    port = free_port()
    out = tmp_path / "creds"
    args = ["gateways", "credentials", "--venue", "bistro", "--out", str(out)]
    args += ["--gateway", "door", "--gateway", "street", "--broker", f"mqtt://127.0.0.1:{port}"]
    assert cli.main(args) == 0
    conf = tmp_path / "mosquitto.conf"
    # Started as root, Mosquitto becomes user "mosquitto", who may not read files only we may read.
    run_as = f"user {getpass.getuser()}\n" if os.geteuid() == 0 else ""
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npersistence false\n{run_as}"
        f"password_file {out / 'passwd'}\nacl_file {out / 'acl'}\n"
    )
    proc = subprocess.Popen([str(MOSQUITTO), "-c", str(conf)], stderr=subprocess.PIPE)
    try:
        wait_for_port(port)
        yield out, port
    finally:
        proc.terminate()
        proc.wait(5)


def test_each_gateway_publishes_only_its_own_topics_and_reads_only_its_own_config(
    secured_broker: tuple[Path, int],
) -> None:
    out, _ = secured_broker
    assert {p.name for p in out.iterdir()} == {
        "passwd",
        "acl",
        env_file(None),
        env_file("door"),
        env_file("street"),
    }
    assert all(p.stat().st_mode & 0o077 == 0 for p in out.iterdir())  # secrets: owner only
    passwd = (out / "passwd").read_text()
    assert f"{gateway_username('bistro', 'door')}:$7$" in passwd and f"{SERVICE_USER}:$7$" in passwd

    service, door = Peer(url_in(out / env_file(None))), Peer(url_in(out / env_file("door")))
    try:
        assert service.wait_connect() and door.wait_connect()
        assert service.subscribe("maitre/+/bistro/gw/+/+") == 1
        for gateway in ("door", "street"):
            service.client.publish(
                wire.config_topic("bistro", gateway), b"{}", qos=1, retain=True
            ).wait_for_publish(5)
        # Mosquitto answers every SUBACK; what it will not let a client read, it never delivers.
        for topic in (wire.config_topic("bistro", "street"), "maitre/#", wire.config_topic("bistro", "door")):
            door.subscribe(topic)
        door.publish(wire.sightings_topic("bistro", "street"))  # posing as another gateway
        door.publish(wire.sightings_topic("annex", "door"))  # or at another venue
        door.publish(wire.config_topic("bistro", "street"))  # or writing another's config
        door.publish(wire.sightings_topic("bistro", "door"))
        deadline = time.monotonic() + 5
        while not (service.received and door.received) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # room for anything the broker wrongly let through to arrive too
        sightings = [t for t in service.received if t.endswith("/sightings")]
        assert sightings == [wire.sightings_topic("bistro", "door")]
        assert service.received.count(wire.config_topic("bistro", "street")) == 1  # its own, not door's
        assert set(door.received) == {wire.config_topic("bistro", "door")}  # via maitre/# too
    finally:
        service.close()
        door.close()


def test_wrong_or_missing_credentials_cannot_connect(secured_broker: tuple[Path, int]) -> None:
    out, port = secured_broker
    door_url = url_in(out / env_file("door"))
    user = gateway_username("bistro", "door")
    wrong = door_url.replace(door_url.split("@")[0], f"mqtt://{user}:not-the-password")
    for url in (wrong, f"mqtt://127.0.0.1:{port}"):
        peer = Peer(url)
        try:
            assert not peer.wait_connect()
            assert peer.refused is not None and peer.refused != paho.MQTT_ERR_SUCCESS
        finally:
            peer.close()


def test_credentials_are_not_overwritten_by_accident(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["gateways", "credentials", "--venue", "bistro", "--out", str(tmp_path), "--gateway", "door"]
    assert cli.main(args) == 0
    first = (tmp_path / "passwd").read_text()
    assert cli.main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "passwd").read_text() == first
    assert cli.main([*args, "--force"]) == 0
    assert (tmp_path / "passwd").read_text() != first
    assert cli.main(["gateways", "credentials", "--venue", "a/b", "--out", str(tmp_path / "x")]) == 2
