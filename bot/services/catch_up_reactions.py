"""Solved-emoji reactions after downtime: Discord sends no events for those added or removed while
the bot was away, and nothing it lists in bulk says which threads they changed.

So the reactions a thread shows on its latest messages are compared with the ones the bot last
handled (:meth:`ReactionCatchUp.apply`). The catch-up does it for every thread it reads anyway (those
whose messages changed, those archived meanwhile). A thread Discord lists as unchanged would cost one
request for its reactions alone, so those are compared afterwards by a paced sweep
(:meth:`ReactionCatchUp.sweep`): the server counts as caught up without waiting for it, and most of
Discord's rate limit stays free for live work while it runs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from bot.domain.permissions import Actor
from bot.services.help_threads import HelpThreadService
from bot.services.intake import Intake, PostedMessage, ThreadInfo, passes_by_itself
from bot.services.server_config import ServerConfig, ServerConfigService
from bot.services.solutions import AnswerRef, SolutionService

log = logging.getLogger(__name__)

#: (message id, user id) pairs of reactions, and the ids of the messages they were looked for on.
Reactions = tuple[set[tuple[int, int]], set[int]]

#: Unchanged threads the sweep compares at once after a catch-up, then one every interval: about
#: ten requests a second, a fifth of Discord's global limit.
SWEEP_BURST = 20
SWEEP_INTERVAL = 0.1


@dataclass(frozen=True)
class ThreadRead:
    """One look at a thread: its messages after a marker (oldest first), and the human reactions of
    one emoji on its latest messages (``None`` when not asked for)."""

    messages: list[PostedMessage]
    reactions: Reactions | None


class ReactionReader(Protocol):
    """What comparing reactions reads from Discord."""

    async def read_thread(self, thread: ThreadInfo, after: int, emoji: str | None) -> ThreadRead | None:
        """The thread's messages after ``after`` and, given ``emoji``, that emoji's human reactions
        on its latest messages; ``None`` when Discord would not show them (the reader logs it)."""
        ...

    async def answer(self, thread_id: int, message_id: int) -> AnswerRef | None:
        """A message of the thread as a possible answer; ``None`` when it is gone."""
        ...

    async def reactor(self, user_id: int) -> Actor | None:
        """A member who reacted, with their roles; ``None`` when they left."""
        ...


class ReactionCatchUp:
    def __init__(
        self,
        configs: ServerConfigService,
        threads: HelpThreadService,
        solutions: SolutionService,
        intake: Intake,
    ) -> None:
        self.configs = configs
        self.threads = threads
        self.solutions = solutions
        self.intake = intake
        self._sweeps: dict[int, asyncio.Task[None]] = {}
        self._next: dict[int, tuple[ReactionReader, list[ThreadInfo]]] = {}
        self.unfinished: set[int] = set()  # a sweep Discord cut short: the timed catch-up runs again

    def emoji(self, config: ServerConfig) -> str | None:
        """The emoji to look for, or ``None`` when reactions mean nothing (no solutions cog)."""
        return config.settings.help.solved_emoji if self.intake.takes_reactions else None

    async def apply(
        self, reader: ReactionReader, config: ServerConfig, thread_id: int, found: Reactions
    ) -> None:
        """Apply the solved-emoji reactions added or removed while the bot was away.

        The reactions Discord shows now are compared with the ones the bot last handled: removals
        first, then additions in message order.
        """
        emoji = config.settings.help.solved_emoji
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
        added = sorted(shown - seen)
        thread = await self.threads.get(thread_id) if added else None
        for message_id, user_id in added:
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

    # ---- the sweep of unchanged threads ----------------------------------------------------------

    def sweep(self, guild_id: int, reader: ReactionReader, threads: list[ThreadInfo]) -> None:
        """Compare the reactions of ``threads`` in the background, newest activity first, paced.

        Asked again while a sweep of the server runs (a gateway gap), that sweep goes round once
        more with the newer list when it ends.
        """
        if not threads or not self.intake.takes_reactions:
            return
        threads = sorted(threads, key=lambda t: t.last_message_id or t.thread_id, reverse=True)
        if guild_id in self._sweeps:
            self._next[guild_id] = (reader, threads)
            return
        self._sweeps[guild_id] = asyncio.create_task(
            self._sweep(guild_id, reader, threads), name=f"unstuck-reaction-sweep-{guild_id}"
        )

    async def settled(self) -> None:
        """Wait until no sweep is left (tests and the demo: what a restart owes is all applied)."""
        while self._sweeps:
            await asyncio.wait(list(self._sweeps.values()))

    async def stop(self) -> None:
        """Stop the sweeps (the bot is closing): the next start-up compares those threads again."""
        tasks = list(self._sweeps.values())
        self._next.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    async def _sweep(self, guild_id: int, reader: ReactionReader, threads: list[ThreadInfo]) -> None:
        try:
            job: tuple[ReactionReader, list[ThreadInfo]] | None = (reader, threads)
            while job is not None:
                await self._sweep_once(guild_id, *job)
                job = self._next.pop(guild_id, None)
            self.unfinished.discard(guild_id)
        except Exception as error:
            self.unfinished.add(guild_id)
            if not passes_by_itself(error):
                log.exception("guild %s: comparing reactions after downtime failed", guild_id)
            else:
                log.warning(
                    "guild %s: comparing reactions stopped (%s); the timed catch-up goes again",
                    guild_id,
                    error,
                )
        finally:
            self._sweeps.pop(guild_id, None)

    async def _sweep_once(self, guild_id: int, reader: ReactionReader, threads: list[ThreadInfo]) -> None:
        for done, thread in enumerate(threads):
            if done >= SWEEP_BURST:
                await asyncio.sleep(SWEEP_INTERVAL)
            config = await self.configs.get(guild_id)
            emoji = self.emoji(config)
            if emoji is None:
                return
            read = await reader.read_thread(thread, thread.last_message_id or thread.thread_id, emoji)
            if read is not None and read.reactions is not None:
                await self.apply(reader, config, thread.thread_id, read.reactions)
