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
    creds.add_argument(
        "--venue", action="append", required=True, help="a venue slug (repeatable: one broker for several)"
    )
    creds.add_argument("--out", required=True, type=Path, help="directory to write into")
    creds.add_argument(
        "--gateway",
        action="append",
        default=[],
        help="a gateway name, VENUE/NAME with several venues (repeatable)",
    )
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

    venues: list[str] = list(dict.fromkeys(args.venue))
    for venue in venues:
        if not wire.is_valid_name(venue):
            raise ValueError(f"invalid venue name {venue!r}: use 1-64 of A-Z a-z 0-9 _ -")
    gateways = _named_gateways(venues, args.gateway) if args.gateway else {}
    for venue in venues:
        gateways[venue] = gateways.get(venue) or _registered_gateways(venue)
        if not gateways[venue]:
            raise ValueError(f"venue {venue!r} has no gateways registered; name them with --gateway")
    layout = BrokerLayout(args.broker, args.service_port, args.broker_dir, tuple(args.host))
    for path in write(args.out, gateways, layout, force=args.force):
        print(f"wrote {path}")
    return 0


def _named_gateways(venues: list[str], named: list[str]) -> dict[str, list[str]]:
    """--gateway values by venue: a bare NAME with one venue, VENUE/NAME with any."""
    gateways: dict[str, list[str]] = {}
    for value in named:
        venue, _, name = value.rpartition("/")
        if not venue and len(venues) > 1:
            raise ValueError(f"--gateway {value!r}: with several venues, say whose: VENUE/{value}")
        venue = venue or venues[0]
        if venue not in venues:
            raise ValueError(f"--gateway {value!r}: {venue!r} is not one of the --venue values")
        gateways.setdefault(venue, []).append(name)
    return gateways


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
