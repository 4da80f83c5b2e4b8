"""Intake: what members do in the help channels enters the bot here, live or read back after downtime.

The cogs' listeners translate gateway events into :class:`PostedMessage`, :class:`ThreadInfo` and
solved-emoji reactions; the start-up catch-up (:mod:`bot.services.catch_up`) builds the same values
from Discord's history. Both call the functions below, so a message read back after a restart has
exactly the effect it would have had live.

The one Discord call intake makes itself (open a thread from a message) goes through the
help-threads cog's :class:`IntakePort`; everything Discord must show afterwards (the welcome note,
the thread's look, the "Solved" note) is owed by the services (:mod:`bot.services.owed`).

Every event runs in its channel's or thread's lane (:mod:`bot.services.lanes`): in order, tried
again while the database refuses it for a passing reason, and left to the catch-up (markers not
moved past it) when it keeps refusing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from bot.domain.naming import thread_name_from_message
from bot.domain.permissions import Actor
from bot.domain.sharding import ShardScope
from bot.services.errors import UserFacingError
from bot.services.help_threads import HelpThreadService, NewThread, ThreadPort
from bot.services.lanes import Lanes
from bot.services.port_errors import RetryAfter, Unavailable
from bot.services.server_config import ServerConfig, ServerConfigService
from bot.services.solutions import AnswerRef, SolutionService, Via
from storage.engine import Database
from storage.errors import is_transient
from storage.repositories import HelpChannelRepo

T = TypeVar("T")


def passes_by_itself(error: BaseException) -> bool:
    """A failure worth trying the event again for: the database refused it for a passing reason,
    or Discord failed a call the event needed (a 5xx, a lost connection, a long rate limit)."""
    return is_transient(error) or isinstance(error, Unavailable | RetryAfter)


@dataclass(frozen=True)
class ThreadInfo:
    """A Discord thread as intake needs it."""

    thread_id: int
    guild_id: int
    parent_id: int | None
    owner_id: int | None
    name: str
    created_at: datetime
    archived: bool = False
    owner_name: str | None = None  # the asker's display name, when Discord's cache knows it
    tags: tuple[str, ...] = ()  # a forum post's applied tags, by name
    # The newest message Discord lists for it (anyone's, deleted or not): newer than what the bot
    # has seen means something happened there while the bot was not looking.
    last_message_id: int | None = None


@dataclass(frozen=True)
class PostedMessage:
    """A message in a guild channel or thread, as Discord shows it."""

    message_id: int
    guild_id: int
    channel_id: int  # the channel or thread it was posted in
    author_id: int
    author_name: str  # names the thread of a question whose text makes no title
    author_is_bot: bool
    content: str
    created_at: datetime
    is_chat: bool  # a member's message or reply, not a system message ("pinned a message", ...)
    thread: ThreadInfo | None = None  # the thread it was posted in, if it was
    own_thread_id: int | None = None  # a thread already started from it (before a crash)


class IntakePort(ThreadPort, Protocol):
    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int:
        """Open a public thread from a message; its id (a thread already there keeps its id)."""
        ...


class Intake:
    def __init__(
        self,
        db: Database,
        configs: ServerConfigService,
        scope: ShardScope,
        threads: HelpThreadService,
        solutions: SolutionService,
    ) -> None:
        self.db = db
        self.configs = configs
        self.scope = scope
        self.threads = threads
        self.solutions = solutions
        self.thread_port: IntakePort | None = None  # handed over by the help-threads cog
        # Set by the solutions cog when it loads: without it, reactions mean nothing.
        self.takes_reactions = False
        self.lanes = Lanes(passes_by_itself)

    async def in_order(self, guild_id: int, channel_id: int, job: Callable[[], Awaitable[T]]) -> T | None:
        """Run a listener's ``job`` in the lane of ``channel_id`` (a channel or thread): after the
        channel's earlier events, retried through database hiccups; ``None`` if left to the catch-up."""
        return await self.lanes.run(guild_id, (channel_id,), job)

    # ---- messages ----------------------------------------------------------------------------

    async def message(self, message: PostedMessage) -> None:
        """A member's message: a reply in a help thread, or a new question in a help text channel."""
        thread = message.thread
        # A bot's message in a thread changes nothing but what was seen there: the catch-up after
        # a restart then knows the thread did not change since (its Discord's last message).
        if (message.author_is_bot and thread is None) or not self.scope.owns(message.guild_id):
            return
        # A question shares the lane of its channel (whose marker it moves) and of the thread it opens
        # (so that a reply there waits for the thread to be tracked).
        lanes = (thread.thread_id,) if thread is not None else (message.channel_id, message.message_id)

        opened: list[int] = []  # the thread an attempt opened before the database refused the rest

        async def take() -> None:
            config = await self.configs.get(message.guild_id)
            if thread is not None and config.is_help_channel(thread.parent_id):
                await self.thread_message(message, thread, config)
            elif config.help_channels.get(message.channel_id) == "text" and message.is_chat:
                await self._question(message, opened)

        await self.lanes.run(message.guild_id, lanes, take)

    async def thread_message(self, message: PostedMessage, thread: ThreadInfo, config: ServerConfig) -> None:
        """A message in a help thread (the catch-up calls this for threads it knows are ours)."""
        await self.lanes.run(
            thread.guild_id, (thread.thread_id,), lambda: self._thread_message(message, thread, config)
        )

    async def _thread_message(self, message: PostedMessage, thread: ThreadInfo, config: ServerConfig) -> None:
        if message.message_id == thread.thread_id:  # a forum post's starter message shares its id
            if not await self.forum_post(thread, message.content):
                await self.threads.update_question(thread.thread_id, message.content)
            return
        await self.threads.record_message(
            thread_id=thread.thread_id,
            message_id=message.message_id,
            author_id=message.author_id,
            author_is_bot=message.author_is_bot,
            created_at=message.created_at,
            content=message.content,
            author_name=message.author_name,
        )

    async def forum_post(self, thread: ThreadInfo, question: str) -> bool:
        """Track a new forum post and welcome its asker; False if it was tracked already (or the
        database kept refusing it: the catch-up tracks it then)."""
        tracked = await self.lanes.run(
            thread.guild_id, (thread.thread_id,), lambda: self._forum_post(thread, question)
        )
        return bool(tracked)

    async def _forum_post(self, thread: ThreadInfo, question: str) -> bool:
        new = NewThread(
            thread_id=thread.thread_id,
            guild_id=thread.guild_id,
            channel_id=thread.parent_id or 0,
            kind="forum",
            asker_id=thread.owner_id or 0,
            title=thread.name,
            question=question,
            created_at=thread.created_at,
        )
        return await self.threads.open_thread(
            new, self._thread_port(), asker_name=thread.owner_name, tags=thread.tags
        )

    async def _question(self, message: PostedMessage, opened: list[int]) -> None:
        """A top-level message in a help text channel becomes a public thread named after it.

        ``opened`` keeps the thread across attempts: a retry does not ask Discord for it again.
        """
        port = self._thread_port()
        if await self.threads.get(message.message_id) is None:
            name = thread_name_from_message(message.content, f"Help for {message.author_name}")
            if not (message.own_thread_id or opened):
                opened.append(await port.start_thread(message.channel_id, message.message_id, name))
            thread_id = message.own_thread_id or opened[0]
            new = NewThread(
                thread_id=thread_id,
                guild_id=message.guild_id,
                channel_id=message.channel_id,
                kind="text",
                asker_id=message.author_id,
                title=name,
                question=message.content,
                created_at=message.created_at,
            )
            await self.threads.open_thread(new, port, asker_name=message.author_name)
        # Seen even when tracked already (an event delivered twice, history read again): the
        # catch-up after the next restart starts after it.
        async with self.db.session() as session:
            await HelpChannelRepo(session).note_seen(message.channel_id, message.message_id)

    def _thread_port(self) -> IntakePort:
        if self.thread_port is None:
            raise RuntimeError("the help-threads cog hands its port over when it loads")
        return self.thread_port

    # ---- solved-emoji reactions --------------------------------------------------------------

    async def reaction_added(
        self, guild_id: int, thread_id: int, answer: AnswerRef, actor: Actor, emoji: str
    ) -> None:
        """A solved-emoji reaction on ``answer``: mark it when ``actor`` may, quietly ignore it if not."""

        async def take() -> None:
            try:
                await self.solutions.mark(thread_id, answer, actor, Via.REACTION, emoji)
            except UserFacingError:
                return

        await self.lanes.run(guild_id, (thread_id,), take)

    async def reaction_removed(
        self, guild_id: int, thread_id: int, user_id: int, message_id: int, emoji: str
    ) -> None:
        """Removing the reaction that made the mark unmarks it; any other removal changes nothing."""

        async def take() -> None:
            await self.solutions.unmark_by_reaction(thread_id, user_id, message_id, emoji)

        await self.lanes.run(guild_id, (thread_id,), take)

    async def answer_deleted(self, guild_id: int, thread_id: int, message_id: int) -> None:
        """A deleted message takes its reactions with it; if it was the accepted answer, the mark too."""

        async def take() -> None:
            await self.solutions.answer_deleted(thread_id, message_id)

        await self.lanes.run(guild_id, (thread_id,), take)
