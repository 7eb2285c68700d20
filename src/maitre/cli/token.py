"""`maitre token`: print a staff screen token signed with MAITRE_SECRET_KEY."""

from __future__ import annotations

import argparse
import os
import sys


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = sub.add_parser("token", help="print a staff screen token (signed with MAITRE_SECRET_KEY)")
    token.add_argument("--venue", required=True, help="venue slug")
    token.add_argument("--role", required=True, choices=["host", "kitchen", "manager"])
    token.add_argument("--hours", type=float, default=12.0, help="valid for this long (default 12)")
    token.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from maitre.security.tokens import StaffRole, TokenSigner

    secret = os.environ.get("MAITRE_SECRET_KEY")
    if not secret:
        print(
            "maitre: set MAITRE_SECRET_KEY to the service's key (a service without one signs with a "
            "random key that no other process knows)",
            file=sys.stderr,
        )
        return 2
    if not 0 < args.hours <= 24 * 31:
        print("maitre: --hours must be between 0 and 744", file=sys.stderr)
        return 2
    try:
        print(TokenSigner(secret.encode()).issue(args.venue, StaffRole(args.role), args.hours))
    except ValueError as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return 2
    return 0
