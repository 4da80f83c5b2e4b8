"""Database outages for the chaos benchmark, made the way they happen, not mocked in the bot.

PostgreSQL really goes away: the database stops taking connections and every session of the bot is
terminated, then it comes back. SQLite has no server to stop, so the bot process (the benchmark's
child, never the bot's own code) refuses every write for the outage, as a disk or lock fault does:
``sqlite3.OperationalError`` from the driver, wrapped by SQLAlchemy like a real one.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

WRITES = ("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE")


def refuse_sqlite_writes(engine: AsyncEngine, seconds: float) -> None:
    """From now on for ``seconds``, every write statement on ``engine`` fails as if the disk refused it."""
    until = time.monotonic() + seconds

    def refuse(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if time.monotonic() < until and statement.lstrip().upper().startswith(WRITES):
            raise sqlite3.OperationalError("database is locked")

    event.listen(engine.sync_engine, "before_cursor_execute", refuse)
    asyncio.get_running_loop().call_later(
        seconds, event.remove, engine.sync_engine, "before_cursor_execute", refuse
    )


async def postgres_outage(admin_url: str, database: str, seconds: float) -> None:
    """Take ``database`` away for ``seconds``: no new connections, every open one terminated."""
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
        await asyncio.sleep(seconds)
    finally:
        await conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        await conn.close()
