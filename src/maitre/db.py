"""Database engine, sessions and schema: SQLite by default, PostgreSQL in production, Alembic migrations."""

from __future__ import annotations

import functools
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Insert, Table, event, inspect, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, create_engine

from maitre import models  # noqa: F401  (registers the tables on SQLModel.metadata)

if TYPE_CHECKING:
    from alembic.config import Config

# A PostgreSQL that does not answer within this many seconds is down or the URL is wrong;
# waiting longer only delays the error message.
PG_CONNECT_TIMEOUT_SECONDS = 10


class SchemaOutdated(RuntimeError):
    """The database's schema is not the one this version of Maître was built for."""


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite, enable foreign keys and WAL so readers never block the writer."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
            cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
                # WAL + NORMAL (as the gateway's spool): a commit is in the WAL before it returns, so
                # it survives the process dying; only a power cut can lose the last few, and an
                # fsync per greeting was a third of its transaction. A screen whose log is then
                # ahead of the venue's gets a fresh snapshot.
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    connect_args = {"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args=connect_args)


def migration_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, pointing at the migrations shipped inside the package."""
    from alembic.config import Config

    # Alembic announces every plugin it loads at INFO: noise in the service's log.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    config = Config()
    # A directory in the installed package (wheels install unzipped), so this works from a wheel too.
    config.set_main_option("script_location", str(resources.files("maitre.migrations")))
    config.attributes["connection"] = connection
    return config


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Run the migrations up to `revision` (default: the newest)."""
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(migration_config(conn), revision)


def create_schema(engine: Engine) -> None:
    """Create the models' tables directly and record them as the newest migration (fast; for tests)."""
    from alembic import command

    SQLModel.metadata.create_all(engine)
    with engine.begin() as conn:
        command.stamp(migration_config(conn), "head")


def schema_revisions(engine: Engine) -> tuple[set[str], set[str]]:
    """(the database's revisions, this version's newest revisions)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(migration_config()).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, heads


def check_schema(engine: Engine) -> None:
    """Raise SchemaOutdated, saying which command to run, unless the schema is at this version's head."""
    current, heads = schema_revisions(engine)
    if current == heads:
        return
    if not current:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names()) & set(SQLModel.metadata.tables)
        if tables:
            raise SchemaOutdated(
                "the database has Maître tables but no migration record (made before migrations): "
                "if they match this version, run `maitre db stamp head`, then start again"
            )
        raise SchemaOutdated("the database is empty: run `maitre db upgrade` to create the schema")
    from alembic.script import ScriptDirectory

    known = {rev.revision for rev in ScriptDirectory.from_config(migration_config()).walk_revisions()}
    if current - known:
        raise SchemaOutdated(
            f"the database is at revision {', '.join(sorted(current))}, newer than this version of "
            "Maître knows: run the newer version, or downgrade the database from it"
        )
    raise SchemaOutdated(
        f"the database schema is at {', '.join(sorted(current))}, this version needs "
        f"{', '.join(sorted(heads))}: back up the database, then run `maitre db upgrade`"
    )


def schema_diff(engine: Engine) -> list[object]:
    """What Alembic's autogenerate finds between the database and the models: empty when they agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        diff: list[object] = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    return diff


def new_revision(message: str) -> Path:
    """Write a migration from the models' difference to the newest one (diffed on a scratch SQLite)."""
    from alembic import command
    from alembic.script import ScriptDirectory

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        try:
            upgrade_schema(engine)
            count = len(list(ScriptDirectory.from_config(migration_config()).walk_revisions()))
            with engine.begin() as conn:
                script = command.revision(
                    migration_config(conn), message=message, autogenerate=True, rev_id=f"{count + 1:04d}"
                )
        finally:
            engine.dispose()
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


def table_of(model: type[SQLModel]) -> Table:
    """The model's table, for Core statements (an ORM-enabled insert costs more to compile and run)."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


@functools.cache
def _insert_new_statement(model: type[SQLModel], dialect: str, unique: tuple[str, ...]) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table_of(model)).on_conflict_do_nothing(index_elements=unique)
    # A row back, rather than rowcount: with PostgreSQL's implicit RETURNING the rowcount is -1.
    return statement.returning(literal_column("1"))


def insert_new(
    session: Session, model: type[SQLModel], values: dict[str, object], unique: tuple[str, ...]
) -> bool:
    """Insert a row unless one with the same `unique` columns exists; True if it was inserted.

    One statement (INSERT … ON CONFLICT DO NOTHING, SQLite and PostgreSQL), where catching the
    IntegrityError needs a savepoint around the insert: three round trips.
    """
    statement = _insert_new_statement(model, session.get_bind().dialect.name, unique)
    return session.connection().execute(statement, values).first() is not None


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
