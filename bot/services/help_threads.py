"""Help-thread use cases: tracking, replies, close/reopen, dormancy.

The database row is the source of truth. What Discord must show after a change (the welcome and
dormancy notes, the thread's tags, name and archive state) is owed in the same transaction
(:mod:`bot.services.owed`) and delivered by the worker, so a crash or a Discord outage loses none.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain import lifecycle
from bot.domain.lifecycle import (
    AskedThread,
    ReplyOutcome,
    ThreadChange,
    ThreadState,
    TransitionError,
    dormancy_due,
)
from bot.domain.permissions import Actor, can_moderate_thread
from bot.domain.sharding import ShardScope
from bot.services.batching import Batcher
from bot.services.errors import NotAllowed, UserFacingError
from bot.services.owed import OwedActions, OwedMessage
from bot.services.server_config import ServerConfig, ServerConfigService
from bot.services.similar import Suggestion
from bot.services.tracked import held_thread
from storage.archive_repo import ArchiveRepo
from storage.engine import Database
from storage.models import HelpThread
from storage.repositories import TITLE_LIMIT, GuildRepo, ThreadRepo, owned_by_shards, thread_values

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IncomingMessage:
    """A human message in a help thread, as much of it as the lifecycle needs."""

    thread_id: int
    message_id: int
    author_id: int
    at: datetime
    content: str | None = None  # kept only where the server publishes the channel (the archive)
    author_name: str | None = None
    by_bot: bool = False  # moves only the thread's "last seen" marker


class NewThread(AskedThread):
    """A question that just appeared: a forum post, or a thread the bot opened from a message."""


#: The solved threads a new thread's welcome note suggests.
Suggester = Callable[[HelpThread, ServerConfig], Awaitable[Sequence[Suggestion]]]


class ThreadPort(Protocol):
    """How the thread use cases' notes look on Discord: rendered when owed, posted by the worker."""

    def welcome_note(
        self, thread: HelpThread, config: ServerConfig, suggestions: Sequence[Suggestion]
    ) -> OwedMessage:
        """The welcome note, with the similar solved threads worth suggesting (often none)."""
        ...

    def dormant_note(self, thread: HelpThread, config: ServerConfig) -> OwedMessage: ...


class HelpThreadService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        configs: ServerConfigService,
        scope: ShardScope,
        owed: OwedActions | None = None,
        suggest: Suggester | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.configs = configs
        self.scope = scope
        self.owed = owed or OwedActions(clock)  # where what Discord must show is owed
        self.suggest = suggest  # what a welcome note suggests (the similar threads)
        self._writer: Batcher[IncomingMessage, ReplyOutcome | None] = Batcher(self._record_batch)
        configs.listeners.append(self.reschedule_guild)
        # Called inside the transaction that tracks a new thread, so what they write (e.g. its
        # escalation due times) exists exactly when the thread does, even across a crash.
        self.opened: list[Callable[[AsyncSession, NewThread, ServerConfig], Awaitable[None]]] = []
        # Called inside the transaction that brings an unanswered thread back to "open" (`/reopen`,
        # the asker writing in a dormant thread): its escalation starts over from that moment.
        self.reopened: list[ReopenHook] = []
        # Told the thread id after its question, title or existence changed (the similar index).
        self.listeners: list[Callable[[int], Awaitable[None]]] = []

    def _owned(self) -> ColumnElement[bool]:
        return owned_by_shards(HelpThread.guild_id, self.scope.shard_ids, self.scope.shard_count)

    async def get(self, thread_id: int) -> HelpThread | None:
        async with self.db.reading() as session:
            return await ThreadRepo(session).get(thread_id)

    async def open_thread(
        self,
        new: NewThread,
        port: ThreadPort,
        asker_name: str | None = None,
        tags: Sequence[str] = (),
    ) -> bool:
        """Track a new question and owe its welcome note and look; False if it was tracked already.

        In a channel the server publishes, the asker's name is noted for the archive.
        """
        if await self.get(new.thread_id) is not None:
            return False  # a repeated event: decided by one read, nothing searched or written
        config = await self.configs.get(new.guild_id)
        change = lifecycle.opened(new.created_at, config.settings.help.dormant_after)
        columns = {**change.fields(), "tags": list(tags) or None}
        # The welcome note (its similar-thread search reads the index and the database) is worked
        # out before the write turn, from the row about to be written; it is owed only if the
        # insert below tracks the thread, in the same transaction, so it exists exactly when the
        # thread does.
        thread = HelpThread(**thread_values(new, **columns))
        suggestions = await self.suggest(thread, config) if self.suggest is not None else []
        welcome = port.welcome_note(thread, config, suggestions)
        async with self.db.session() as session:
            await GuildRepo(session).add_if_missing(new.guild_id, self.clock.now())
            created = await ThreadRepo(session).insert(new, **columns)
            if created:
                for hook in self.opened:
                    await hook(session, new, config)
                if asker_name and new.channel_id in config.archive_channels:
                    names = {new.asker_id: asker_name}
                    await ArchiveRepo(session).note_names(new.guild_id, names, self.clock.now())
                await self.owed.message(session, new.guild_id, welcome)
                await self.owed.appearance(session, new.guild_id, new.thread_id)
        return created

    async def record_message(
        self,
        *,
        thread_id: int,
        message_id: int,
        author_id: int,
        author_is_bot: bool,
        created_at: datetime,
        content: str | None = None,
        author_name: str | None = None,
    ) -> ReplyOutcome | None:
        """Apply a message in a tracked thread; ``None`` when nothing changed (bot, duplicate, untracked).

        A bot's message only moves the thread's "last seen" marker past it.

        Returns once the message is committed; under load, messages share transactions (batching).
        """
        return await self._writer.submit(
            IncomingMessage(
                thread_id, message_id, author_id, created_at, content, author_name, by_bot=author_is_bot
            )
        )

    async def _record_batch(self, items: list[IncomingMessage]) -> list[ReplyOutcome | None]:
        async with self.db.session() as session:
            repo = ThreadRepo(session)
            threads = await repo.get_many({item.thread_id for item in items})
            published = await self._published(session, items, threads)
            fresh = await repo.record_messages(
                [
                    {
                        "id": i.message_id,
                        "thread_id": i.thread_id,
                        "author_id": i.author_id,
                        "created_at": i.at,
                        "content": i.content if i in published else None,
                    }
                    for i in items
                    if i.thread_id in threads
                    and not i.by_bot
                    and not threads[i.thread_id].deleted
                    and i.message_id != i.thread_id
                ]
            )
            outcomes: list[ReplyOutcome | None] = []
            for item in items:
                thread = threads.get(item.thread_id)
                if thread is not None and item.by_bot:
                    ThreadRepo.apply(thread, lifecycle.seen(thread, item.message_id))
                if thread is None or item.message_id not in fresh:
                    outcomes.append(None)  # untracked, the starter message, or seen before
                    continue
                fresh.discard(item.message_id)  # the same message twice in one batch counts once
                config = await self.configs.get(thread.guild_id, session)
                reply = lifecycle.Reply(item.author_id, item.message_id, item.at)
                outcome, change = lifecycle.replied(thread, reply, config.settings.help.dormant_after)
                ThreadRepo.apply(thread, change)
                if outcome.reopened:
                    await run_reopen_hooks(self.reopened, session, thread, config)
                if outcome.first_response or outcome.reopened:
                    await self.owed.appearance(
                        session, thread.guild_id, thread.id, unarchive=outcome.reopened
                    )
                outcomes.append(outcome)
            return outcomes

    async def _published(
        self, session: AsyncSession, items: list[IncomingMessage], threads: dict[int, HelpThread]
    ) -> list[IncomingMessage]:
        """The messages whose text the archive keeps: those in channels the server publishes, by
        members who did not say "never" or "forget me". Their authors' names are noted for the
        archive in the same transaction."""
        published = []
        repo = ArchiveRepo(session)
        for item in items:
            thread = threads.get(item.thread_id)
            if thread is None or item.by_bot:
                continue
            config = await self.configs.get(thread.guild_id, session)
            if thread.channel_id not in config.archive_channels:
                continue
            if await repo.refuses(thread.guild_id, item.author_id):
                continue
            published.append(item)
            if item.author_name:
                await repo.note_names(thread.guild_id, {item.author_id: item.author_name}, self.clock.now())
        return published

    def _reschedule(self, thread: HelpThread, config: ServerConfig) -> None:
        thread.dormant_due_at = dormancy_due(
            thread.state, thread.last_activity_at, config.settings.help.dormant_after
        )

    async def reschedule_guild(self, guild_id: int) -> None:
        """Recompute every live thread's dormancy time after the server changed its idle setting."""
        config = await self.configs.get(guild_id)
        async with self.db.session() as session:
            for thread in await ThreadRepo(session).live_for_guild(guild_id):
                self._reschedule(thread, config)

    async def update_question(self, thread_id: int, content: str) -> None:
        """The starter message was edited: keep the stored question current."""
        async with self.db.session() as session:
            await ThreadRepo(session).set_fields(thread_id, question=content)
        await self._notify(thread_id)

    async def retagged(self, thread_id: int, tags: Sequence[str]) -> None:
        """A forum post's tags changed (the archive shows them)."""
        async with self.db.session() as session:
            thread = await ThreadRepo(session).get(thread_id, lock=True)
            if thread is not None:
                thread.tags = list(tags) or None

    async def starter_deleted(self, thread_id: int) -> None:
        async with self.db.session() as session:
            await ThreadRepo(session).set_fields(thread_id, starter_deleted=True)

    async def thread_deleted(self, thread_id: int) -> None:
        """The thread is gone from Discord: keep its history, stop every timer on it."""
        async with self.db.session() as session:
            thread = await ThreadRepo(session).get(thread_id, lock=True)
            if thread is not None:
                ThreadRepo.apply(thread, lifecycle.deleted())
        await self._notify(thread_id)

    async def archived_changed(self, thread_id: int, archived: bool) -> None:
        """Discord archived or unarchived a thread (start-up skips threads known to be archived)."""
        known = await self.get(thread_id)
        if known is None or known.archived_on_discord == archived:
            return  # not ours, or nothing new: no write transaction for every thread update
        async with self.db.session() as session:
            await ThreadRepo(session).set_archived(thread_id, archived)

    async def renamed(self, thread_id: int, name: str) -> None:
        async with self.db.session() as session:
            await ThreadRepo(session).set_fields(thread_id, title=name[:TITLE_LIMIT])
        await self._notify(thread_id)

    async def _notify(self, thread_id: int) -> None:
        for listener in self.listeners:
            await listener(thread_id)

    async def close(
        self, thread_id: int, actor: Actor, reason: str, note: OwedMessage | None = None
    ) -> HelpThread:
        """Close a thread with a reason; only its asker, staff or Manage Threads may.

        ``note`` (the public "Closed by …" message) and the archive after it are owed in the same
        transaction.
        """
        async with self.db.session() as session:
            thread, _ = await self._moderated(session, thread_id, actor, "close")
            now = self.clock.now()
            change = _allowed(lambda: lifecycle.close(thread.state, now=now, by=actor.user_id, reason=reason))
            ThreadRepo.apply(thread, change)
            await self._owe(session, thread, note)
            return thread

    async def reopen(self, thread_id: int, actor: Actor, note: OwedMessage | None = None) -> HelpThread:
        """Bring a closed or dormant thread back; its asker, staff or Manage Threads may."""
        async with self.db.session() as session:
            thread, config = await self._moderated(session, thread_id, actor, "reopen")
            idle = config.settings.help.dormant_after
            change = _allowed(lambda: lifecycle.reopen(thread, now=self.clock.now(), idle=idle))
            ThreadRepo.apply(thread, change)
            await run_reopen_hooks(self.reopened, session, thread, config)
            await self._owe(session, thread, note, unarchive=True)
            return thread

    async def _moderated(
        self, session: AsyncSession, thread_id: int, actor: Actor, verb: str
    ) -> tuple[HelpThread, ServerConfig]:
        """The thread, held for this transaction, and its server's set-up; raises unless ``actor``
        may moderate it (its asker, staff or Manage Threads)."""
        thread = await held_thread(
            session, thread_id, "This command works inside a help thread that Unstuck tracks."
        )
        config = await self.configs.get(thread.guild_id, session)
        if not can_moderate_thread(actor, thread.asker_id, config.roles):
            raise NotAllowed(f"Only the person who asked, or staff, can {verb} this thread.")
        return thread, config

    async def _owe(
        self, session: AsyncSession, thread: HelpThread, note: OwedMessage | None, *, unarchive: bool = False
    ) -> None:
        """Owe the public note of a close or reopen and the thread's new look, in the same transaction."""
        if note is not None:
            await self.owed.message(session, thread.guild_id, note)
        await self.owed.appearance(session, thread.guild_id, thread.id, unarchive=unarchive)

    async def sweep_dormant(self, port: ThreadPort) -> int:
        """Put every idle thread to rest: claim it and owe its note and archive. Safe to run twice or late."""
        now = self.clock.now()
        async with self.db.reading() as session:
            due = await ThreadRepo(session).due_dormant(self._owned(), now)
        done = 0
        for thread_id in due:
            async with self.db.session() as session:
                claimed = await ThreadRepo(session).claim_dormant(thread_id, now, lifecycle.go_dormant(now))
                if claimed:
                    thread = await ThreadRepo(session).get(thread_id)
                    assert thread is not None
                    config = await self.configs.get(thread.guild_id, session)
                    await self.owed.message(session, thread.guild_id, port.dormant_note(thread, config))
                    await self.owed.appearance(session, thread.guild_id, thread_id)
                    done += 1
        return done


ReopenHook = Callable[[AsyncSession, HelpThread, ServerConfig], Awaitable[None]]


async def run_reopen_hooks(
    hooks: list[ReopenHook], session: AsyncSession, thread: HelpThread, config: ServerConfig
) -> None:
    """Tell the hooks a thread is waiting for an answer again (only an unanswered one is)."""
    if thread.state is ThreadState.OPEN:
        for hook in hooks:
            await hook(session, thread, config)


def _allowed(step: Callable[[], ThreadChange]) -> ThreadChange:
    """Compute a lifecycle step; one the thread's state does not allow becomes a polite answer."""
    try:
        return step()
    except TransitionError as error:
        raise UserFacingError(str(error)) from None
