"""Database problems told apart: the ones a person must fix, and the ones that pass by themselves.

Connecting is where a new set-up goes wrong: the server is not running, the database was never
created, the password has a typo, the SQLite folder is not writable.  The drivers report these as
long exception chains; :func:`explain` recognises them, and :class:`DatabaseUnavailable` carries
two lines: what is wrong, and what to do.

While running, other failures pass by themselves: another writer holds SQLite's lock past the busy
timeout, PostgreSQL restarts or drops a connection, a transaction loses a serialization race.
:func:`is_transient` recognises those, so that the work can be tried again instead of lost.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import exc
from sqlalchemy.engine import URL, make_url

POSTGRES_PORT = 5432


class DatabaseUnavailable(RuntimeError):
    """The database cannot be used as configured; ``str()`` says why and what to do."""


def sqlite_file(url: str) -> Path | None:
    """The absolute path of an SQLite database file, or ``None`` (in memory, or not SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser().absolute()


def describe(url: str) -> str:
    """The database as a person knows it: the SQLite file's path, or the URL without its password."""
    path = sqlite_file(url)
    if path is not None:
        return str(path)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return "the in-memory SQLite database"
    return parsed.render_as_string(hide_password=True)


def explain(error: BaseException, url: str) -> DatabaseUnavailable | None:
    """A :class:`DatabaseUnavailable` for a recognised connection problem with ``url``, else ``None``."""
    parsed = make_url(url)
    for cause in _causes(error):
        if parsed.get_backend_name() == "sqlite":
            text = _sqlite_problem(cause, url)
        else:
            text = _postgres_problem(cause, parsed)
        if text:
            return DatabaseUnavailable(text)
    return None


#: SQLite's words for "another connection holds the lock" and for I/O that may work next time.
SQLITE_PASSING = ("database is locked", "database table is locked", "busy", "disk i/o error")
#: SQLAlchemy's own errors for a connection lost, refused, or not handed out in time by the pool.
SQLALCHEMY_PASSING = (exc.DisconnectionError, exc.TimeoutError, exc.InterfaceError)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is a database failure that trying the same work again later may cure.

    Locks held too long, connections dropped or refused, a server shutting down, a serialization
    or deadlock loss. Not: constraint violations, bad SQL, a missing table (retrying changes nothing).
    """
    return any(_passes(cause) for cause in _causes(error))


def _passes(error: BaseException) -> bool:
    if isinstance(error, SQLALCHEMY_PASSING):
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sqlite3.OperationalError):
        return any(words in str(error).lower() for words in SQLITE_PASSING)
    if isinstance(error, ConnectionError):  # refused or reset while connecting to the server
        return True
    return _postgres_passes(error)


def _postgres_passes(error: BaseException) -> bool:
    try:
        import asyncpg
    except ImportError:  # PostgreSQL support not installed: no asyncpg error can occur either
        return False
    passing = (
        asyncpg.PostgresConnectionError,  # connection lost, refused, or the server shutting down
        asyncpg.CannotConnectNowError,
        asyncpg.TooManyConnectionsError,
        asyncpg.AdminShutdownError,
        asyncpg.CrashShutdownError,
        asyncpg.SerializationError,
        asyncpg.DeadlockDetectedError,
    )
    if isinstance(error, passing):
        return True
    text = str(error).lower()
    if isinstance(error, asyncpg.ObjectNotInPrerequisiteStateError):
        # The database was closed to connections for a while (ALTER DATABASE ... ALLOW_CONNECTIONS
        # false, as during maintenance); the same class also means "cannot drop ...", which is not.
        return "not currently accepting connections" in text
    if isinstance(error, asyncpg.InternalClientError):
        # A pooled connection the server ended in the middle of an operation; a fresh one works.
        return "another operation" in text
    return isinstance(error, asyncpg.InterfaceError) and "connection" in text


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything behind it: ``__cause__``, ``__context__`` and SQLAlchemy's ``orig``."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for behind in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(behind, BaseException):
                pending.append(behind)


def _sqlite_problem(error: BaseException, url: str) -> str | None:
    """Two lines for an SQLite file that cannot be opened or is not a database."""
    where = describe(url)
    if isinstance(error, OSError):  # creating the database's folder failed
        reason = error.strerror or type(error).__name__
        return (
            f"Cannot create the SQLite database {where} ({reason}).\n"
            "Check that its folder can be created and written by this user, or fix database.url."
        )
    if not isinstance(error, sqlite3.DatabaseError):
        return None
    message = str(error)
    if "unable to open database file" in message:
        return (
            f"Cannot open the SQLite database {where}.\n"
            "Check that its folder exists and that this user may write there, or fix database.url."
        )
    if "file is not a database" in message:
        return (
            f"{where} is not an SQLite database.\n"
            "Point database.url at the right file, or move this one away to start with a new database."
        )
    if "readonly" in message:
        return (
            f"The SQLite database {where} is read-only for this user.\n"
            "Give this user write access to the file and its folder."
        )
    return None


def _postgres_problem(error: BaseException, url: URL) -> str | None:
    """Two lines for a PostgreSQL server that is unreachable or refuses the login or database."""
    import asyncpg

    server = f"{url.host or 'localhost'}:{url.port or POSTGRES_PORT}"
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return (
            f'The database "{url.database}" does not exist on the PostgreSQL server at {server}.\n'
            f"Create it (createdb {url.database}) or fix the database name in database.url."
        )
    if isinstance(error, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):
        return (
            f'The PostgreSQL server at {server} refused to log in user "{url.username}".\n'
            "Check the user name and password in database.url."
        )
    if isinstance(error, socket.gaierror):
        return (
            f'Cannot find the database host "{url.host}".\n'
            "Check the host name in database.url (and that this machine can resolve it)."
        )
    if isinstance(error, TimeoutError):
        return (
            f"The PostgreSQL server at {server} did not answer in time.\n"
            "Check that it is running and that no firewall blocks the port."
        )
    if isinstance(error, OSError):
        return (
            f"Cannot connect to PostgreSQL at {server}: is the server running?\n"
            "Start it, or fix the host and port in database.url."
        )
    return None
