"""Marking and unmarking solutions: one accepted answer per thread, points moved with it.

Everything that decides is one database transaction holding the thread's row; the Discord side
(tags, ✅ name prefix, the "Solved" note) is owed in that same transaction as the thread's
appearance (:mod:`bot.services.owed`), which the delivery worker brings in line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain import lifecycle
from bot.domain.permissions import Actor, can_mark_solution, can_moderate_thread, reaction_may_mark
from bot.domain.points import AwardKind
from bot.services.errors import NotAllowed, UserFacingError
from bot.services.help_threads import ReopenHook, run_reopen_hooks
from bot.services.owed import OwedActions
from bot.services.points import AwardsGiven, PointsService
from bot.services.server_config import ServerConfig, ServerConfigService
from bot.services.tracked import NOT_TRACKED, held_thread
from storage.engine import Database
from storage.models import HelpThread, Solution
from storage.points_repo import SolutionRepo
from storage.reactions_repo import ReactionRepo
from storage.repositories import ThreadRepo

ANSWER_KEEP = 4000  # characters of the answer kept for similar-thread search


class Via(StrEnum):
    REACTION = "reaction"
    MENU = "menu"
    COMMAND = "command"
    REUSE = "reuse"


class MarkKind(StrEnum):
    MARKED = "marked"
    MOVED = "moved"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class AnswerRef:
    """The message proposed as the answer, reduced to what the rules need."""

    message_id: int
    channel_id: int
    author_id: int
    author_is_bot: bool
    content: str


@dataclass(frozen=True)
class MarkOutcome:
    kind: MarkKind
    thread: HelpThread
    solution: Solution
    awards: AwardsGiven


Listener = Callable[[int], Awaitable[None]]


class SolutionService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        configs: ServerConfigService,
        points: PointsService,
        owed: OwedActions | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.configs = configs
        self.points = points
        self.owed = owed or OwedActions(clock)  # the thread's look and "Solved" note are owed here
        # Told the thread id whenever a solution appears, moves or disappears (the similar index).
        self.listeners: list[Listener] = []
        # Called in the transaction that takes the solution of a never-answered thread back.
        self.reopened: list[ReopenHook] = []

    async def get(self, thread_id: int) -> Solution | None:
        async with self.db.reading() as session:
            return await SolutionRepo(session).get(thread_id)

    async def reaction_may_mark(
        self, thread: HelpThread, actor: Actor, message_id: int, author_id: int | None, bot_id: int | None
    ) -> bool:
        """Whether a solved-emoji reaction in ``thread`` could mark anything: decided from the
        event's facts and the (cached) server roles, before anything is fetched or written."""
        config = await self.configs.get(thread.guild_id)
        return reaction_may_mark(
            actor,
            thread.asker_id,
            config.roles,
            thread_id=thread.id,
            message_id=message_id,
            author_id=author_id,
            bot_id=bot_id,
        )

    async def mark(
        self, thread_id: int, answer: AnswerRef | None, actor: Actor, via: Via, emoji: str | None = None
    ) -> MarkOutcome:
        """Accept ``answer`` (or, with ``None``, just mark solved) as the thread's solution.

        A mark by reaction also records the reaction as seen, in the same transaction: after a
        crash, the restart's diff against Discord then neither loses nor repeats it.
        """
        async with self.db.session() as session:
            thread = await held_thread(session, thread_id, NOT_TRACKED)
            config = await self.configs.get(thread.guild_id, session)
            if not can_mark_solution(actor, thread.asker_id, config.roles):
                raise NotAllowed("Only the person who asked, a helper or staff can mark the solution here.")
            if answer is not None:
                _check_answer(thread, answer)
            if via is Via.REACTION and answer is not None and emoji is not None:
                await ReactionRepo(session).add(thread.id, answer.message_id, actor.user_id, emoji)
            outcome = await self._mark_locked(session, thread, config, answer, actor, via, emoji)
        if outcome.kind is not MarkKind.UNCHANGED:
            await self._notify(thread_id)
        return outcome

    async def _mark_locked(
        self,
        session: AsyncSession,
        thread: HelpThread,
        config: ServerConfig,
        answer: AnswerRef | None,
        actor: Actor,
        via: Via,
        emoji: str | None,
    ) -> MarkOutcome:
        repo = SolutionRepo(session)
        existing = await repo.get(thread.id)
        message_id = answer.message_id if answer else None
        if existing is not None and existing.message_id == message_id:
            return MarkOutcome(MarkKind.UNCHANGED, thread, existing, AwardsGiven([], []))
        now = self.clock.now()
        values = {
            "thread_id": thread.id,
            "guild_id": thread.guild_id,
            "message_id": message_id,
            "author_id": answer.author_id if answer else None,
            "marked_by_id": actor.user_id,
            "via": via.value,
            "emoji": emoji,
            "answer": (answer.content if answer else "")[:ANSWER_KEEP],
            "source_thread_id": None,
            "marked_at": now,
        }
        if existing is not None:
            await self.points.revoke_thread(session, thread.id, by=actor.user_id, reason="solution moved")
            for key, value in values.items():
                setattr(existing, key, value)
            solution, kind = existing, MarkKind.MOVED
        else:
            added = await repo.add(values)
            solution, kind = added or await repo.get(thread.id), MarkKind.MARKED  # type: ignore[assignment]
        ThreadRepo.apply(thread, lifecycle.solve(now))
        await self.owed.appearance(session, thread.guild_id, thread.id, note=True)
        awards = await self.points.award_for_answer(
            session,
            config,
            kind=AwardKind.SOLUTION,
            thread_id=thread.id,
            asker_id=thread.asker_id,
            author_id=answer.author_id if answer else None,
            author_is_bot=answer.author_is_bot if answer else False,
            message_id=message_id,
            with_assists=answer is not None,
        )
        return MarkOutcome(kind, thread, solution, awards)

    async def unmark(self, thread_id: int, actor: Actor) -> HelpThread:
        """`/unsolve`: the asker or staff take the solution back; its points are revoked."""
        async with self.db.session() as session:
            thread = await held_thread(session, thread_id, NOT_TRACKED)
            config = await self.configs.get(thread.guild_id, session)
            if not can_moderate_thread(actor, thread.asker_id, config.roles):
                raise NotAllowed("Only the person who asked, or staff, can remove the solution.")
            if await SolutionRepo(session).get(thread_id) is None:
                raise UserFacingError("This thread has no solution to remove.")
            await self._unmark_locked(session, thread, config, actor.user_id, "solution removed")
        await self._notify(thread_id)
        return thread

    async def unmark_by_reaction(self, thread_id: int, user_id: int, message_id: int, emoji: str) -> bool:
        """Removing the very reaction that made the mark takes it back; any other removal does nothing."""
        async with self.db.session() as session:
            thread = await ThreadRepo(session).get(thread_id, lock=True)
            if thread is None:
                return False
            await ReactionRepo(session).remove(message_id, user_id, emoji)
            solution = await SolutionRepo(session).get(thread_id)
            if solution is None:
                return False
            made_it = (solution.via, solution.marked_by_id, solution.message_id, solution.emoji) == (
                Via.REACTION.value,
                user_id,
                message_id,
                emoji,
            )
            if not made_it:
                return False
            config = await self.configs.get(thread.guild_id, session)
            await self._unmark_locked(session, thread, config, user_id, "solution reaction removed")
        await self._notify(thread_id)
        return True

    async def reactions_cleared(self, thread_id: int, message_id: int, emoji: str | None) -> None:
        """A moderator cleared a message's reactions (all, or every one of ``emoji``).

        Discord says who removed nothing here, only that a moderator with Manage Messages did: the
        solution stays, with its points (the asker or staff can still `/unsolve`). The reactions
        are forgotten, so that the next restart does not take their absence for a removal.
        """
        async with self.db.reading() as session:
            known = await ReactionRepo(session).on_message(message_id, emoji)
        if known:  # most cleared messages carried no ✅ the bot handled: one read, nothing written
            async with self.db.session() as session:
                await ReactionRepo(session).forget_message(message_id, emoji)

    async def answer_deleted(self, thread_id: int, message_id: int) -> bool:
        """The accepted answer was deleted (Discord sends MESSAGE_DELETE, no reaction removals):
        the solution goes with it, and its points are revoked. True when it was the solution."""
        solution = await self.get(thread_id)
        if solution is None or solution.message_id != message_id:
            return False  # most deletions: decided by one read, nothing written
        async with self.db.session() as session:
            thread = await ThreadRepo(session).get(thread_id, lock=True)
            if thread is None:
                return False
            await ReactionRepo(session).forget_message(message_id)
            solution = await SolutionRepo(session).get(thread_id)
            if solution is None or solution.message_id != message_id:
                return False
            config = await self.configs.get(thread.guild_id, session)
            await self._unmark_locked(session, thread, config, None, "the accepted answer was deleted")
        await self._notify(thread_id)
        return True

    async def seen_reactions(self, thread_id: int, emoji: str) -> set[tuple[int, int]]:
        """(message id, user id) of the solved-emoji reactions handled in a thread."""
        async with self.db.reading() as session:
            return await ReactionRepo(session).for_thread(thread_id, emoji)

    async def _unmark_locked(
        self, session: AsyncSession, thread: HelpThread, config: ServerConfig, by: int | None, reason: str
    ) -> None:
        await self.points.revoke_thread(session, thread.id, by=by, reason=reason)
        await SolutionRepo(session).delete(thread.id)
        idle = config.settings.help.dormant_after
        ThreadRepo.apply(thread, lifecycle.unsolve(thread, now=self.clock.now(), idle=idle))
        await run_reopen_hooks(self.reopened, session, thread, config)
        await self.owed.appearance(session, thread.guild_id, thread.id, note=True)

    async def _notify(self, thread_id: int) -> None:
        for listener in self.listeners:
            await listener(thread_id)


def _check_answer(thread: HelpThread, answer: AnswerRef) -> None:
    if answer.channel_id != thread.id:
        raise UserFacingError("That message is not in this thread: pick an answer from this thread.")
    if answer.message_id == thread.id:
        raise UserFacingError("The question itself can't be its own solution: pick the answer that helped.")
    if answer.author_is_bot:
        raise UserFacingError("Messages from bots can't be marked as the solution.")
