"""`maitre db …`: migrate, inspect and extend the schema of MAITRE_DATABASE_URL."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from maitre.config import Settings
from maitre.db import make_engine, new_revision, schema_revisions, upgrade_schema


def run_db_command(args: argparse.Namespace) -> int:
    if args.db_command == "revision":
        path = new_revision(args.message)
        print(f"wrote {path}: read it through, then `uv run ruff format {path}`")
        return 0
    try:
        url = Settings().database_url
    except ValidationError as exc:
        print(f"maitre: bad setting: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(url)
    try:
        if args.db_command == "upgrade":
            upgrade_schema(engine, args.revision)
            print(f"database at {_describe(schema_revisions(engine)[0])}")
        elif args.db_command == "stamp":
            from alembic import command

            from maitre.db import migration_config

            with engine.begin() as conn:
                command.stamp(migration_config(conn), args.revision)
            print(f"database recorded at {args.revision}")
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
