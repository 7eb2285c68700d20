"""`maitre db …`: migrate, inspect and extend the schema of MAITRE_DATABASE_URL."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

from maitre import wire
from maitre.cli.settings import load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DEMO_SEED_GUESTS = 60  # twelve minutes of arrivals, one every 12 s


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="the database: upgrade, current, seed-demo, stamp, revision")
    db.set_defaults(func=run)
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="migrate MAITRE_DATABASE_URL to this version's schema")
    upgrade.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    upgrade.add_argument(
        "--seed-demo", metavar="VENUE", default="", help="then as `db seed-demo --venue VENUE` (empty: no)"
    )
    db_sub.add_parser("current", help="print the database's revision and this version's")
    seed_demo = db_sub.add_parser(
        "seed-demo",
        help="book the simulated gateways' crowd: the demo bistro, its gateways and guests (once)",
    )
    seed_demo.add_argument("--venue", default="bistro", help="slug, as given to maitre-gateway --venue")
    seed_demo.add_argument("--guests", type=int, default=60, help="arriving guests to book (one every 12 s)")
    stamp = db_sub.add_parser("stamp", help="record a revision without running it (tables made by hand)")
    stamp.add_argument("revision")
    revision = db_sub.add_parser("revision", help="write a migration for the models' changes (developers)")
    revision.add_argument("-m", "--message", required=True, help="what changed, e.g. 'guest check-in'")


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from maitre.db import make_engine, new_revision, schema_revisions, upgrade_schema

    if args.db_command == "revision":
        path = new_revision(args.message)
        print(f"wrote {path}: read it through, then `uv run ruff format {path}`")
        return 0
    settings = load_settings()
    if settings is None:
        return 2
    engine = make_engine(settings.database_url)
    try:
        if args.db_command == "upgrade":
            upgrade_schema(engine, args.revision)
            print(f"database at {_describe(schema_revisions(engine)[0])}")
            if args.seed_demo:  # the compose stack's one-shot: schema, then the demo's guests
                return _seed_demo(engine, args.seed_demo, DEMO_SEED_GUESTS)
        elif args.db_command == "stamp":
            from alembic import command

            from maitre.db import migration_config

            with engine.begin() as conn:
                command.stamp(migration_config(conn), args.revision)
            print(f"database recorded at {args.revision}")
        elif args.db_command == "seed-demo":
            return _seed_demo(engine, args.venue, args.guests)
        else:
            current, heads = schema_revisions(engine)
            state = "up to date" if current == heads else "needs `maitre db upgrade`"
            print(f"database: {_describe(current)}; this version: {_describe(heads)} ({state})")
    except SQLAlchemyError as exc:
        print(f"maitre: database at MAITRE_DATABASE_URL: {_first_line(exc)}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def _describe(revisions: set[str]) -> str:
    return ", ".join(sorted(revisions)) or "no revision (empty)"


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def _seed_demo(engine: Engine, venue: str, guests: int) -> int:
    """The demo bistro and the guests whose bands `maitre-gateway run --simulate` hears arriving."""
    from sqlmodel import select

    from maitre.db import SchemaOutdated, check_schema, session_scope
    from maitre.demo.seed import DEMO_GUESTS, seed_guest, seed_venue
    from maitre.models import Venue
    from maitre.sim.demo_evening import demo_guest_bands
    from maitre.sim.venue import demo_layout

    if not wire.is_valid_name(venue):
        print(f"maitre: venue {venue!r}: a slug of letters, digits, '-' and '_'", file=sys.stderr)
        return 2
    try:
        check_schema(engine)
    except SchemaOutdated as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return 1
    with session_scope(engine) as session:
        if session.exec(select(Venue).where(Venue.slug == venue)).first() is not None:
            print(f"venue {venue!r} is already there: nothing seeded")
            return 0
    # Two gateways and no walls give grid fusion too little to place anyone: the role rule decides.
    venue_id = seed_venue(engine, demo_layout(venue), plan=False)
    arriving = demo_guest_bands(venue, guests)  # at most an hour's worth: 300
    for k, (band, reaches_door) in enumerate(arriving):
        # Booked for when the simulated gateways will see them arrive, if started now.
        seed_guest(engine, venue_id, DEMO_GUESTS[k % len(DEMO_GUESTS)], band, timedelta(seconds=reaches_door))
    print(f"seeded venue {venue!r}: gateways door and street, {len(arriving)} guests arriving one every 12 s")
    return 0
