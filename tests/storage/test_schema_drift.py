"""The models and the migrations describe the same schema (`alembic check`), on SQLite and PostgreSQL.

A model change without its migration would pass every other test on the test databases (which are
migrated) yet break a real upgrade; this is the check that goes red when they drift.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from alembic import command

from storage.migrate import alembic_config, upgrade
from tests.conftest import _run_sql, postgres_url


def _check(url: str, connect_args: dict[str, object]) -> None:
    upgrade(url, connect_args)
    command.check(alembic_config(url, connect_args))


async def test_models_match_migrations_on_sqlite(tmp_path: Path) -> None:
    await asyncio.to_thread(_check, f"sqlite+aiosqlite:///{tmp_path / 'drift.db'}", {})


async def test_models_match_migrations_on_postgres() -> None:
    url = postgres_url()
    if not url:
        pytest.skip("needs UNSTUCK_TEST_POSTGRES_URL (set by .ci/run)")
    schema = "unstuck_test_drift_" + os.urandom(4).hex()
    await _run_sql(url, f"CREATE SCHEMA {schema}")
    try:
        await asyncio.to_thread(_check, url, {"server_settings": {"search_path": schema}})
    finally:
        await _run_sql(url, f"DROP SCHEMA {schema} CASCADE")
