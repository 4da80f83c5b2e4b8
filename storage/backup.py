"""Consistent copies of an SQLite database, safe to take while the bot is running.

``VACUUM INTO`` reads the database in one transaction, so the copy is a snapshot of committed data
even while the bot writes (in WAL mode a reader neither waits for the writer nor holds it up).  The
copy is written under a temporary name and linked into place, so a backup never overwrites a file
and an interrupted one never leaves a half-written file under the name asked for.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from storage.engine import SQLITE_BUSY_TIMEOUT_MS


class BackupError(Exception):
    """No backup was made; ``str()`` says why in words a person can act on."""


def backup_sqlite(source: Path, target: Path) -> None:
    """Copy the SQLite database ``source`` to the new file ``target`` as one consistent snapshot."""
    if not source.is_file():
        raise BackupError(f"There is no SQLite database at {source}: nothing to back up.")
    if target.exists():
        raise BackupError(f"{target} already exists: a backup never overwrites a file, choose another name.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist: create it first.")
    handle, partial_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    partial = Path(partial_name)
    partial.chmod(source.stat().st_mode & 0o777)  # as readable as the database, no more, no less
    try:
        _vacuum_into(source, partial)
        _place(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def next_free_name(path: Path) -> Path:
    """``path`` itself if it does not exist, else ``name.2.ext``, ``name.3.ext``… beside it."""
    candidate, number = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}.{number}{path.suffix}")
        number += 1
    return candidate


def _vacuum_into(source: Path, partial: Path) -> None:
    """Write a snapshot of ``source`` into the empty file ``partial``."""
    connection = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        connection.execute("VACUUM INTO ?", (str(partial),))
    except sqlite3.DatabaseError as error:
        raise BackupError(f"Could not back up {source}: {error}.") from error
    finally:
        connection.close()


def _place(partial: Path, target: Path) -> None:
    """Give the finished copy its name, failing rather than replacing a file that appeared meanwhile."""
    try:
        os.link(partial, target)
    except FileExistsError:
        raise BackupError(f"{target} already exists: a backup never overwrites a file.") from None
    except OSError:
        # Some file systems (network shares, FAT) have no hard links: check, then rename.
        if target.exists():
            raise BackupError(f"{target} already exists: a backup never overwrites a file.") from None
        partial.rename(target)
