"""Alembic migrations: they build exactly the models' schema, and the service refuses any other."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from maitre.db import SchemaOutdated, check_schema, make_engine, schema_diff, schema_revisions, upgrade_schema
from maitre.runtime.service import VenueService
from tests.conftest import drop_schema, make_settings

ROOT = Path(__file__).resolve().parent.parent
# When the models change, this test fails until a migration says the same.
WHAT_TO_DO = (
    "the models and the migrations disagree. After changing src/maitre/models.py, write a migration: "
    '`uv run maitre db revision -m "what changed"`, read it, `uv run ruff format` it. Before the first '
    "release only, regenerate the initial one instead: "
    "`rm src/maitre/migrations/versions/0001_*.py && uv run maitre db revision -m 'initial schema'`"
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with no tables at all, SQLite and (when configured) PostgreSQL."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    else:
        engine = make_engine(request.getfixturevalue("pg_url"))
        drop_schema(engine)
    try:
        yield engine
    finally:
        if request.param != "sqlite":
            drop_schema(engine)
        engine.dispose()


def test_migrations_build_exactly_the_models_schema(empty_db: Engine) -> None:
    upgrade_schema(empty_db)

    diff = schema_diff(empty_db)
    assert diff == [], f"{WHAT_TO_DO}\nautogenerate found: {diff}"
    current, heads = schema_revisions(empty_db)
    assert current == heads


def test_upgrading_twice_changes_nothing(empty_db: Engine) -> None:
    upgrade_schema(empty_db)
    upgrade_schema(empty_db)

    check_schema(empty_db)


async def test_service_refuses_to_start_on_an_empty_database(empty_db: Engine) -> None:
    service = VenueService(make_settings(), empty_db, broker=None)

    with pytest.raises(SchemaOutdated, match=r"run `maitre db upgrade`"):
        await service.start()


async def test_service_refuses_a_database_migrated_by_a_newer_version(empty_db: Engine) -> None:
    upgrade_schema(empty_db)
    with empty_db.begin() as conn:  # as if a newer Maître had migrated it, then been rolled back
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    service = VenueService(make_settings(), empty_db, broker=None)

    with pytest.raises(SchemaOutdated, match=r"newer than this version of Maître knows"):
        await service.start()


def test_service_refuses_tables_made_without_migrations(empty_db: Engine) -> None:
    from sqlmodel import SQLModel

    SQLModel.metadata.create_all(empty_db)

    with pytest.raises(SchemaOutdated, match=r"maitre db stamp head"):
        check_schema(empty_db)


def maitre(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "MAITRE_DATABASE_URL": database_url, "HOME": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "maitre.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_db_upgrade_command_brings_a_new_database_up_to_date(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'venue.db'}"

    before = maitre("db", "current", database_url=url)
    upgraded = maitre("db", "upgrade", database_url=url)
    after = maitre("db", "current", database_url=url)

    assert "needs `maitre db upgrade`" in before.stdout
    assert upgraded.returncode == 0, upgraded.stderr
    assert "(up to date)" in after.stdout
    engine = make_engine(url)
    assert schema_diff(engine) == []
    engine.dispose()


def test_wheel_ships_the_migrations(tmp_path: Path) -> None:
    """The service loads migrations from its package, so an installed wheel must carry them."""
    subprocess.run(
        ["uv", "build", "--wheel", "--out-dir", str(tmp_path), "-q"], cwd=ROOT, check=True, timeout=120
    )
    (wheel,) = tmp_path.glob("maitre-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    versions = {p.name for p in (ROOT / "src/maitre/migrations/versions").glob("*.py")}

    assert {"maitre/migrations/env.py", "maitre/migrations/script.py.mako"} <= names
    assert {f"maitre/migrations/versions/{v}" for v in versions} <= names
