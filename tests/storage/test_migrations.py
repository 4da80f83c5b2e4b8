"""Migrations upgrade a database that already holds data, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from storage.engine import Database
from storage.migrate import current_and_head, upgrade


async def _fill_first_schema(db: Database) -> None:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    async with db.session() as session:
        await session.execute(
            text("INSERT INTO guilds (id, settings, created_at) VALUES (1, '{}', :now)"), {"now": now}
        )
        await session.execute(
            text(
                "INSERT INTO help_threads (id, guild_id, channel_id, kind, asker_id, title, question, state,"
                " created_at, last_activity_at, dormant_note_pending, starter_deleted, deleted)"
                " VALUES (5, 1, 2, 'forum', 3, 'title', 'question', 'open', :now, :now, false, false, false)"
            ),
            {"now": now},
        )
        await session.execute(
            text(
                "INSERT INTO help_threads (id, guild_id, channel_id, kind, asker_id, title, question, state,"
                " created_at, last_activity_at, dormant_note_pending, starter_deleted, deleted)"
                " VALUES (6, 1, 2, 'forum', 3, 'idle', 'q', 'dormant', :now, :now, false, false, false)"
            ),
            {"now": now},
        )


async def _check_upgrade(url: str, connect_args: dict[str, object]) -> None:
    await asyncio.to_thread(upgrade, url, connect_args, "0001")
    db = Database(url, connect_args=connect_args)
    try:
        await _fill_first_schema(db)
        await asyncio.to_thread(upgrade, url, connect_args)
        current, head = await asyncio.to_thread(current_and_head, url, connect_args)
        assert current == head
        async with db.session() as session:
            rows = await session.execute(
                text("SELECT state, origin, archived_on_discord FROM help_threads ORDER BY id")
            )
        # The bot archived its dormant threads; an open one is looked at by the next start-up.
        assert [tuple(row) for row in rows] == [
            ("open", "live", False),
            ("dormant", "live", True),
        ]
    finally:
        await db.dispose()


async def _fill_owed_work(db: Database) -> None:
    """Schema 0007: work owed through the outbox, the note markers and the sync flag."""
    now = datetime(2026, 11, 30, tzinfo=UTC)
    columns = (
        "id, guild_id, channel_id, kind, asker_id, title, question, state, created_at, last_activity_at,"
        " starter_deleted, deleted, origin, archived_on_discord, welcome_message_id, dormant_note_pending,"
        " discord_sync_pending, solved_note_message_id"
    )
    threads = [
        "(10, 1, 2, 'forum', 3, 'welcomed', 'q', 'open', :now, :now, false, false, 'live', false, 70,"
        " false, false, NULL)",
        "(11, 1, 2, 'forum', 3, 'never welcomed', 'q', 'open', :now, :now, false, false, 'live', false,"
        " NULL, false, false, NULL)",
        "(12, 1, 2, 'forum', 3, 'resting', 'q', 'dormant', :now, :now, false, false, 'live', false, 72,"
        " true, false, NULL)",
        "(13, 1, 2, 'text', 3, 'unmarked', 'q', 'open', :now, :now, false, false, 'live', false, 73,"
        " false, true, 93)",
        "(14, 1, 2, 'text', 3, 'solved', 'q', 'solved', :now, :now, false, false, 'live', false, 74,"
        " false, false, 94)",
    ]
    async with db.session() as session:
        await session.execute(
            text("INSERT INTO guilds (id, settings, created_at) VALUES (1, '{}', :now)"), {"now": now}
        )
        for values in threads:
            await session.execute(text(f"INSERT INTO help_threads ({columns}) VALUES {values}"), {"now": now})
        await session.execute(
            text(
                "INSERT INTO outbox (key, guild_id, channel_id, content, links, archive_after, created_at,"
                " sent_message_id) VALUES ('i1', 1, 10, 'Closed.', NULL, true, :now, NULL),"
                " ('i2', 1, 10, 'Reopened.', NULL, false, :now, 5)"
            ),
            {"now": now},
        )


async def _check_owed_work_moves(url: str, connect_args: dict[str, object]) -> None:
    await asyncio.to_thread(upgrade, url, connect_args, "0007")
    db = Database(url, connect_args=connect_args)
    try:
        await _fill_owed_work(db)
        await asyncio.to_thread(upgrade, url, connect_args)
        async with db.session() as session:
            rows = await session.execute(
                text("SELECT key, channel_id, kind, status, result FROM owed_actions ORDER BY key")
            )
            owed = [tuple(row) for row in rows]
            payload = await session.scalar(text("SELECT payload FROM owed_actions WHERE key = 'i1'"))
        assert owed == [
            ("a10", 10, "appearance", "pending", None),  # archived after its close note
            ("a12", 12, "appearance", "pending", None),  # dormant: archived after its note
            ("a13", 13, "appearance", "pending", 93),  # its look lagged; its "Solved" note is edited
            ("a14", 14, "appearance", "done", 94),  # nothing owed, but its note is known
            ("d12", 12, "send", "pending", None),
            ("i1", 10, "send", "pending", None),  # the unsent outbox message, not the sent one
            ("w11", 11, "send", "pending", None),
        ]
        assert "Closed." in str(payload)
    finally:
        await db.dispose()


async def test_owed_work_moves_to_owed_actions_on_sqlite(tmp_path: Path) -> None:
    await _check_owed_work_moves(f"sqlite+aiosqlite:///{tmp_path / 'owed.db'}", {})


async def test_owed_work_moves_to_owed_actions_on_postgres(
    empty_postgres_schema: tuple[str, dict[str, object]],
) -> None:
    await _check_owed_work_moves(*empty_postgres_schema)


async def test_upgrading_a_populated_sqlite_database(tmp_path: Path) -> None:
    await _check_upgrade(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}", {})


async def test_upgrading_a_populated_postgres_database(
    empty_postgres_schema: tuple[str, dict[str, object]],
) -> None:
    await _check_upgrade(*empty_postgres_schema)
