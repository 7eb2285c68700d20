"""`maitre gateways`: a venue's gateway MQTT credentials (Mosquitto password file, ACL, secrets)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gateways = sub.add_parser("gateways", help="gateway MQTT credentials")
    gw_sub = gateways.add_subparsers(dest="gateways_command", required=True)
    creds = gw_sub.add_parser(
        "credentials",
        help="write a Mosquitto password file, ACL and per-gateway secrets for a venue",
        description="Gateways are the venue's in MAITRE_DATABASE_URL unless named with --gateway. "
        "Mosquitto: password_file DIR/passwd, acl_file DIR/acl, allow_anonymous false.",
    )
    creds.add_argument("--venue", required=True)
    creds.add_argument("--out", required=True, type=Path, help="directory to write into")
    creds.add_argument("--gateway", action="append", default=[], help="a gateway name (repeatable)")
    creds.add_argument(
        "--broker", default="mqtt://127.0.0.1:1883", help="broker URL the gateways use, no credentials"
    )
    creds.add_argument("--force", action="store_true", help="replace an existing password file")
    creds.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _credentials(args)
    except (OSError, ValueError) as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return 2


def _credentials(args: argparse.Namespace) -> int:
    from maitre import wire
    from maitre.security.credentials import write

    if not wire.is_valid_name(args.venue):
        raise ValueError(f"invalid venue name {args.venue!r}: use 1-64 of A-Z a-z 0-9 _ -")
    names: list[str] = args.gateway or _registered_gateways(args.venue)
    if not names:
        raise ValueError(f"venue {args.venue!r} has no gateways registered; name them with --gateway")
    for path in write(args.out, args.venue, names, args.broker, force=args.force):
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
