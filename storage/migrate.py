"""Alembic, driven from code: ``unstuck db upgrade`` and the start-up schema check use this."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str, connect_args: dict[str, Any] | None = None) -> Config:
    """An Alembic config pointing at this project's migrations and at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    config.attributes["connect_args"] = connect_args or {}
    return config


def upgrade(url: str, connect_args: dict[str, Any] | None = None, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision``. Blocking: run it off the event loop."""
    command.upgrade(alembic_config(url, connect_args), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_and_head(url: str, connect_args: dict[str, Any] | None = None) -> tuple[str | None, str | None]:
    """The database's revision and the newest one this code knows."""
    from storage.engine import create_engine

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async def current() -> str | None:
        engine = create_engine(url, connect_args=connect_args)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(read)
        finally:
            await engine.dispose()

    return asyncio.run(current()), head_revision()
