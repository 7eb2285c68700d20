"""Checks before `maitre serve` starts: a setting that points nowhere stops it, naming the setting."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import paho.mqtt.client as paho
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from maitre.db import SchemaOutdated, check_schema, make_engine
from maitre.mqtt import BrokerAddress, make_client
from maitre.runtime.cluster import VenueClaims, VenueTaken

# Long enough for a broker on another host under load, short enough that a typo is reported soon.
BROKER_ANSWER_SECONDS = 10.0


class StartupRefused(Exception):
    """The service must not start; the message says which setting to fix and how."""


def open_database(url: str) -> Engine:
    """An engine on a reachable database whose schema is this version's."""
    try:
        engine = make_engine(url)
    except (ArgumentError, ValueError) as exc:  # SQLAlchemy says ValueError for an unknown dialect
        raise StartupRefused(f"MAITRE_DATABASE_URL {redact(url)!r} is not a database URL: {exc}") from exc
    except ImportError as exc:
        raise StartupRefused(
            f"MAITRE_DATABASE_URL {redact(url)!r} needs a driver that is not installed ({exc.name}); "
            "for PostgreSQL install maitre[postgres]"
        ) from exc
    try:
        with engine.connect():
            pass
        check_schema(engine)
    except SchemaOutdated as exc:
        engine.dispose()
        raise StartupRefused(f"MAITRE_DATABASE_URL {redact(url)!r}: {exc}") from exc
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StartupRefused(
            f"MAITRE_DATABASE_URL {redact(url)!r}: cannot use the database: {reason}"
        ) from exc
    return engine


def check_venue_claims(
    engine: Engine, venues: Sequence[str], standby: Sequence[str] = (), client_id: str = ""
) -> None:
    """Refuse to start when another running instance is configured for one of our venues."""
    claims = VenueClaims(engine, venues, standby, client_id)
    try:
        claims.acquire()
    except VenueTaken as exc:
        raise StartupRefused(str(exc)) from exc
    claims.release()  # the service claims them again, for good, as it starts


def check_broker(address: BrokerAddress, timeout: float = BROKER_ANSWER_SECONDS) -> None:
    """Connect once with a throwaway client: the broker must answer and accept the credentials."""
    answered = threading.Event()
    refusal: list[str] = []

    def on_connect(client: paho.Client, _u: object, _f: object, reason: paho.ReasonCode, _p: object) -> None:
        if reason.is_failure:
            refusal.append(str(reason))
        answered.set()

    client = make_client(address, client_id="")
    client.on_connect = on_connect
    try:
        client.connect(address.host, address.port, keepalive=15)
    except OSError as exc:
        raise StartupRefused(f"MAITRE_MQTT_URL: cannot reach the broker at {address.url()}: {exc}") from exc
    client.loop_start()
    try:
        if not answered.wait(timeout):
            raise StartupRefused(
                f"MAITRE_MQTT_URL: the broker at {address.url()} did not answer in {timeout:.0f} s"
            )
        if refusal:
            raise StartupRefused(
                f"MAITRE_MQTT_URL: the broker at {address.url()} refused the connection ({refusal[0]}): "
                "check the user name and password in the URL"
            )
    finally:
        client.disconnect()
        client.loop_stop()


def redact(url: str) -> str:
    """The URL with any password replaced, safe to print."""
    head, sep, tail = url.partition("://")
    if not sep or "@" not in tail:
        return url
    creds, _, rest = tail.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{head}://{user}:***@{rest}" if ":" in creds else url
