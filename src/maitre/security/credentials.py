"""MQTT credentials for venues' gateways: Mosquitto's password files and ACL, one secret per gateway.

Each gateway gets a user `gw.<venue>.<gateway>` (names cannot contain a dot, so this cannot
collide) allowed to publish only under its own topics and to read only its own config; the
venue service gets one user that reads the venue's gateway topics and writes their configs, and
the broker's health check one that reads `$SYS` only.
Mosquitto 2 reads the password file's `$7$` lines: PBKDF2-SHA512, as `mosquitto_passwd` writes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from maitre import wire
from maitre.security import broker_config as conf
from maitre.security.broker_tls import KeyPair, make_ca, make_server_cert

# Mosquitto's own default is 101 rounds. The passwords here are 32 random bytes, so stretching
# adds nothing against guessing; a modest count keeps a broker cheap to reconnect to after an outage.
PBKDF2_ROUNDS = 1000
SALT_BYTES = 12  # as mosquitto_passwd
PASSWORD_BYTES = 32
SERVICE_USER = "maitre-service"
HEALTH_USER = "maitre-health"
BROKER_SUBDIR = "mosquitto"  # what the broker reads; the rest of the output is for clients
CA_KEY = "ca.key"


@dataclass(frozen=True)
class Credential:
    username: str
    password: str
    gateway: str | None  # None for the venue service and the health check
    venue: str | None = None  # the gateway's


# Venue slug -> its gateways' names.
Gateways = Mapping[str, Sequence[str]]


def gateway_username(venue: str, gateway: str) -> str:
    return f"gw.{venue}.{gateway}"


def env_file(gateway: str | None, venue: str | None = None) -> str:
    """The file holding a gateway's (or, for None, the service's) MAITRE_MQTT_URL; the venue is
    named in it when one broker serves several."""
    if gateway is None:
        return "service.env"
    return f"gateway-{gateway}.env" if venue is None else f"gateway-{venue}-{gateway}.env"


def mosquitto_hash(password: str, rounds: int = PBKDF2_ROUNDS, salt: bytes | None = None) -> str:
    """A password-file hash Mosquitto 2 accepts: `$7$<rounds>$<salt>$<key>`, standard base64."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, rounds)
    return f"$7${rounds}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def issue(gateways: Gateways) -> list[Credential]:
    """Fresh random passwords for the service and each venue's gateways (names checked as topic levels)."""
    if not gateways:
        raise ValueError("no venue given")
    for venue, names in gateways.items():
        for name in (venue, *names):
            if not wire.is_valid_name(name):
                raise ValueError(f"invalid venue or gateway name {name!r}: use 1-64 of A-Z a-z 0-9 _ -")
        if len(set(names)) != len(names):
            raise ValueError(f"a gateway of {venue} is named twice")
    made = [
        Credential(SERVICE_USER, secrets.token_urlsafe(PASSWORD_BYTES), None),
        Credential(HEALTH_USER, secrets.token_urlsafe(PASSWORD_BYTES), None),
    ]
    made += [
        Credential(gateway_username(venue, g), secrets.token_urlsafe(PASSWORD_BYTES), g, venue)
        for venue, names in gateways.items()
        for g in names
    ]
    return made


def passwd_text(credentials: Sequence[Credential]) -> str:
    return "".join(f"{c.username}:{mosquitto_hash(c.password)}\n" for c in credentials)


def acl_text(venues: Sequence[str], credentials: Sequence[Credential]) -> str:
    """The ACL: what each user may publish (write) and subscribe to (read); nothing else."""
    lines = [
        f"# Maître: MQTT authority for {', '.join(venues)} (maitre gateways credentials). Mosquitto",
        "# denies whatever is not granted here. A gateway writes only its own topics, reads only its config.",
        "",
        f"user {SERVICE_USER}",
    ]
    for venue in venues:
        lines += [
            f"topic read maitre/+/{venue}/gw/#",  # every version, so unknown ones are seen and counted
            f"topic write {wire.TOPIC_ROOT}/{venue}/gw/+/config",
            # Several service instances share committed alerts through the broker.
            f"topic readwrite {wire.TOPIC_ROOT}/{venue}/alerts",
        ]
    lines += [
        f"topic readwrite {wire.DIRECTORY_TOPIC}",  # and directory changes
        "",
        f"user {HEALTH_USER}",
        "topic read $SYS/#",  # broker counters only: no venue's topic
    ]
    for c in credentials:
        if c.gateway is None or c.venue is None:
            continue
        venue = c.venue
        lines += [
            "",
            f"user {c.username}",
            f"topic write {wire.sightings_topic(venue, c.gateway)}",
            f"topic write {wire.status_topic(venue, c.gateway)}",
            f"topic write {wire.telemetry_topic(venue, c.gateway)}",
            f"topic write {wire.config_result_topic(venue, c.gateway)}",
            f"topic read {wire.config_topic(venue, c.gateway)}",
        ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class BrokerLayout:
    """Where the broker runs and reads its files, as the gateways and the service will reach it."""

    broker_url: str  # the gateways' listener, without credentials: mqtts://host:8883
    service_port: int = conf.DEFAULT_SERVICE_PORT
    broker_dir: str = conf.DEFAULT_BROKER_DIR
    hosts: tuple[str, ...] = ()  # more names the broker's certificate must carry


def write(out: Path, gateways: Gateways, layout: BrokerLayout, force: bool = False) -> list[Path]:
    """Write the broker's files to `out/mosquitto/` and each client's `<name>.env` (MAITRE_MQTT_URL) to `out`.

    With an `mqtts://` broker URL, also a private CA (`ca.key`, `ca.crt`, kept when already there,
    so gateways need not be given a new one) and the broker's certificate. Secrets are readable by
    their owner only. Refuses to replace existing passwords unless `force`: new passwords lock out
    every gateway still holding the old ones.
    """
    from maitre.mqtt import BrokerAddress  # paho: imported only when writing

    address = BrokerAddress.parse(layout.broker_url)
    if address.username or address.password:
        raise ValueError("give the broker URL without credentials: each file gets its own")
    if address.port == layout.service_port:
        raise ValueError(f"the service's listener needs a port of its own, not {address.port}")
    broker = out / BROKER_SUBDIR
    if (broker / conf.PASSWD_FILE).exists() and not force:
        raise FileExistsError(f"{broker / conf.PASSWD_FILE} exists; --force replaces every password in it")
    credentials = issue(gateways)
    venues = list(gateways)
    service = [c for c in credentials if c.username == SERVICE_USER]
    listeners = conf.Listeners(address.port, layout.service_port, address.tls)
    files: dict[Path, str | bytes] = {
        broker / conf.CONF_FILE: conf.conf_text(
            layout.broker_dir, listeners, sum(len(names) for names in gateways.values())
        ),
        broker / conf.PASSWD_FILE: passwd_text([c for c in credentials if c.username != SERVICE_USER]),
        broker / conf.SERVICE_PASSWD_FILE: passwd_text(service),
        broker / conf.ACL_FILE: acl_text(venues, credentials),
    }
    scheme = "mqtts" if address.tls else "mqtt"
    for c in credentials:
        secret = f"{quote(c.username, safe='')}:{quote(c.password, safe='')}"
        if c.username == HEALTH_USER:
            files[broker / conf.HEALTH_PASSWORD_FILE] = c.password + "\n"
            continue
        port = layout.service_port if c.gateway is None else address.port
        name = env_file(c.gateway, c.venue if len(venues) > 1 else None)
        files[out / name] = f"MAITRE_MQTT_URL={scheme}://{secret}@{address.host}:{port}\n"
    if address.tls:
        ca = _certificate_authority(out, ", ".join(venues))
        server = make_server_cert(ca, [address.host, *layout.hosts])
        files[broker / conf.SERVER_CERT] = server.cert_pem
        files[broker / conf.SERVER_KEY] = server.key_pem
        files[broker / conf.CA_CERT] = ca.cert_pem
    broker.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = [_write_private(path, text) for path, text in files.items()]
    if address.tls:
        written.append(out / conf.CA_CERT)  # written public by _certificate_authority
    return written


def _certificate_authority(out: Path, name: str) -> KeyPair:
    """The CA in `out`, made (key private, certificate public: every client needs it) if not there."""
    cert, key = out / conf.CA_CERT, out / CA_KEY
    if cert.exists() and key.exists():
        return KeyPair(cert.read_bytes(), key.read_bytes())
    ca = make_ca(name)
    out.mkdir(parents=True, exist_ok=True)
    _write_private(key, ca.key_pem)
    _write_private(cert, ca.cert_pem)
    os.chmod(cert, 0o644)
    return ca


def _write_private(path: Path, content: str | bytes) -> Path:
    data = content.encode() if isinstance(content, str) else content
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)  # O_CREAT's mode does not apply to a file that already existed
    return path
