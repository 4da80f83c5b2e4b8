"""Alembic, driven from code: ``unstuck db upgrade`` and the start-up schema check use this.

Before migrating an SQLite file that already holds a schema, :func:`upgrade` copies it beside
itself (``unstuck.db.before-0008.bak``): SQLite runs these migrations without transactional DDL,
so one that fails halfway could otherwise leave a database that neither version can use.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from storage.backup import backup_sqlite, next_free_name
from storage.engine import Database, create_engine, ensure_sqlite_directory
from storage.errors import DatabaseUnavailable, describe, explain, sqlite_file

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


@dataclass(frozen=True)
class Upgrade:
    """What :func:`upgrade` did to a database, for a one-line report."""

    database: str
    before: str | None
    after: str | None
    created: bool
    backup: Path | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def summary(self) -> str:
        """``Created …`` / ``Migrated … from 0005 to 0007.`` / ``… is already at the current revision``."""
        if not self.changed:
            return f"{self.database} is already at the current revision ({self.after})."
        if self.created:
            return f"Created {self.database} and migrated it to revision {self.after}."
        if self.before is None:
            return f"Migrated the empty database {self.database} to revision {self.after}."
        return f"Migrated {self.database} from {self.before} to {self.after}."

    def backup_note(self) -> str | None:
        """One line naming the copy taken before migrating, if one was."""
        if self.backup is None:
            return None
        return f"Backed up {self.database} to {self.backup} before migrating it."


def alembic_config(url: str, connect_args: dict[str, Any] | None = None) -> Config:
    """An Alembic config pointing at this project's migrations and at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    config.attributes["connect_args"] = connect_args or {}
    return config


def upgrade(url: str, connect_args: dict[str, Any] | None = None, revision: str = "head") -> Upgrade:
    """Migrate the database at ``url`` to ``revision``, backing up an SQLite file with data first.

    Blocking: run it off the event loop.  Raises :class:`DatabaseUnavailable` when the database
    cannot be reached or was migrated by a newer Unstuck, and ``BackupError`` when the copy taken
    before migrating fails (the database is then left untouched).
    """
    path = sqlite_file(url)
    existed = path is not None and path.is_file() and path.stat().st_size > 0
    before, head = current_and_head(url, connect_args)
    target = head if revision == "head" else revision
    backup = None
    if before != target:
        if path is not None and before is not None:
            backup = next_free_name(path.with_name(f"{path.name}.before-{target}.bak"))
            backup_sqlite(path, backup)
        with _explained(url):
            command.upgrade(alembic_config(url, connect_args), revision)
    created = path is not None and not existed
    return Upgrade(describe(url), before, target, created=created, backup=backup)


def head_revision() -> str | None:
    return _scripts().get_current_head()


def current_and_head(url: str, connect_args: dict[str, Any] | None = None) -> tuple[str | None, str | None]:
    """The database's revision and the newest one this code knows.

    Raises :class:`DatabaseUnavailable` when the database cannot be reached, or when its revision
    is unknown here (a newer Unstuck migrated it, and this one must not touch it).
    """

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async def current() -> str | None:
        engine = create_engine(url, connect_args=connect_args)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(read)
        finally:
            await engine.dispose()

    with _explained(url):
        _probe_sqlite(url)
        revision = asyncio.run(current())
    scripts = _scripts()
    if revision is not None and revision not in {script.revision for script in scripts.walk_revisions()}:
        raise DatabaseUnavailable(
            f"{describe(url)} is at revision {revision}, which this version of Unstuck does not know: "
            "a newer version migrated it.\nRun that newer version, or restore the backup taken before "
            "it migrated the database."
        )
    return revision, scripts.get_current_head()


def _probe_sqlite(url: str) -> None:
    """Open an SQLite file with the standard library first, so an unusable one fails cleanly.

    aiosqlite's failed connect leaves its worker thread racing the closing event loop, which
    prints a thread traceback; sqlite3 raises a plain error that :func:`explain` recognises.
    """
    path = sqlite_file(url)
    if path is None:
        return
    ensure_sqlite_directory(url)
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA schema_version")
    finally:
        connection.close()


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


@contextmanager
def _explained(url: str) -> Iterator[None]:
    """Turn a connection failure the person can fix into :class:`DatabaseUnavailable`."""
    try:
        yield
    except DatabaseUnavailable:
        raise
    except Exception as error:
        problem = explain(error, url)
        if problem is None:
            raise
        raise problem from error


class SchemaOutOfDate(RuntimeError):
    """The database needs ``unstuck db upgrade`` before the bot may use it."""


async def prepare_schema(db: Database, *, auto_upgrade: bool) -> None:
    """Make sure the schema is current: upgrade it (SQLite) or refuse to start (PostgreSQL).

    Upgrading an SQLite file that holds data first copies it beside itself; both the copy and
    the migration are logged in one line each.
    """
    if auto_upgrade:
        done = await asyncio.to_thread(upgrade, db.url, db.connect_args)
        for line in (done.backup_note(), done.summary() if done.changed else None):
            if line:
                log.info("%s", line)
        return
    current, head = await asyncio.to_thread(current_and_head, db.url, db.connect_args)
    if current != head:
        where = f"is at revision {current}" if current else "has no tables yet"
        raise SchemaOutOfDate(
            f"The database {describe(db.url)} {where}, and this version of Unstuck needs {head}.\n"
            "Run `unstuck db upgrade`, then start the bot again."
        )
