"""Which database failures pass by themselves (retried) and which do not (bugs, bad data)."""

from __future__ import annotations

import sqlite3

import asyncpg
from sqlalchemy import exc

from storage.errors import is_transient


def wrapped(error: Exception) -> exc.DBAPIError:
    return exc.OperationalError("INSERT ...", {}, error)


def test_locks_and_lost_connections_pass_by_themselves() -> None:
    assert is_transient(wrapped(sqlite3.OperationalError("database is locked")))
    assert is_transient(sqlite3.OperationalError("database is locked"))
    assert is_transient(asyncpg.ConnectionDoesNotExistError("connection was closed"))
    assert is_transient(asyncpg.CannotConnectNowError("the database system is starting up"))
    assert is_transient(ConnectionRefusedError(111, "Connection refused"))
    assert is_transient(exc.TimeoutError("QueuePool limit reached"))


def test_a_database_closed_to_connections_for_a_while_passes_too() -> None:
    """Both seen in the chaos run when PostgreSQL stopped taking connections for 2 s."""
    closed = asyncpg.ObjectNotInPrerequisiteStateError('database "x" is not currently accepting connections')
    assert is_transient(closed)
    ended = asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress")
    assert is_transient(exc.InternalError("SELECT ...", {}, ended))
    in_use = asyncpg.ObjectNotInPrerequisiteStateError("cannot drop the currently open database")
    assert not is_transient(in_use)


def test_bugs_and_bad_data_do_not() -> None:
    assert not is_transient(wrapped(sqlite3.OperationalError("no such table: help_threads")))
    assert not is_transient(exc.IntegrityError("INSERT ...", {}, sqlite3.IntegrityError("UNIQUE")))
    assert not is_transient(ValueError("a bug"))
