"""Start-up catch-up: Discord does not replay what happened while the bot was down, so read it back,
in proportion to what changed rather than to what exists.

For each help channel of a server: track the forum posts and text-channel questions that appeared,
feed the messages after the last one seen through :mod:`bot.services.intake` (the same path as live
events), and apply the solved-emoji reactions added or removed meanwhile. What Discord lists in bulk
says where to look: the server's active threads with their newest message id (one request), a text
channel's newest message id (in the channel list the gateway sends), and the threads archived since
a time (a page per hundred). A thread or channel whose newest message is one the bot has seen (its
"last seen" marker, moved only by committed events, and by the bot's own messages) has nothing to
read. Tracked threads known to be archived are skipped: Discord lets an archived thread change only
by making it active again. The reactions of unchanged active threads are compared afterwards by a
paced sweep (:mod:`bot.services.catch_up_reactions`). Then every cog's owed work for the server runs
(the steps they registered: notes a crash left unsent, solutions to show, escalations to schedule, a
missed weekly post). Everything it calls is idempotent, so running it while live events arrive is
safe.

It runs at start-up, after a gateway gap Discord did not replay (a new session after a failed
RESUME), and for servers whose events the database kept refusing (:mod:`bot.services.lanes`).
A server is caught up by one run at a time: asked again meanwhile, the run goes round once more.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import Enum
from functools import partial
from typing import Protocol

from bot.domain.snowflakes import DISCORD_EPOCH_MS
from bot.services.catch_up_reactions import ReactionCatchUp, ReactionReader, Reactions, ThreadRead
from bot.services.help_threads import HelpThreadService
from bot.services.intake import Intake, PostedMessage, ThreadInfo, passes_by_itself
from bot.services.server_config import ServerConfig, ServerConfigService
from bot.services.solutions import SolutionService
from storage.engine import Database
from storage.repositories import HelpChannelRepo, ThreadMarker, ThreadRepo

log = logging.getLogger(__name__)

__all__ = ["CatchUpService", "Gone", "HistoryPort", "Reactions", "Step", "Take", "ThreadRead"]

#: Handles one message read back from history.
Take = Callable[[PostedMessage], Awaitable[None]]
#: A cog's owed work for one server after downtime, given its id.
Step = Callable[[int], Awaitable[object]]
#: Tracked threads read per query when matching Discord's list of active threads.
ROWS_PER_QUERY = 5000
#: Threads read from Discord at once: at a real round trip of about 80 ms, four keep within
#: Discord's global limit of 50 requests a second.
READS_AT_ONCE = 4


class Gone(Enum):
    """Why a tracked thread cannot be looked at now."""

    DELETED = "deleted"  # Discord says it no longer exists
    UNREADABLE = "unreadable"  # an error, or not a thread: try again at the next start-up


class HistoryPort(ReactionReader, Protocol):
    """What the catch-up reads from Discord for one server (its reader logs what it cannot read)."""

    async def active_threads(self) -> list[ThreadInfo] | None:
        """The server's active threads with their newest message ids; ``None`` when Discord refused
        to list them (a passing failure raises)."""
        ...

    def channel_last_message_id(self, channel_id: int) -> int | None:
        """A text channel's newest message id as Discord last listed it (no request); ``None`` if it
        has none (or is no text channel)."""
        ...

    async def archived_since(
        self, channel_id: int, since: datetime, wanted: set[int]
    ) -> dict[int, ThreadInfo]:
        """Threads of a channel archived at ``since`` or later, newest archive first, read only until
        every thread of ``wanted`` is found (or a few pages: those missing are looked up alone)."""
        ...

    async def read_channel(self, channel_id: int, after: int, take: Take) -> None:
        """Feed a text channel's messages after ``after`` to ``take``, oldest first."""
        ...

    async def thread_now(self, thread_id: int) -> ThreadInfo | Gone:
        """A thread that is no longer active, as Discord shows it now."""
        ...


class CatchUpService:
    def __init__(
        self,
        db: Database,
        configs: ServerConfigService,
        threads: HelpThreadService,
        solutions: SolutionService,
        intake: Intake,
    ) -> None:
        self.db = db
        self.configs = configs
        self.threads = threads
        self.solutions = solutions
        self.intake = intake
        self._steps: list[Step] = []
        self._running: set[int] = set()
        self._again: dict[int, HistoryPort] = {}  # asked while running: once more, with this reader
        self._unfinished: set[int] = set()  # the database refused a catch-up: the timed job retries it
        self.reactions = ReactionCatchUp(configs, threads, solutions, intake)
        # Active threads the last run found unchanged: their reactions are compared afterwards.
        self._unchanged: dict[int, tuple[HistoryPort, list[ThreadInfo]]] = {}

    def register(self, step: Step) -> None:
        """Add a cog's owed work for a server; steps run in the order the cogs load."""
        self._steps.append(step)

    async def guild(self, guild_id: int, reader: HistoryPort) -> None:
        """Catch up with one server: its history first, then every registered step.

        Asked while a run for the server is going on, it returns at once and that run goes round
        again afterwards (what happened since it read a channel is read then).
        """
        if guild_id in self._running:
            self._again[guild_id] = reader
            return
        self._running.add(guild_id)
        try:
            next_reader: HistoryPort | None = reader
            while next_reader is not None:
                await self._once_or_later(guild_id, next_reader)
                next_reader = self._again.pop(guild_id, None)
        finally:
            self._running.discard(guild_id)
            self._again.pop(guild_id, None)
        # What is left is compared in the background, once the server is caught up.
        if unchanged := self._unchanged.pop(guild_id, None):
            self.reactions.sweep(guild_id, *unchanged)

    @property
    def left_over(self) -> set[int]:
        """Servers with events the database kept refusing, or whose catch-up (or reaction sweep) it
        or Discord cut short: a catch-up (the timed job's) reads them back."""
        return self.intake.lanes.parked_guilds() | self._unfinished | self.reactions.unfinished

    async def _once_or_later(self, guild_id: int, reader: HistoryPort) -> None:
        try:
            await self._once(guild_id, reader)
        except Exception as error:
            if not passes_by_itself(error):
                raise
            log.warning("guild %s: the catch-up failed (%s); it runs again later", guild_id, error)
            self._unfinished.add(guild_id)
            return
        self._unfinished.discard(guild_id)

    async def _once(self, guild_id: int, reader: HistoryPort) -> None:
        config = await self.configs.get(guild_id)
        if config.help_channels:
            await self._read_back(guild_id, config, reader)
        else:
            self.intake.lanes.unpark(guild_id)
        for step in self._steps:
            await step(guild_id)

    async def _read_back(self, guild_id: int, config: ServerConfig, reader: HistoryPort) -> None:
        listed = await reader.active_threads()
        active = [t for t in listed or [] if config.is_help_channel(t.parent_id)]
        async with self.db.reading() as session:
            threads = ThreadRepo(session)
            # The tracked threads that may have changed (archived or deleted meanwhile, or active),
            # and the active ones whatever their state here (a dormant one may have been woken up).
            unsettled = await threads.unsettled_markers(guild_id)
            others = sorted({t.thread_id for t in active} - unsettled.keys())
            rows = {t.thread_id: unsettled[t.thread_id] for t in active if t.thread_id in unsettled}
            for start in range(0, len(others), ROWS_PER_QUERY):  # within every driver's parameter limit
                rows |= await threads.markers(others[start : start + ROWS_PER_QUERY])
            channels = await HelpChannelRepo(session).for_guild(guild_id)
        # The markers are read: events left over from here on are read back below, so the lanes
        # that were waiting for this catch-up take live events again.
        self.intake.lanes.unpark(guild_id)
        for channel in channels:
            # A channel added while running starts with what comes next, not with old history.
            seen = channel.last_seen_message_id
            if channel.kind == "text" and seen is not None:
                newest = reader.channel_last_message_id(channel.channel_id)
                if newest is not None and newest > seen:
                    await reader.read_channel(channel.channel_id, seen, self.intake.message)
        unchanged: list[ThreadInfo] = []
        to_read: list[ThreadInfo] = []
        for thread in active:
            row = rows.get(thread.thread_id)
            (unchanged if row is not None and not changed(thread, row) else to_read).append(thread)
            if row is not None and row.archived_on_discord:  # unarchived while the bot was away
                await self.threads.archived_changed(thread.thread_id, False)
        await a_few_at_a_time(
            [partial(self._read_thread, reader, t, rows.get(t.thread_id), config) for t in to_read]
        )
        if listed is None:  # without the list, every tracked thread would look inactive
            return
        active_ids = {t.thread_id for t in active}
        await self._inactive_threads(
            reader, {i: r for i, r in unsettled.items() if i not in active_ids}, config
        )
        self._unchanged[guild_id] = (reader, unchanged)

    async def _read_thread(
        self, reader: HistoryPort, thread: ThreadInfo, row: ThreadMarker | None, config: ServerConfig
    ) -> None:
        """Feed the messages a thread received during downtime through the live path, then apply
        the reactions that changed on its latest messages (the same request shows them)."""
        forum_post = row is None and config.help_channels.get(thread.parent_id or 0) == "forum"
        # A new forum post is read from its starter message on, which shares the thread's id.
        after = (row.last_seen_message_id if row else None) or thread.thread_id
        if forum_post:
            after = thread.thread_id - 1
        read = await reader.read_thread(thread, after, self.reactions.emoji(config))
        if read is None:
            return
        if forum_post:
            starter = next((m.content for m in read.messages if m.message_id == thread.thread_id), "")
            await self.intake.forum_post(thread, starter)
        for message in read.messages:
            if message.message_id != thread.thread_id:
                await self.intake.thread_message(message, thread, config)
        if read.reactions is not None:
            await self.reactions.apply(reader, config, thread.thread_id, read.reactions)

    async def _inactive_threads(
        self, reader: HistoryPort, rows: dict[int, ThreadMarker], config: ServerConfig
    ) -> None:
        """Tracked threads no longer active were archived or deleted while the bot was away.

        The archived ones are found in their channels' lists of threads archived since the oldest
        marker among them (a thread is archived after its last message); a thread missing from the
        lists is looked up alone.
        """
        by_channel: dict[int, dict[int, ThreadMarker]] = {}
        for thread_id, row in rows.items():
            by_channel.setdefault(row.channel_id, {})[thread_id] = row
        for channel_id, wanted in sorted(by_channel.items()):
            since = min(snowflake_time(row.last_seen_message_id or row.id) for row in wanted.values())
            found = await reader.archived_since(channel_id, since, set(wanted))
            await a_few_at_a_time(
                [
                    partial(self._inactive_thread, reader, found.get(i), r, config)
                    for i, r in sorted(wanted.items())
                ]
            )

    async def _inactive_thread(
        self, reader: HistoryPort, thread: ThreadInfo | Gone | None, row: ThreadMarker, config: ServerConfig
    ) -> None:
        """A tracked thread that is no longer active, as Discord shows it now (looked up alone when
        the archived lists did not show it)."""
        if thread is None:
            thread = await reader.thread_now(row.id)
        if thread is Gone.DELETED:
            await self.threads.thread_deleted(row.id)
            return
        if thread is Gone.UNREADABLE:
            return
        # Read even if no message came: its reactions may have changed before it was archived, and
        # it is not looked at again until it is active.
        await self._read_thread(reader, thread, row, config)
        if thread.archived:
            await self.threads.archived_changed(row.id, True)


async def a_few_at_a_time(jobs: list[Callable[[], Awaitable[None]]]) -> None:
    """Run ``jobs`` :data:`READS_AT_ONCE` at a time: each waits on Discord, not on the others (the
    lanes keep each thread's events in order). The first failure stops the rest and is raised."""
    pending = iter(jobs)
    running: set[asyncio.Task[None]] = set()
    try:
        for job in itertools.islice(pending, READS_AT_ONCE):
            running.add(asyncio.create_task(job()))
        while running:
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # raises a failure
                if (job := next(pending, None)) is not None:
                    running.add(asyncio.create_task(job()))
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)


def changed(thread: ThreadInfo, row: ThreadMarker) -> bool:
    """Whether Discord lists a message in the thread newer than the last one the bot has seen."""
    seen = row.last_seen_message_id or row.id
    return thread.last_message_id is not None and thread.last_message_id > seen


def snowflake_time(snowflake: int) -> datetime:
    """When Discord made the id (to the millisecond)."""
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)
