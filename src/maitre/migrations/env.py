"""Alembic's entry point: migrate the connection Maître hands over, else MAITRE_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from maitre import models  # noqa: F401  (registers the tables on SQLModel.metadata)


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("maitre: offline (SQL script) migrations are not supported; run `maitre db upgrade`")

_connection = context.config.attributes.get("connection")
if _connection is not None:
    run_migrations(_connection)
else:  # the plain `alembic` command, run by hand
    from maitre.config import Settings
    from maitre.db import make_engine

    with make_engine(Settings().database_url).begin() as _conn:
        run_migrations(_conn)
