"""Bot messages that must appear exactly once, even if the process dies right after a change.

The message is written to the outbox in the same transaction as the change that owes it, then
sent with its key as the Discord nonce and marked sent. After a crash, start-up sends what is
left; the nonce makes a resend of a message that did go out return the first one instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from storage.engine import Database
from storage.outbox_repo import OutboxRepo


@dataclass(frozen=True)
class NoteLink:
    """A link button under an owed message."""

    label: str
    url: str
    emoji: str = ""


@dataclass(frozen=True)
class Note:
    """A message owed to a channel. ``key`` is unique per reason to post (it is also the nonce).

    ``archive_after`` archives the thread once the message is out: a close note is its last word.
    """

    key: str
    channel_id: int
    content: str
    links: tuple[NoteLink, ...] = ()
    archive_after: bool = False


class OutboxPort(Protocol):
    async def send(
        self, channel_id: int, content: str, nonce: str, links: tuple[NoteLink, ...] = ()
    ) -> int | None:
        """Post it; the message id, or ``None`` when the channel is gone (nothing left to do)."""
        ...

    async def archive(self, thread_id: int) -> None:
        """Archive the thread (nothing when it is gone or archived already)."""
        ...


class OutboxService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def add(self, session: AsyncSession, guild_id: int, note: Note) -> None:
        """Owe ``note`` as part of the caller's transaction."""
        links = [{"label": link.label, "url": link.url, "emoji": link.emoji} for link in note.links]
        await OutboxRepo(session).add(
            note.key,
            guild_id,
            note.channel_id,
            note.content,
            self.clock.now(),
            links=links,
            archive_after=note.archive_after,
        )

    async def send(self, key: str, port: OutboxPort) -> None:
        async with self.db.reading() as session:
            row = await OutboxRepo(session).get(key)
        if row is None or row.sent_message_id is not None:
            return
        links = tuple(NoteLink(**link) for link in row.links or [])
        message_id = await port.send(row.channel_id, row.content, row.key, links)
        if row.archive_after:
            await port.archive(row.channel_id)  # before "sent": a crash here repeats both steps
        async with self.db.session() as session:
            await OutboxRepo(session).mark_sent(key, message_id or 0)

    async def send_owed(self, guild_id: int, port: OutboxPort) -> None:
        """At start-up: everything a crash left unsent, oldest first."""
        async with self.db.reading() as session:
            keys = [row.key for row in await OutboxRepo(session).unsent(guild_id)]
        for key in keys:
            await self.send(key, port)
