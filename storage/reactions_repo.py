"""The solved-emoji reactions the bot has handled, so a restart can diff them against Discord."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SolutionReaction
from storage.repositories import insert_ignoring_duplicates


class ReactionRepo:
    """The solved-emoji reactions the bot has handled, per thread (what it believes Discord shows)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, thread_id: int, message_id: int, user_id: int, emoji: str) -> bool:
        return await insert_ignoring_duplicates(
            self.session,
            SolutionReaction,
            {"thread_id": thread_id, "message_id": message_id, "user_id": user_id, "emoji": emoji},
        )

    async def remove(self, message_id: int, user_id: int, emoji: str) -> bool:
        result = await self.session.execute(
            delete(SolutionReaction).where(
                SolutionReaction.message_id == message_id,
                SolutionReaction.user_id == user_id,
                SolutionReaction.emoji == emoji,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def on_message(self, message_id: int, emoji: str | None = None) -> bool:
        """Whether any handled reaction (of ``emoji``, or any) is on the message."""
        query = select(SolutionReaction.message_id).where(SolutionReaction.message_id == message_id)
        if emoji is not None:
            query = query.where(SolutionReaction.emoji == emoji)
        return (await self.session.scalars(query.limit(1))).first() is not None

    async def forget_message(self, message_id: int, emoji: str | None = None) -> int:
        """Forget the reactions on a message (of one emoji, or all): cleared or deleted on Discord."""
        query = delete(SolutionReaction).where(SolutionReaction.message_id == message_id)
        if emoji is not None:
            query = query.where(SolutionReaction.emoji == emoji)
        result = await self.session.execute(query)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def for_thread(self, thread_id: int, emoji: str) -> set[tuple[int, int]]:
        rows = await self.session.execute(
            select(SolutionReaction.message_id, SolutionReaction.user_id).where(
                SolutionReaction.thread_id == thread_id, SolutionReaction.emoji == emoji
            )
        )
        return {(message, user) for message, user in rows.tuples()}
