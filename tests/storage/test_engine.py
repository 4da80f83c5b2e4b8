"""The SQLite engine set-up: readers never wait for the writer, writers of one process take turns."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from storage.engine import Database


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}")
    async with db.session() as session:
        await session.execute(text("CREATE TABLE notes (n INTEGER)"))
    yield db
    await db.dispose()


async def count(db: Database) -> int:
    async with db.reading() as session:
        return int((await session.execute(text("SELECT count(*) FROM notes"))).scalar_one())


async def test_a_reader_sees_the_last_commit_while_a_writer_holds_the_lock(sqlite_db: Database) -> None:
    async with sqlite_db.session() as writer:
        await writer.execute(text("INSERT INTO notes VALUES (1)"))
        # Within a second: a reader queued behind the writer would wait out the busy timeout.
        assert await asyncio.wait_for(count(sqlite_db), timeout=1) == 0
    assert await count(sqlite_db) == 1


async def test_writers_of_one_process_take_turns_without_errors(sqlite_db: Database) -> None:
    async def write(n: int) -> None:
        async with sqlite_db.session() as session:
            await session.execute(text("INSERT INTO notes VALUES (:n)"), {"n": n})
            await asyncio.sleep(0)  # hand the loop to the others mid-transaction

    await asyncio.gather(*(write(n) for n in range(50)))
    assert await count(sqlite_db) == 50


async def test_a_write_inside_a_write_fails_at_once_instead_of_waiting_for_itself(
    sqlite_db: Database,
) -> None:
    async with sqlite_db.session():
        with pytest.raises(RuntimeError, match="wait for itself"):
            async with sqlite_db.session():
                pass


async def test_each_task_counts_only_its_own_commits(sqlite_db: Database) -> None:
    """A failed command may run again only while it has committed nothing (bot.app)."""
    from storage.engine import commits_so_far

    async def one_task() -> tuple[int, int, int, int]:
        start = commits_so_far()
        async with sqlite_db.reading() as session:
            await session.execute(text("SELECT 1"))
        after_read = commits_so_far()
        with pytest.raises(RuntimeError):
            async with sqlite_db.session() as session:
                await session.execute(text("INSERT INTO notes VALUES (2)"))
                raise RuntimeError("rolled back")
        after_rollback = commits_so_far()
        async with sqlite_db.session() as session:
            await session.execute(text("INSERT INTO notes VALUES (3)"))
        return start, after_read, after_rollback, commits_so_far()

    before = commits_so_far()
    first = await asyncio.create_task(one_task())
    assert first == (before, before, before, before + 1)
    second = await asyncio.create_task(one_task())
    assert second == first  # the other task's commit is not counted in this one


async def test_a_command_runs_again_after_a_discord_blip_only_while_it_changed_nothing(
    sqlite_db: Database,
) -> None:
    from types import SimpleNamespace

    import discord

    from bot.app import COMMITS_AT_START, _may_run_again
    from bot.services.port_errors import Unavailable
    from storage.engine import commits_so_far

    async def command() -> list[bool]:
        interaction: Any = SimpleNamespace(extras={COMMITS_AT_START: commits_so_far()})
        seen = [_may_run_again(interaction, Unavailable("Discord answered 503"))]
        seen.append(_may_run_again(interaction, ValueError("a bug is not a blip")))
        async with sqlite_db.session() as session:
            await session.execute(text("INSERT INTO notes VALUES (4)"))
        seen.append(_may_run_again(interaction, Unavailable("Discord answered 503")))
        seen.append(_may_run_again(interaction, discord.ClientException("neither")))
        return seen

    assert await asyncio.create_task(command()) == [True, False, False, False]
