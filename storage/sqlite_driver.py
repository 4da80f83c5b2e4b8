"""SQLite through aiosqlite with one thread hop per statement.

aiosqlite runs each SQLite connection in a thread of its own and hands it every call. SQLAlchemy's
adapter makes four calls per statement (open a cursor, execute, fetch the rows, close the cursor),
so a statement costs four round trips between the event loop and that thread; on a busy loop each
one waits for its turn. SQLite holds one writer at a time, so while a write transaction waits for
the loop, every other writer waits too. This adapter does the same four steps in one call in the
connection's thread: the same statements, in the same order, on the same connection, with one
round trip.

It relies on aiosqlite's ``Connection._execute`` (run a function in the connection's thread); an
aiosqlite without it gets SQLAlchemy's own adapter, which works the same, only slower.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from threading import Thread
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_only

_Result = tuple[Any, list[Any] | None, int | None, int]


def _run(connection: aiosqlite.Connection, operation: str, parameters: Any) -> _Result:
    """Execute one statement and read its rows: runs in the connection's own thread."""
    cursor = connection._conn.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


def _run_many(connection: aiosqlite.Connection, operation: str, parameters: Any) -> tuple[int | None, int]:
    cursor = connection._conn.cursor()
    try:
        cursor.executemany(operation, parameters)
        return cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor, one round trip to the connection's thread per statement."""

    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            description, rows, lastrowid, rowcount = self.await_(
                self._connection._execute(_run, self._connection, operation, parameters)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        if description:
            self.description = description
            self.lastrowid = self.rowcount = -1
            self._rows = deque(rows or ())
        else:
            self.description = None
            self.lastrowid = lastrowid
            self.rowcount = rowcount

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            lastrowid, rowcount = self.await_(
                self._connection._execute(_run_many, self._connection, operation, seq_of_parameters)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = None
        self.lastrowid = lastrowid
        self.rowcount = rowcount


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return super().cursor(server_side=True)
        return OneHopCursor(self)


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect is given (``create_engine(module=...)``)."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        if kw.get("async_fallback") or kw.get("async_creator_fn"):
            return super().connect(*arg, **kw)
        connection = self.aiosqlite.connect(*arg, **kw)
        # As SQLAlchemy does: a forgotten connection's thread can't keep the process from exiting.
        thread = connection if isinstance(connection, Thread) else connection._thread
        thread.daemon = True
        return OneHopConnection(self, await_only(connection))


def one_hop_dbapi() -> AsyncAdapt_aiosqlite_dbapi | None:
    """The one-hop adapter, or ``None`` when this aiosqlite lacks what it needs."""
    if not callable(getattr(aiosqlite.Connection, "_execute", None)):
        return None
    if not hasattr(aiosqlite.Connection, "_conn"):
        return None
    return OneHopDBAPI(aiosqlite, sqlite3)
