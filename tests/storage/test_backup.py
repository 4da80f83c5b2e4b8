"""SQLite backups: consistent while the bot writes, never overwriting, and taken before a migration."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.backup import BackupError, backup_sqlite, next_free_name
from storage.engine import Database
from storage.migrate import current_and_head, prepare_schema, upgrade
from tests.conftest import off_loop


def rows(path: Path) -> list[int]:
    with sqlite3.connect(path) as connection:
        return [n for (n,) in connection.execute("SELECT n FROM notes ORDER BY n")]


@pytest.fixture
async def notes_db(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'live.db'}")
    async with db.session() as session:
        await session.execute(text("CREATE TABLE notes (n INTEGER)"))
        await session.execute(text("INSERT INTO notes VALUES (1)"))
    yield db
    await db.dispose()


async def test_a_backup_taken_while_the_bot_writes_holds_only_committed_data(
    notes_db: Database, tmp_path: Path
) -> None:
    source = tmp_path / "live.db"
    async with notes_db.session() as writer:
        await writer.execute(text("INSERT INTO notes VALUES (2)"))
        # The write transaction is open and holds the lock: the backup neither waits nor sees it.
        await asyncio.wait_for(asyncio.to_thread(backup_sqlite, source, tmp_path / "during.db"), timeout=10)
    await asyncio.to_thread(backup_sqlite, source, tmp_path / "after.db")
    assert rows(tmp_path / "during.db") == [1]
    assert rows(tmp_path / "after.db") == [1, 2]


async def test_a_backup_never_overwrites_a_file(notes_db: Database, tmp_path: Path) -> None:
    target = tmp_path / "precious.db"
    target.write_text("keep me")
    with pytest.raises(BackupError, match="already exists"):
        await asyncio.to_thread(backup_sqlite, tmp_path / "live.db", target)
    assert target.read_text() == "keep me"
    assert await asyncio.to_thread(lambda: list(tmp_path.glob("*partial*"))) == []


def test_a_missing_database_or_folder_is_explained(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="There is no SQLite database at"):
        backup_sqlite(tmp_path / "absent.db", tmp_path / "copy.db")
    (tmp_path / "real.db").write_bytes(b"")
    with pytest.raises(BackupError, match="does not exist: create it first"):
        backup_sqlite(tmp_path / "real.db", tmp_path / "no" / "copy.db")


def test_a_file_that_is_not_a_database_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("this is not a database, " * 100)
    with pytest.raises(BackupError, match="Could not back up"):
        backup_sqlite(tmp_path / "notes.txt", tmp_path / "copy.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_next_free_name_counts_up_beside_the_file(tmp_path: Path) -> None:
    first = tmp_path / "unstuck.db.before-0007.bak"
    assert next_free_name(first) == first
    first.touch()
    assert next_free_name(first).name == "unstuck.db.before-0007.2.bak"


async def test_start_up_backs_up_an_sqlite_file_before_migrating_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "unstuck.db"
    url = f"sqlite+aiosqlite:///{path}"
    off_loop(upgrade, url, None, "0005")
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO guilds (id, settings, created_at) VALUES (7, '{}', '2026-01-05')")
    head = off_loop(current_and_head, url)[1]

    db = Database(url)
    with caplog.at_level(logging.INFO, logger="storage.migrate"):
        await prepare_schema(db, auto_upgrade=True)
    await db.dispose()

    backup = tmp_path / f"unstuck.db.before-{head}.bak"
    with sqlite3.connect(backup) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [("0005",)]
        assert connection.execute("SELECT id FROM guilds").fetchall() == [(7,)]
    assert f"Backed up {path} to {backup} before migrating it." in caplog.messages
    assert f"Migrated {path} from 0005 to {head}." in caplog.messages


def test_a_current_or_new_database_is_not_backed_up(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'unstuck.db'}"
    created = off_loop(upgrade, url)
    again = off_loop(upgrade, url)
    assert (created.created, created.backup, again.changed, again.backup) == (True, None, False, None)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".bak") == []
