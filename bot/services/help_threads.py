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
from storage.engine import Database
from storage.models import HelpThread
from storage.repositories import TITLE_LIMIT, GuildRepo, ThreadRepo, owned_by_shards

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IncomingMessage:
    """A human message in a help thread, as much of it as the lifecycle needs."""

    thread_id: int
    message_id: int
    author_id: int
    at: datetime
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

    async def open_thread(self, new: NewThread, port: ThreadPort) -> bool:
        """Track a new question and owe its welcome note and look; False if it was tracked already."""
        config = await self.configs.get(new.guild_id)
        async with self.db.session() as session:
            await GuildRepo(session).ensure(new.guild_id, self.clock.now())
            change = lifecycle.opened(new.created_at, config.settings.help.dormant_after)
            created = await ThreadRepo(session).insert(new, **change.fields())
            if created:
                for hook in self.opened:
                    await hook(session, new, config)
                thread = await ThreadRepo(session).get(new.thread_id)
                assert thread is not None
                suggestions = await self.suggest(thread, config) if self.suggest is not None else []
                await self.owed.message(session, new.guild_id, port.welcome_note(thread, config, suggestions))
                await self.owed.appearance(session, new.guild_id, new.thread_id)
        return created

    async def record_message(
        self, *, thread_id: int, message_id: int, author_id: int, author_is_bot: bool, created_at: datetime
    ) -> ReplyOutcome | None:
        """Apply a message in a tracked thread; ``None`` when nothing changed (bot, duplicate, untracked).

        A bot's message only moves the thread's "last seen" marker past it.

        Returns once the message is committed; under load, messages share transactions (batching).
        """
        return await self._writer.submit(
            IncomingMessage(thread_id, message_id, author_id, created_at, by_bot=author_is_bot)
        )

    async def _record_batch(self, items: list[IncomingMessage]) -> list[ReplyOutcome | None]:
        async with self.db.session() as session:
            repo = ThreadRepo(session)
            threads = await repo.get_many({item.thread_id for item in items})
            fresh = await repo.record_messages(
                [
                    {
                        "id": i.message_id,
                        "thread_id": i.thread_id,
                        "author_id": i.author_id,
                        "created_at": i.at,
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
            thread = await ThreadRepo(session).get(thread_id, lock=True)
            if thread is not None:
                thread.question = content
        await self._notify(thread_id)

    async def starter_deleted(self, thread_id: int) -> None:
        async with self.db.session() as session:
            thread = await ThreadRepo(session).get(thread_id, lock=True)
            if thread is not None:
                thread.starter_deleted = True

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
            thread = await ThreadRepo(session).get(thread_id, lock=True)
            if thread is not None:
                thread.title = name[:TITLE_LIMIT]
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
