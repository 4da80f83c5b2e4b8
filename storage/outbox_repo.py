"""The outbox: bot messages owed by a committed change, written in the same transaction as it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage
from storage.repositories import insert_ignoring_duplicates


class OutboxRepo:
    """Bot messages written in the same transaction as the change that owes them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        key: str,
        guild_id: int,
        channel_id: int,
        content: str,
        now: datetime,
        *,
        links: list[dict[str, str]] | None = None,
        archive_after: bool = False,
    ) -> bool:
        return await insert_ignoring_duplicates(
            self.session,
            OutboxMessage,
            {
                "key": key,
                "guild_id": guild_id,
                "channel_id": channel_id,
                "content": content,
                "links": links or None,
                "archive_after": archive_after,
                "created_at": now,
            },
        )

    async def get(self, key: str) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, key, populate_existing=True)

    async def unsent(self, guild_id: int) -> Sequence[OutboxMessage]:
        rows = await self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.guild_id == guild_id, OutboxMessage.sent_message_id.is_(None))
            .order_by(OutboxMessage.created_at, OutboxMessage.key)
        )
        return rows.all()

    async def mark_sent(self, key: str, message_id: int) -> None:
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.key == key).values(sent_message_id=message_id)
        )
