"""The `maitre staff` and `maitre gateways` commands: who may use the API, which gateway may publish."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

STAFF_PASSWORD_ENV = "MAITRE_STAFF_PASSWORD"  # noqa: S105 (the variable's name, not a password)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staff = sub.add_parser("staff", help="staff accounts that sign in to the API and screens")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_sub.add_parser(
        "add",
        help="create a staff account in MAITRE_DATABASE_URL",
        description=f"The password comes from --password-file, else ${STAFF_PASSWORD_ENV}, else a prompt "
        "(never from the command line, where other users of the machine can read it).",
    )
    add.add_argument("--username", required=True)
    add.add_argument("--venue", required=True, help="venue slug (the venue may be created later)")
    add.add_argument("--role", required=True, choices=["manager", "host", "kitchen"])
    add.add_argument("--password-file", type=Path, help="read the password from this file's first line")
    add.add_argument("--replace", action="store_true", help="reset an existing account instead")

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


def run(args: argparse.Namespace) -> int:
    try:
        if args.command == "staff":
            return _staff_add(args)
        return _credentials(args)
    except (OSError, ValueError) as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return 2


def _staff_add(args: argparse.Namespace) -> int:
    from maitre.config import Settings
    from maitre.db import make_engine, session_scope
    from maitre.security.staff import add_account
    from maitre.security.tokens import StaffRole

    password = _password(args.password_file)
    engine = make_engine(Settings().database_url)
    try:
        with session_scope(engine) as session:
            add_account(session, args.username, password, args.venue, StaffRole(args.role), args.replace)
    finally:
        engine.dispose()
    print(f"staff account {args.username!r}: {args.role} at {args.venue}")
    return 0


def _password(path: Path | None) -> str:
    if path is not None:
        lines = path.read_text().splitlines()
        return lines[0] if lines else ""
    if os.environ.get(STAFF_PASSWORD_ENV):
        return os.environ[STAFF_PASSWORD_ENV]
    if not sys.stdin.isatty():
        raise ValueError(f"no password: use --password-file or ${STAFF_PASSWORD_ENV}")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the passwords differ")
    return first


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
