"""Database faults for e2e tests: the bot's own engine refuses work, the way real outages do.

Nothing of discord.py is touched: a SQLAlchemy ``before_cursor_execute`` listener on the bot's
engine raises what the driver raises in a real outage, for as long as the test keeps it open.

- SQLite: writes fail with "database is locked" (another process held the lock past the busy
  timeout); reads still work, as they do in WAL mode.
- PostgreSQL: the bot's open connections are terminated by the server, and every statement fails
  with asyncpg's "connection was closed" until the outage ends (the server restarting).
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import Database
from tests.conftest import _run_sql, _truncate
from tests.e2e.harness import handlers_finished

# What takes SQLite's write lock (BEGIN IMMEDIATE is how every write transaction starts).
SQLITE_WRITES = ("BEGIN IMMEDIATE", "INSERT", "UPDATE", "DELETE")


class DatabaseOutage:
    """While open, the engine refuses statements; counts what it refused."""

    def __init__(self, engine: AsyncEngine, admin_url: str | None = None) -> None:
        self.engine = engine.sync_engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.admin_url = admin_url  # PostgreSQL: a superuser's URL, to end the bot's connections
        self.is_open = False
        self.refused = 0
        self._refusal = asyncio.Event()
        event.listen(self.engine, "before_cursor_execute", self._check)

    def _check(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not self.is_open:
            return
        if self.sqlite:
            if not statement.lstrip().upper().startswith(SQLITE_WRITES):
                return
            self._refuse()
            raise sqlite3.OperationalError("database is locked")
        self._refuse()
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    def _refuse(self) -> None:
        self.refused += 1
        self._refusal.set()  # the listener runs on the event loop's thread (SQLAlchemy's greenlets)

    def open(self) -> None:
        self.refused = 0
        self._refusal.clear()
        self.is_open = True

    def close(self) -> None:
        self.is_open = False

    async def drop_connections(self) -> None:
        """PostgreSQL: the server ends every connection of the bot's role (pooled ones included)."""
        if self.sqlite or self.admin_url is None:
            return
        role = self.engine.url.username
        await _run_sql(
            self.admin_url,
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'",
        )

    async def refused_something(self, timeout: float = 10.0) -> None:
        """Wait until the open outage refused at least one statement (the bot tried and failed)."""
        await asyncio.wait_for(self._refusal.wait(), timeout)

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._check)


async def during_outage(outage: DatabaseOutage, act: Callable[[], Awaitable[object]]) -> None:
    """Do ``act`` while the database is down; bring it back once the bot has been refused, then
    wait until the bot's handlers are done (the retries succeeded, without a restart)."""
    outage.open()
    try:
        await outage.drop_connections()
        await act()
        await outage.refused_something()
    finally:
        outage.close()
    await handlers_finished()


@asynccontextmanager
async def postgres_role_url(postgres_schema: tuple[str, dict[str, object]]) -> AsyncIterator[str]:
    """A URL whose role sees only this run's (emptied) schema: the bot reads only a URL."""
    url, connect_args = postgres_schema
    db = Database(url, connect_args=connect_args)
    try:
        await _truncate(db)
    finally:
        await db.dispose()
    schema = connect_args["server_settings"]["search_path"]  # type: ignore[index]
    role = f"unstuck_role_{uuid.uuid4().hex[:8]}"
    await _run_sql(url, f"CREATE ROLE {role} LOGIN")
    for statement in (
        f"ALTER ROLE {role} SET search_path TO {schema}",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
    ):
        await _run_sql(url, statement)
    try:
        yield make_url(url).set(username=role, password=None).render_as_string(hide_password=False)
    finally:
        await _run_sql(url, f"DROP OWNED BY {role}")
        await _run_sql(url, f"DROP ROLE {role}")
