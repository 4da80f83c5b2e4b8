"""Engine and session set-up, and the schema check at start-up.

SQLite runs in WAL mode with a busy timeout and foreign keys on; every SQLite write transaction
starts with ``BEGIN IMMEDIATE`` so that two writers queue on the busy timeout instead of failing with
"database is locked" when a reader tries to upgrade its lock. Read-only work uses
:meth:`Database.reading`, a plain ``BEGIN``: in WAL mode readers neither wait for the writer nor
hold it up, which is what keeps the handler latency low under load.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger(__name__)

#: Write transactions committed in the current asyncio task. A command that Discord failed may be
#: run again only while it has changed nothing (bot.app); each task has its own count.
_COMMITS: ContextVar[int] = ContextVar("unstuck_commits", default=0)

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_POOL_SIZE = 20


def commits_so_far() -> int:
    """How many write transactions the current task has committed (see ``_COMMITS``)."""
    return _COMMITS.get()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook below decide when transactions start.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = "unstuck_read_only"


def _sqlite_begin(conn: Any) -> None:
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def ensure_sqlite_directory(url: str) -> None:
    """Create the folder of an SQLite file so a fresh checkout needs no manual step."""
    from storage.errors import explain

    database = make_url(url).database
    if database and database != ":memory:":
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise explain(error, url) or error from error


def create_engine(url: str, *, echo: bool = False, connect_args: dict[str, Any] | None = None) -> AsyncEngine:
    """An async engine for ``url`` with the project's SQLite settings applied."""
    args = dict(connect_args or {})
    if is_sqlite(url):
        ensure_sqlite_directory(url)
        args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        # Enough pooled connections for the concurrent readers of a busy bot: a connection beyond
        # the pool is closed after use, and opening one (a thread, the file, the pragmas) is slow.
        in_memory = make_url(url).database in (None, "", ":memory:")  # one shared connection
        pool = {} if in_memory else {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE}
        engine = create_async_engine(url, echo=echo, connect_args=args, **pool)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(url, echo=echo, connect_args=args, pool_pre_ping=True)


class Database:
    """The engine plus a session factory; ``async with db.session() as s`` commits on success."""

    def __init__(self, url: str, *, echo: bool = False, connect_args: dict[str, Any] | None = None) -> None:
        self.url = url
        self.connect_args = connect_args or {}
        self.engine = create_engine(url, echo=echo, connect_args=connect_args)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._readers = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        # SQLite has one writer at a time. Writers of this process queue here, woken the moment the
        # previous one commits, instead of polling in SQLite's busy handler (which sleeps 1, 2, 5,
        # 10 ms ...); the busy timeout still arbitrates between processes.
        self._write_turn = asyncio.Lock() if is_sqlite(url) else None
        self._writing: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        if self._write_turn is None:
            async with self._sessions() as session, session.begin():
                yield session
            _COMMITS.set(_COMMITS.get() + 1)
            return
        me = asyncio.current_task()
        if self._writing is me:
            raise RuntimeError("a write transaction inside another one would wait for itself on SQLite")
        async with self._write_turn:
            self._writing = me
            try:
                async with self._sessions() as session, session.begin():
                    yield session
            finally:
                self._writing = None
            _COMMITS.set(_COMMITS.get() + 1)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work (never write in it: on SQLite it does not hold the write lock)."""
        async with self._readers() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
