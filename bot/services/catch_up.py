"""Start-up catch-up: Discord does not replay what happened while the bot was down, so read it back.

For each help channel of a server: track the forum posts and text-channel questions that appeared,
feed every thread's messages after the last one seen through :mod:`bot.services.intake` (the same path
as live events), and apply the solved-emoji reactions added or removed meanwhile. Threads known to be
archived are skipped: Discord lets an archived thread change only by making it active again, and
active threads are all looked at. Then every cog's owed work for the server runs (the steps they
registered: notes a crash left unsent, solutions to show, escalations to schedule, a missed weekly
post). Everything it calls is idempotent, so running it while live events arrive is safe.

It runs at start-up, after a gateway gap Discord did not replay (a new session after a failed
RESUME), and for servers whose events the database kept refusing (:mod:`bot.services.lanes`).
A server is caught up by one run at a time: asked again meanwhile, the run goes round once more.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Protocol

from bot.domain.permissions import Actor
from bot.services.help_threads import HelpThreadService
from bot.services.intake import Intake, PostedMessage, ThreadInfo, passes_by_itself
from bot.services.server_config import ServerConfig, ServerConfigService
from bot.services.solutions import AnswerRef, SolutionService
from storage.engine import Database
from storage.models import HelpThread
from storage.repositories import HelpChannelRepo, ThreadRepo

log = logging.getLogger(__name__)

#: Handles one message read back from history.
Take = Callable[[PostedMessage], Awaitable[None]]
#: A cog's owed work for one server after downtime, given its id.
Step = Callable[[int], Awaitable[object]]
#: (message id, user id) pairs of reactions, and the ids of the messages they were looked for on.
Reactions = tuple[set[tuple[int, int]], set[int]]


class Gone(Enum):
    """Why a tracked thread cannot be looked at now."""

    DELETED = "deleted"  # Discord says it no longer exists
    UNREADABLE = "unreadable"  # an error, or not a thread: try again at the next start-up


class HistoryPort(Protocol):
    """What the catch-up reads from Discord for one server (its reader logs what it cannot read)."""

    async def active_threads(self) -> list[ThreadInfo]:
        """The server's active threads; none when Discord would not list them."""
        ...

    async def starter_text(self, thread_id: int) -> str:
        """A forum post's question ("" when it cannot be read)."""
        ...

    async def read_channel(self, channel_id: int, after: int, take: Take) -> None:
        """Feed a text channel's messages after ``after`` to ``take``, oldest first."""
        ...

    async def read_thread(self, thread: ThreadInfo, after: int, take: Take) -> None:
        """Feed a thread's messages after ``after`` to ``take``, oldest first."""
        ...

    async def thread_now(self, thread_id: int) -> ThreadInfo | Gone:
        """A thread that is no longer active, as Discord shows it now."""
        ...

    async def shown_reactions(self, thread_id: int, emoji: str) -> Reactions | None:
        """Human ``emoji`` reactions on the thread's recent messages; ``None`` when unreadable."""
        ...

    async def answer(self, thread_id: int, message_id: int) -> AnswerRef | None:
        """A message of the thread as a possible answer; ``None`` when it is gone."""
        ...

    async def reactor(self, user_id: int) -> Actor | None:
        """A member who reacted, with their roles; ``None`` when they left."""
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

    @property
    def left_over(self) -> set[int]:
        """Servers with events the database kept refusing, or whose catch-up it refused: a
        catch-up (the timed job's) reads them back."""
        return self.intake.lanes.parked_guilds() | self._unfinished

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
        active = [t for t in await reader.active_threads() if config.is_help_channel(t.parent_id)]
        async with self.db.reading() as session:
            threads = ThreadRepo(session)
            # Active threads whatever their state here (a dormant one may have been woken up), and
            # the tracked ones that may have been archived or deleted meanwhile.
            rows = await threads.get_many({t.thread_id for t in active}, lock=False)
            unsettled = {t.id: t for t in await threads.not_known_archived(guild_id)}
            channels = await HelpChannelRepo(session).for_guild(guild_id)
        # The markers are read: events left over from here on are read back below, so the lanes
        # that were waiting for this catch-up take live events again.
        self.intake.lanes.unpark(guild_id)
        for channel in channels:
            # A channel added while running starts with what comes next, not with old history.
            if channel.kind == "text" and channel.last_seen_message_id is not None:
                await reader.read_channel(
                    channel.channel_id, channel.last_seen_message_id, self.intake.message
                )
        for thread in active:
            if thread.thread_id not in rows and config.help_channels.get(thread.parent_id or 0) == "forum":
                await self.intake.forum_post(thread, await reader.starter_text(thread.thread_id))
            await self._read_thread(reader, thread, rows.get(thread.thread_id))
        for thread in active:
            await self._reactions(reader, thread.thread_id, config)
            row = rows.get(thread.thread_id)
            if row is not None and row.archived_on_discord:  # unarchived while the bot was away
                await self.threads.archived_changed(thread.thread_id, False)
        active_ids = {t.thread_id for t in active}
        for thread_id, row in unsettled.items():
            if thread_id not in active_ids:
                await self._inactive_thread(reader, thread_id, row, config)

    async def _read_thread(self, reader: HistoryPort, thread: ThreadInfo, row: HelpThread | None) -> None:
        """Feed the messages a thread received during downtime through the live path."""

        async def take(message: PostedMessage) -> None:
            await self.intake.thread_message(message, thread, await self.configs.get(thread.guild_id))

        after = (row.last_seen_message_id if row else None) or thread.thread_id
        await reader.read_thread(thread, after, take)

    async def _reactions(self, reader: HistoryPort, thread_id: int, config: ServerConfig) -> None:
        """Apply the solved-emoji reactions added or removed while the bot was away.

        Discord sends no events for them later, so the reactions it shows now are compared with the
        ones the bot last handled: removals first, then additions in message order.
        """
        if not self.intake.takes_reactions:
            return
        emoji = config.settings.help.solved_emoji
        found = await reader.shown_reactions(thread_id, emoji)
        if found is None:
            return
        shown, window = found
        await self._deleted_answer(config.guild_id, thread_id, window)
        seen = {(m, u) for m, u in await self.solutions.seen_reactions(thread_id, emoji) if m in window}
        still_shown = {message_id for message_id, _ in shown}
        for message_id, user_id in sorted(seen - shown):
            if message_id in still_shown:
                await self.intake.reaction_removed(config.guild_id, thread_id, user_id, message_id, emoji)
            else:
                # Every ✅ of the message is gone: a moderator's "remove all" (or "remove emoji")
                # looks just like this, so it is treated like one, as it is live: the solution
                # stays. (Its marker taking back the only ✅ looks the same; `/unsolve` remains.)
                await self.solutions.reactions_cleared(thread_id, message_id, emoji)
        thread = await self.threads.get(thread_id)
        for message_id, user_id in sorted(shown - seen):
            actor = await reader.reactor(user_id)
            if actor is None or thread is None:
                continue
            # As live: a ✅ that cannot mark is not worth fetching its message for.
            if not await self.solutions.reaction_may_mark(thread, actor, message_id, None, None):
                continue
            answer = await reader.answer(thread_id, message_id)
            if answer is not None:
                await self.intake.reaction_added(config.guild_id, thread_id, answer, actor, emoji)

    async def _deleted_answer(self, guild_id: int, thread_id: int, window: set[int]) -> None:
        """The accepted answer was deleted meanwhile: the history read holds every message from the
        oldest in ``window`` on, so an answer newer than that but missing from it is gone."""
        solution = await self.solutions.get(thread_id)
        answer = solution.message_id if solution else None
        if answer is not None and window and answer > min(window) and answer not in window:
            await self.intake.answer_deleted(guild_id, thread_id, answer)

    async def _inactive_thread(
        self, reader: HistoryPort, thread_id: int, row: HelpThread, config: ServerConfig
    ) -> None:
        """A tracked thread that is no longer active was archived or deleted while the bot was away."""
        thread = await reader.thread_now(thread_id)
        if thread is Gone.DELETED:
            await self.threads.thread_deleted(thread_id)
            return
        if thread is Gone.UNREADABLE:
            return
        await self._read_thread(reader, thread, row)
        # An archived thread's reactions changed too: a later restart must not find them "new".
        await self._reactions(reader, thread_id, config)
        if thread.archived:
            await self.threads.archived_changed(thread_id, True)  # not looked at again until active
