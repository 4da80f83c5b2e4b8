"""The models and the migrations describe the same schema (`alembic check`), on SQLite and PostgreSQL.

A model change without its migration would pass every other test on the test databases (which are
migrated) yet break a real upgrade; this is the check that goes red when they drift.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command

from storage.migrate import alembic_config, upgrade


def _check(url: str, connect_args: dict[str, object]) -> None:
    upgrade(url, connect_args)
    command.check(alembic_config(url, connect_args))


async def test_models_match_migrations_on_sqlite(tmp_path: Path) -> None:
    await asyncio.to_thread(_check, f"sqlite+aiosqlite:///{tmp_path / 'drift.db'}", {})


async def test_models_match_migrations_on_postgres(
    empty_postgres_schema: tuple[str, dict[str, object]],
) -> None:
    await asyncio.to_thread(_check, *empty_postgres_schema)
