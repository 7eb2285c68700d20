"""MQTT credentials for a venue's gateways: a Mosquitto password file, an ACL, one secret per gateway.

Each gateway gets a user `gw.<venue>.<gateway>` (names cannot contain a dot, so this cannot
collide) allowed to publish only under its own topics and to read only its own config; the
venue service gets one user that reads the venue's gateway topics and writes their configs.
Mosquitto 2 reads the password file's `$7$` lines: PBKDF2-SHA512, as `mosquitto_passwd` writes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from maitre import wire

# Mosquitto's own default is 101 rounds. The passwords here are 32 random bytes, so stretching
# adds nothing against guessing; a modest count keeps a broker cheap to reconnect to after an outage.
PBKDF2_ROUNDS = 1000
SALT_BYTES = 12  # as mosquitto_passwd
PASSWORD_BYTES = 32
SERVICE_USER = "maitre-service"
PASSWD_FILE, ACL_FILE = "passwd", "acl"


@dataclass(frozen=True)
class Credential:
    username: str
    password: str
    gateway: str | None  # None for the venue service


def gateway_username(venue: str, gateway: str) -> str:
    return f"gw.{venue}.{gateway}"


def env_file(gateway: str | None) -> str:
    """The file holding a gateway's (or, for None, the service's) MAITRE_MQTT_URL."""
    return "service.env" if gateway is None else f"gateway-{gateway}.env"


def mosquitto_hash(password: str, rounds: int = PBKDF2_ROUNDS, salt: bytes | None = None) -> str:
    """A password-file hash Mosquitto 2 accepts: `$7$<rounds>$<salt>$<key>`, standard base64."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, rounds)
    return f"$7${rounds}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def issue(venue: str, gateways: Sequence[str]) -> list[Credential]:
    """Fresh random passwords for the service and each gateway (names checked as topic levels)."""
    for name in (venue, *gateways):
        if not wire.is_valid_name(name):
            raise ValueError(f"invalid venue or gateway name {name!r}: use 1-64 of A-Z a-z 0-9 _ -")
    if len(set(gateways)) != len(gateways):
        raise ValueError("a gateway is named twice")
    made = [Credential(SERVICE_USER, secrets.token_urlsafe(PASSWORD_BYTES), None)]
    made += [
        Credential(gateway_username(venue, g), secrets.token_urlsafe(PASSWORD_BYTES), g) for g in gateways
    ]
    return made


def passwd_text(credentials: Sequence[Credential]) -> str:
    return "".join(f"{c.username}:{mosquitto_hash(c.password)}\n" for c in credentials)


def acl_text(venue: str, credentials: Sequence[Credential]) -> str:
    """The ACL: what each user may publish (write) and subscribe to (read); nothing else."""
    root = f"{wire.TOPIC_ROOT}/{venue}/gw"
    lines = [
        f"# Maître: MQTT authority for venue {venue} (maitre gateways credentials). Mosquitto denies",
        "# whatever is not granted here. A gateway writes only its own topics, reads only its config.",
        "",
        f"user {SERVICE_USER}",
        f"topic read maitre/+/{venue}/gw/#",  # every version, so unknown ones are seen and counted
        f"topic write {root}/+/config",
        # Several service instances share committed alerts and directory changes through the broker.
        f"topic readwrite {wire.TOPIC_ROOT}/{venue}/alerts",
        f"topic readwrite {wire.DIRECTORY_TOPIC}",
    ]
    for c in credentials:
        if c.gateway is None:
            continue
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


def write(out: Path, venue: str, gateways: Sequence[str], broker_url: str, force: bool = False) -> list[Path]:
    """Write passwd, acl and one `<name>.env` per user (MAITRE_MQTT_URL with its password) to `out`.

    Every file is readable by its owner only. Refuses to replace an existing password file
    unless `force`: new passwords lock out every gateway still holding the old ones.
    """
    from maitre.mqtt import BrokerAddress  # paho: imported only when writing

    address = BrokerAddress.parse(broker_url)
    if address.username or address.password:
        raise ValueError("give the broker URL without credentials: each file gets its own")
    out.mkdir(parents=True, exist_ok=True)
    if (out / PASSWD_FILE).exists() and not force:
        raise FileExistsError(f"{out / PASSWD_FILE} exists; --force replaces every password in it")
    credentials = issue(venue, gateways)
    scheme = "mqtts" if address.tls else "mqtt"
    files = {PASSWD_FILE: passwd_text(credentials), ACL_FILE: acl_text(venue, credentials)}
    for c in credentials:
        secret = f"{quote(c.username, safe='')}:{quote(c.password, safe='')}"
        url = f"{scheme}://{secret}@{address.host}:{address.port}"
        files[env_file(c.gateway)] = f"MAITRE_MQTT_URL={url}\n"
    written = []
    for name, text in files.items():
        path = out / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)  # O_CREAT's mode does not apply to a file that already existed
        written.append(path)
    return written
