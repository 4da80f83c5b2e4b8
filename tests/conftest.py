"""Shared fixtures: databases (SQLite and PostgreSQL), clocks, settings."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.clock import FakeClock
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import Base

POSTGRES_ENV = "UNSTUCK_TEST_POSTGRES_URL"


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def postgres_url() -> str | None:
    """The test PostgreSQL URL; in CI its absence is an error, never a silent skip."""
    url = os.environ.get(POSTGRES_ENV)
    if not url and in_ci():
        raise RuntimeError(f"{POSTGRES_ENV} must be set in CI: the storage tests must run on PostgreSQL")
    return url


async def _run_sql(url: str, statement: str) -> None:
    from sqlalchemy import text

    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text(statement))
    finally:
        await db.dispose()


def off_loop(function, *args):
    """Run a blocking call that starts its own event loop, even when a test's loop is running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[tuple[str, dict[str, object]]]:
    """A private, migrated schema for this test run, dropped at the end (runs may overlap)."""
    url = postgres_url()
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (set automatically by .ci/run)")
    schema = f"unstuck_test_{uuid.uuid4().hex[:10]}"
    try:
        off_loop(asyncio.run, _run_sql(url, f"CREATE SCHEMA {schema}"))
    except OSError as error:
        raise RuntimeError(f"PostgreSQL at {url} is not reachable: {error}") from error
    connect_args: dict[str, object] = {"server_settings": {"search_path": schema}}
    off_loop(upgrade, url, connect_args)
    yield url, connect_args
    off_loop(asyncio.run, _run_sql(url, f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
async def empty_postgres_schema() -> AsyncIterator[tuple[str, dict[str, object]]]:
    """A private schema with nothing in it (not migrated), for tests of migrating and checking one;
    dropped afterwards. Skips without PostgreSQL."""
    url = postgres_url()
    if not url:
        pytest.skip(f"needs {POSTGRES_ENV} (set by .ci/run)")
    schema = f"unstuck_test_{uuid.uuid4().hex[:10]}"
    await _run_sql(url, f"CREATE SCHEMA {schema}")
    try:
        yield url, {"server_settings": {"search_path": schema}}
    finally:
        await _run_sql(url, f"DROP SCHEMA {schema} CASCADE")


async def _truncate(db: Database) -> None:
    from sqlalchemy import text

    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} CASCADE"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test: migrating once keeps the suite fast."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    off_loop(upgrade, f"sqlite+aiosqlite:///{path}")
    return path


def sqlite_copy(template: Path, directory: Path) -> str:
    target = directory / "unstuck.db"
    target.write_bytes(template.read_bytes())
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture(params=["sqlite", "postgres"])
async def db(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Database]:
    """A migrated, empty database: every storage test runs once on each engine."""
    if request.param == "sqlite":
        database = Database(sqlite_copy(sqlite_template, tmp_path))
    else:
        url, connect_args = request.getfixturevalue("postgres_schema")
        database = Database(url, connect_args=connect_args)
        await _truncate(database)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
