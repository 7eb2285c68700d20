"""`maitre gateways`: a venue's broker authority (Mosquitto logins, ACL, limits, TLS) and gateway secrets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from maitre.security.broker_config import DEFAULT_BROKER_DIR, DEFAULT_SERVICE_PORT


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gateways = sub.add_parser("gateways", help="gateway MQTT credentials")
    gw_sub = gateways.add_subparsers(dest="gateways_command", required=True)
    creds = gw_sub.add_parser(
        "credentials",
        help="write the broker's logins, ACL, limits and TLS, and each gateway's secret, for a venue",
        description="Gateways are the venue's in MAITRE_DATABASE_URL unless named with --gateway. "
        "Writes OUT/mosquitto/ for the broker (include_dir it; maitre.conf names the files in "
        "--broker-dir), OUT/service.env and OUT/gateway-<name>.env (MAITRE_MQTT_URL each), and, for "
        "mqtts://, a private CA (OUT/ca.key stays here; OUT/ca.crt goes to every client).",
    )
    creds.add_argument("--venue", required=True)
    creds.add_argument("--out", required=True, type=Path, help="directory to write into")
    creds.add_argument("--gateway", action="append", default=[], help="a gateway name (repeatable)")
    creds.add_argument(
        "--broker",
        default="mqtts://127.0.0.1:8883",
        help="the URL gateways reach the broker by, no credentials; mqtts:// (TLS) unless you must "
        "(default %(default)s)",
    )
    creds.add_argument(
        "--service-port",
        type=int,
        default=DEFAULT_SERVICE_PORT,
        help="the service's own listener, on the same host (default %(default)s)",
    )
    creds.add_argument(
        "--host",
        action="append",
        default=[],
        help="another name or address the broker's certificate must carry (repeatable)",
    )
    creds.add_argument(
        "--broker-dir",
        default=DEFAULT_BROKER_DIR,
        help="where the broker will read OUT/mosquitto/'s files (default: the compose stack's, %(default)s)",
    )
    creds.add_argument("--force", action="store_true", help="replace existing passwords (keeps the CA)")
    creds.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _credentials(args)
    except (OSError, ValueError) as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return 2


def _credentials(args: argparse.Namespace) -> int:
    from maitre import wire
    from maitre.security.credentials import BrokerLayout, write

    if not wire.is_valid_name(args.venue):
        raise ValueError(f"invalid venue name {args.venue!r}: use 1-64 of A-Z a-z 0-9 _ -")
    names: list[str] = args.gateway or _registered_gateways(args.venue)
    if not names:
        raise ValueError(f"venue {args.venue!r} has no gateways registered; name them with --gateway")
    layout = BrokerLayout(args.broker, args.service_port, args.broker_dir, tuple(args.host))
    for path in write(args.out, args.venue, names, layout, force=args.force):
        print(f"wrote {path}")
    return 0


def _registered_gateways(venue: str) -> list[str]:
    from sqlmodel import select

    from maitre.config import Settings
    from maitre.db import make_engine, session_scope
    from maitre.models import Gateway, Venue

    engine = make_engine(Settings().database_url)
    try:
        with session_scope(engine) as session:
            rows = session.exec(select(Gateway.name).join(Venue).where(Venue.slug == venue))
            return sorted(rows)
    finally:
        engine.dispose()
