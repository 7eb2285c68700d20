"""`maitre staff`: staff accounts that sign in to the API and screens."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

STAFF_PASSWORD_ENV = "MAITRE_STAFF_PASSWORD"  # noqa: S105 (the variable's name, not a password)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    add.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _staff_add(args)
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
