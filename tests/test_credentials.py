"""Per-gateway MQTT credentials: a real Mosquitto lets each gateway publish as itself and nothing more."""

from __future__ import annotations

import base64
import dataclasses
import getpass
import hashlib
import os
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest

from maitre import cli, wire
from maitre.mqtt import BrokerAddress, make_client
from maitre.security.broker_config import gateway_connections
from maitre.security.credentials import (
    BROKER_SUBDIR,
    HEALTH_USER,
    SERVICE_USER,
    env_file,
    gateway_username,
    mosquitto_hash,
)
from tests.conftest import MOSQUITTO, free_port, missing, wait_for_port


class Peer:
    """A connected MQTT client that records what it receives and how its subscriptions were answered."""

    def __init__(self, url: str, ca_file: Path | None = None, port: int | None = None) -> None:
        self.address = dataclasses.replace(
            BrokerAddress.parse(url), ca_file=str(ca_file) if ca_file else None
        )
        self.connected = threading.Event()
        self.refused: object = None
        self.granted: list[int] = []
        self.received: list[str] = []
        self.client = make_client(self.address, client_id=f"peer-{time.monotonic_ns()}")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda c, u, msg: self.received.append(msg.topic)
        self.client.connect(self.address.host, port or self.address.port, keepalive=15)
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


def run_broker(out: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    """Mosquitto on the configuration `maitre gateways credentials` wrote, included as a broker would."""
    if MOSQUITTO is None:
        missing("mosquitto is not installed")
    conf = tmp_path / "mosquitto.conf"
    # Started as root, Mosquitto becomes user "mosquitto", who may not read files only we may read.
    run_as = f"user {getpass.getuser()}\n" if os.geteuid() == 0 else ""
    conf.write_text(f"persistence false\n{run_as}include_dir {out / BROKER_SUBDIR}\n")
    return subprocess.Popen([str(MOSQUITTO), "-c", str(conf)], stderr=subprocess.DEVNULL)


def write_credentials(out: Path, broker: str, service_port: int, *more: str) -> None:
    args = ["gateways", "credentials", "--venue", "bistro", "--out", str(out), "--gateway", "door"]
    args += ["--gateway", "street", "--broker", broker, "--service-port", str(service_port)]
    assert cli.main([*args, "--broker-dir", str(out / BROKER_SUBDIR), *more]) == 0


@pytest.fixture
def secured_broker(tmp_path: Path) -> Any:
    port, service_port = free_port(), free_port()
    out = tmp_path / "creds"
    write_credentials(out, f"mqtt://127.0.0.1:{port}", service_port)
    proc = run_broker(out, tmp_path)
    try:
        wait_for_port(port)
        wait_for_port(service_port)
        yield out, port
    finally:
        proc.terminate()
        proc.wait(5)


@pytest.mark.e2e  # secured_broker starts Mosquitto (through run_broker)
def test_each_gateway_publishes_only_its_own_topics_and_reads_only_its_own_config(
    secured_broker: tuple[Path, int],
) -> None:
    out, _ = secured_broker
    assert {p.name for p in out.iterdir()} == {
        BROKER_SUBDIR,
        env_file(None),
        env_file("door"),
        env_file("street"),
    }
    broker_files = {p.name for p in (out / BROKER_SUBDIR).iterdir()}
    assert broker_files == {"maitre.conf", "passwd", "service.passwd", "acl", "health.password"}
    everything = [*out.iterdir(), *(out / BROKER_SUBDIR).iterdir()]
    assert all(p.stat().st_mode & 0o077 == 0 for p in everything)  # secrets: owner only
    passwd = (out / BROKER_SUBDIR / "passwd").read_text()
    assert f"{gateway_username('bistro', 'door')}:$7$" in passwd and f"{HEALTH_USER}:$7$" in passwd
    # The service's login opens only its own listener; no gateway's opens that one.
    assert f"{SERVICE_USER}:" not in passwd
    assert (out / BROKER_SUBDIR / "service.passwd").read_text().startswith(f"{SERVICE_USER}:$7$")

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


@pytest.mark.e2e  # secured_broker starts Mosquitto (through run_broker)
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
    passwd = tmp_path / BROKER_SUBDIR / "passwd"
    first, ca = passwd.read_text(), (tmp_path / "ca.crt").read_text()
    assert cli.main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert passwd.read_text() == first
    assert cli.main([*args, "--force"]) == 0
    assert passwd.read_text() != first
    assert (tmp_path / "ca.crt").read_text() == ca  # the gateways' copies of the CA stay good
    assert cli.main(["gateways", "credentials", "--venue", "a/b", "--out", str(tmp_path / "x")]) == 2


def test_tls_by_default_gateways_trust_the_broker_through_the_private_ca_only(tmp_path: Path) -> None:
    port, service_port = free_port(), free_port()
    out = tmp_path / "creds"
    write_credentials(out, f"mqtts://127.0.0.1:{port}", service_port)
    assert (out / "ca.crt").stat().st_mode & 0o777 == 0o644  # every client needs it
    assert (out / "ca.key").stat().st_mode & 0o077 == 0  # never leaves this folder
    assert not (out / BROKER_SUBDIR / "ca.key").exists()
    assert url_in(out / env_file("door")).startswith("mqtts://")
    proc = run_broker(out, tmp_path)
    peers: list[Peer] = []
    try:
        wait_for_port(port)
        door = Peer(url_in(out / env_file("door")), ca_file=out / "ca.crt")
        peers.append(door)
        assert door.wait_connect()
        with pytest.raises(ssl.SSLError):  # the system's CAs do not vouch for a private broker
            Peer(url_in(out / env_file("door")))
        # A gateway's login does not open the service's listener.
        intruder = Peer(url_in(out / env_file("door")), ca_file=out / "ca.crt", port=service_port)
        peers.append(intruder)
        assert not intruder.wait_connect()
        # The health check's login reads the broker's uptime, and no venue's topics.
        password = (out / BROKER_SUBDIR / "health.password").read_text().strip()
        health = Peer(f"mqtts://{HEALTH_USER}:{password}@127.0.0.1:{port}", ca_file=out / "ca.crt")
        peers.append(health)
        assert health.wait_connect()
        health.subscribe("$SYS/broker/uptime")
        health.subscribe("maitre/#")
        door.publish(wire.sightings_topic("bistro", "door"))
        deadline = time.monotonic() + 15  # Mosquitto publishes $SYS every 10 s (and on subscribe)
        while not health.received and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        assert set(health.received) == {"$SYS/broker/uptime"}
    finally:
        for peer in peers:
            peer.close()
        proc.terminate()
        proc.wait(5)


def closed(sock: socket.socket) -> bool:
    """Whether the broker closed this connection (without it having sent anything)."""
    sock.settimeout(0.05)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False


def test_the_gateways_listener_holds_a_bounded_number_of_connections(tmp_path: Path) -> None:
    port, service_port = free_port(), free_port()
    out = tmp_path / "creds"
    write_credentials(out, f"mqtt://127.0.0.1:{port}", service_port)  # two gateways
    proc = run_broker(out, tmp_path)
    held: list[socket.socket] = []
    try:
        wait_for_port(port)
        time.sleep(0.3)  # wait_for_port's probe is gone
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(gateway_connections(2) + 20)]
        time.sleep(0.5)
        refused = sum(closed(s) for s in held)  # accepted and closed at once
        # The excess is refused, give or take a slot Mosquitto frees on a later turn of its loop.
        assert gateway_connections(2) <= len(held) - refused <= gateway_connections(2) + 2
        for s in held:
            s.close()
        held = []
        door = Peer(url_in(out / env_file("door")))  # the room is back as soon as they go
        try:
            assert door.wait_connect()
        finally:
            door.close()
    finally:
        for s in held:
            s.close()
        proc.terminate()
        proc.wait(5)


def test_a_gateway_that_cannot_reach_a_tls_broker_says_which_file_to_check(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from maitre.gateway.spool import Spool
    from maitre.gateway.uplink import Uplink

    address = BrokerAddress.parse(f"mqtts://gw.bistro.door:pw@127.0.0.1:{free_port()}")  # nobody there
    uplink = Uplink("bistro", "door", address, Spool(), lambda: b"{}", lambda payload: None)
    with caplog.at_level("WARNING", logger="maitre.gateway"):
        uplink.start()
        deadline = time.monotonic() + 5
        while "cannot connect" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        uplink.stop(b"{}", drain_timeout=0)

    assert f"cannot connect to {address.url()}, retrying; is MAITRE_MQTT_CA_FILE" in caplog.text


def test_one_broker_for_several_venues_keeps_each_gateway_to_its_own_venue(tmp_path: Path) -> None:
    port, service_port = free_port(), free_port()
    out = tmp_path / "creds"
    args = ["gateways", "credentials", "--venue", "bistro", "--venue", "cafe", "--out", str(out)]
    args += ["--broker", f"mqtt://127.0.0.1:{port}", "--service-port", str(service_port)]
    args += ["--broker-dir", str(out / BROKER_SUBDIR)]
    assert cli.main([*args, "--gateway", "door"]) == 2  # whose door?
    assert cli.main([*args, "--gateway", "bistro/door", "--gateway", "cafe/door"]) == 0
    proc = run_broker(out, tmp_path)
    peers: list[Peer] = []
    try:
        wait_for_port(port)
        wait_for_port(service_port)
        service = Peer(url_in(out / env_file(None)))
        cafe_door = Peer(url_in(out / env_file("door", "cafe")))
        peers += [service, cafe_door]
        assert service.wait_connect() and cafe_door.wait_connect()
        service.subscribe("maitre/+/+/gw/+/sightings")
        cafe_door.publish(wire.sightings_topic("bistro", "door"))  # the other venue's door
        cafe_door.publish(wire.sightings_topic("cafe", "door"))
        deadline = time.monotonic() + 5
        while not service.received and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        assert service.received == [wire.sightings_topic("cafe", "door")]
    finally:
        for peer in peers:
            peer.close()
        proc.terminate()
        proc.wait(5)
