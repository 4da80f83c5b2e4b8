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
                text(
                    "SELECT state, origin, discord_sync_pending, archived_on_discord FROM help_threads"
                    " ORDER BY id"
                )
            )
        # The bot archived its dormant threads; an open one is looked at by the next start-up.
        assert [tuple(row) for row in rows] == [
            ("open", "live", False, False),
            ("dormant", "live", False, True),
        ]
    finally:
        await db.dispose()


async def test_upgrading_a_populated_sqlite_database(tmp_path: Path) -> None:
    await _check_upgrade(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}", {})


async def test_upgrading_a_populated_postgres_database(
    empty_postgres_schema: tuple[str, dict[str, object]],
) -> None:
    await _check_upgrade(*empty_postgres_schema)
