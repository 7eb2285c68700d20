"""`maitre token`: print a staff screen token signed with MAITRE_SECRET_KEY; `maitre token revoke`:
refuse one (or every token of a venue) before it expires."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from maitre.security.tokens import TokenSigner


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = sub.add_parser("token", help="print a staff screen token (signed with MAITRE_SECRET_KEY)")
    token.add_argument("--venue", help="venue slug")
    token.add_argument("--role", choices=["host", "kitchen", "manager"])
    token.add_argument(
        "--hours", type=float, default=12.0, help="valid for this long (default 12, at most 24)"
    )
    token.set_defaults(func=run)
    actions = token.add_subparsers(dest="action")
    revoke = actions.add_parser(
        "revoke",
        help="refuse a token before it expires (the database of MAITRE_DATABASE_URL keeps the list)",
    )
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--token", help="the token to refuse (as printed, or read from a screen's link)")
    which.add_argument(
        "--all-of-venue", metavar="VENUE", help="refuse every token of this venue issued so far"
    )
    revoke.set_defaults(func=run_revoke)


def _signer() -> TokenSigner | None:
    from maitre.security.tokens import TokenSigner

    secret = os.environ.get("MAITRE_SECRET_KEY")
    if not secret:
        print(
            "maitre: set MAITRE_SECRET_KEY to the service's key (a service without one signs with a "
            "random key that no other process knows)",
            file=sys.stderr,
        )
        return None
    try:
        max_hours = float(os.environ.get("MAITRE_STAFF_TOKEN_MAX_HOURS", "24"))
        return TokenSigner(secret.encode(), max_hours)
    except ValueError as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    from maitre.security.tokens import StaffRole

    if args.venue is None or args.role is None:
        print("maitre: token needs --venue and --role (or `maitre token revoke`)", file=sys.stderr)
        return 2
    if not args.hours > 0:
        print("maitre: --hours must be more than 0", file=sys.stderr)
        return 2
    signer = _signer()
    if signer is None:
        return 2
    try:
        print(signer.issue(args.venue, StaffRole(args.role), args.hours))
    except ValueError as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return 2
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    from maitre.cli.settings import load_settings
    from maitre.db import session_scope
    from maitre.runtime.preflight import StartupRefused, open_database
    from maitre.security.revocation import revoke_token, revoke_venue
    from maitre.security.tokens import InvalidToken

    settings = load_settings()
    if settings is None:
        return 2
    try:
        engine = open_database(settings.database_url)
    except StartupRefused as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return 1
    with session_scope(engine) as session:
        if args.all_of_venue:
            at = revoke_venue(session, args.all_of_venue, settings.staff_token_max_hours)
            print(f"every token of {args.all_of_venue} issued until {at.isoformat()} is refused from now on")
            return 0
        signer = _signer()
        if signer is None:
            return 2
        try:
            claims = signer.verify(args.token)
            revoke_token(session, claims)
        except (InvalidToken, ValueError) as exc:
            print(f"maitre: cannot revoke: {exc}", file=sys.stderr)
            return 2
    print(f"the {claims.role.value} token of {claims.venue} is refused from now on")
    return 0
