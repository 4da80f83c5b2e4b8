"""Similar threads: what the index holds, what a suggestion shows, answer reuses, backfill progress."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, delete, false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import BackfillProgress, HelpThread, Solution, ThreadReuse
from storage.repositories import insert_ignoring_duplicates

#: ``solutions.via`` of a thread closed as a duplicate of an earlier one: it repeats that thread's
#: answer, so it is never indexed or suggested itself (the original is).
REUSE_VIA = "reuse"


class IndexedThread(NamedTuple):
    thread_id: int
    guild_id: int
    channel_id: int
    title: str
    question: str
    answer: str


class SolvedCard(NamedTuple):
    """What a suggestion shows about a solved thread."""

    thread_id: int
    guild_id: int
    channel_id: int
    title: str
    answer_message_id: int | None
    answer: str
    solved_at: datetime
    helped: int  # later threads it solved ("This solved it")


def _indexable() -> Select[Any]:
    return (
        select(
            HelpThread.id,
            HelpThread.guild_id,
            HelpThread.channel_id,
            HelpThread.title,
            HelpThread.question,
            Solution.answer,
        )
        .join(Solution, Solution.thread_id == HelpThread.id)
        # A forgotten asker's thread has no title left: nothing of it is suggested.
        .where(HelpThread.deleted == false(), Solution.via != REUSE_VIA, HelpThread.title != "")
    )


class SimilarRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- the index --------------------------------------------------------------------------

    async def indexable(self, owned: ColumnElement[bool]) -> list[IndexedThread]:
        """Every solved thread of the guilds this process owns (the start-up build)."""
        rows = await self.session.execute(_indexable().where(owned).order_by(HelpThread.id))
        return [IndexedThread(*row) for row in rows.tuples()]

    async def indexable_one(self, thread_id: int) -> IndexedThread | None:
        """The thread as the index should hold it, or ``None`` when it belongs out of the index."""
        row = (await self.session.execute(_indexable().where(HelpThread.id == thread_id))).first()
        return IndexedThread(*row) if row else None

    async def cards(self, thread_ids: Collection[int]) -> dict[int, SolvedCard]:
        """Display data of solved threads, by thread id (threads no longer solved are left out)."""
        if not thread_ids:
            return {}
        helped = (
            select(ThreadReuse.source_thread_id, func.count().label("n"))
            .where(ThreadReuse.source_thread_id.in_(list(thread_ids)))
            .group_by(ThreadReuse.source_thread_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(
                HelpThread.id,
                HelpThread.guild_id,
                HelpThread.channel_id,
                HelpThread.title,
                Solution.message_id,
                Solution.answer,
                Solution.marked_at,
                func.coalesce(helped.c.n, 0),
            )
            .join(Solution, Solution.thread_id == HelpThread.id)
            .outerjoin(helped, helped.c.source_thread_id == HelpThread.id)
            .where(HelpThread.id.in_(list(thread_ids)), HelpThread.deleted == false())
        )
        return {row[0]: SolvedCard(*row) for row in rows.tuples()}

    async def update_answer(self, thread_id: int, message_id: int, answer: str) -> bool:
        """The accepted answer was edited: keep its text current; False if it is not the answer."""
        result = await self.session.execute(
            update(Solution)
            .where(Solution.thread_id == thread_id, Solution.message_id == message_id)
            .values(answer=answer)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # ---- reuses -----------------------------------------------------------------------------

    async def reuse_of(self, thread_id: int) -> ThreadReuse | None:
        return await self.session.get(ThreadReuse, thread_id, populate_existing=True)

    async def add_reuse(self, values: dict[str, Any]) -> bool:
        """Record that an earlier thread solved this one; False if one already did (the key decides)."""
        return await insert_ignoring_duplicates(self.session, ThreadReuse, values)

    async def drop_reuse(self, thread_id: int) -> bool:
        result = await self.session.execute(delete(ThreadReuse).where(ThreadReuse.thread_id == thread_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # ---- backfill ---------------------------------------------------------------------------

    async def tracked_ids(self, guild_id: int, channel_id: int) -> set[int]:
        """Threads of a help channel the bot already knows (an import skips them)."""
        rows = await self.session.scalars(
            select(HelpThread.id).where(HelpThread.guild_id == guild_id, HelpThread.channel_id == channel_id)
        )
        return set(rows.all())

    async def progress(self, guild_id: int, channel_id: int) -> BackfillProgress | None:
        return await self.session.get(BackfillProgress, (guild_id, channel_id), populate_existing=True)

    async def start_progress(self, guild_id: int, channel_id: int, now: datetime) -> BackfillProgress:
        """The channel's progress row, created on first use."""
        await insert_ignoring_duplicates(
            self.session,
            BackfillProgress,
            {
                "guild_id": guild_id,
                "channel_id": channel_id,
                "status": "running",
                "cursor": None,
                "scanned": 0,
                "imported": 0,
                "started_at": now,
                "updated_at": now,
            },
        )
        row = await self.progress(guild_id, channel_id)
        assert row is not None
        return row
