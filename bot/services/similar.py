"""Similar solved threads: the in-memory index, suggestions, `/similar`, and "This solved it".

The index (:class:`bot.domain.matching.SimilarityIndex`) holds the solved threads of the guilds
this process owns. It is built once from the database at start-up and kept current by listeners:
a solution marked, moved or removed, a question edited or renamed, a thread deleted, a thread
imported by the backfill. Every listener re-reads the thread from the database, so the index
always converges on what the database says, whatever order events arrive in.

Private stays private: a search looks only at help channels the reader can view (`/similar`: the
member who asked; a welcome note: everyone who can see the new thread), computed from the channels'
permission overwrites by :mod:`bot.domain.channel_access`. The channels are a filter of the index
search itself, so a hidden thread never takes the place of one the reader could have seen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain import lifecycle
from bot.domain.channel_access import GuildAccess, Viewer, audience_can_view, viewable
from bot.domain.lifecycle import TransitionError
from bot.domain.matching import Match, SimilarityIndex, SolvedThreadDoc, query_terms
from bot.domain.permissions import Actor, can_moderate_thread
from bot.domain.points import AwardKind
from bot.domain.sharding import ShardScope
from bot.domain.suggestions import answer_excerpt, effective_threshold, time_ago
from bot.services.errors import NotAllowed, UserFacingError
from bot.services.owed import OwedActions, OwedMessage
from bot.services.points import AwardsGiven, PointsService
from bot.services.server_config import ServerConfig, ServerConfigService
from bot.services.tracked import NOT_TRACKED, held_thread
from storage.engine import Database
from storage.models import HelpThread
from storage.points_repo import SolutionRepo
from storage.repositories import ThreadRepo, owned_by_shards
from storage.similar_repo import REUSE_VIA, IndexedThread, SimilarRepo, SolvedCard

log = logging.getLogger(__name__)

SEARCH_LIMIT = 5  # results of `/similar`
MAX_QUERY_CHARS = 6000  # longer input adds nothing to a search (its first terms are used anyway)


@dataclass(frozen=True)
class Suggestion:
    """One similar solved thread, ready to show."""

    thread_id: int
    guild_id: int
    channel_id: int
    title: str
    excerpt: str  # one line of the accepted answer, ping-free ("" when unknown)
    answer_message_id: int | None
    solved_ago: str
    helped: int  # later threads it solved
    score: float


class ReuseResult(StrEnum):
    CLOSED = "closed"  # the thread was closed as solved by the earlier one, just now
    ALREADY = "already"  # it had been already (a second click, a repeated event)


@dataclass(frozen=True)
class ReuseOutcome:
    result: ReuseResult
    thread: HelpThread
    source: Suggestion
    awards: AwardsGiven


class AccessPort(Protocol):
    """What the similar-thread use cases need from Discord: who can view which help channel."""

    def guild_access(self, guild_id: int, channel_ids: Collection[int]) -> GuildAccess | None:
        """The server's roles and these channels' overwrites as Discord shows them now (a channel
        the bot cannot see is left out); ``None`` when the server is unknown."""
        ...


def _doc(row: IndexedThread) -> SolvedThreadDoc:
    return SolvedThreadDoc(row.thread_id, row.guild_id, row.channel_id, row.title, row.question, row.answer)


class SimilarService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        configs: ServerConfigService,
        points: PointsService,
        scope: ShardScope,
        *,
        titles_only: bool,
        owed: OwedActions | None = None,
    ) -> None:
        self.db = db
        self.owed = owed or OwedActions(clock)  # where the "solved by an earlier thread" note is owed
        self.clock = clock
        self.configs = configs
        self.points = points
        self.scope = scope
        self.index = SimilarityIndex(titles_only=titles_only)
        # Who can view which channel; the similar cog hands it over when it loads. Without it
        # nothing is known to be viewable: suggestions stay in the thread's own channel, and
        # `/similar` finds nothing.
        self.access: AccessPort | None = None

    @property
    def titles_only(self) -> bool:
        return self.index.titles_only

    # ---- keeping the index current ------------------------------------------------------------

    async def build(self) -> int:
        """Load every solved thread of the owned guilds (start-up); returns how many."""
        owned = owned_by_shards(HelpThread.guild_id, self.scope.shard_ids, self.scope.shard_count)
        async with self.db.reading() as session:
            rows = await SimilarRepo(session).indexable(owned)
        self.index.add_many(_doc(row) for row in rows)
        log.info("similar-thread index built: %d solved threads", len(rows))
        return len(rows)

    async def refresh(self, thread_id: int) -> None:
        """Bring one thread's entry in line with the database (listener of every change)."""
        async with self.db.reading() as session:
            repo = SimilarRepo(session)
            row = await repo.indexable_one(thread_id)
            maybe_lost_reuse = row is None and await repo.reuse_of(thread_id) is not None
        if maybe_lost_reuse:  # rare: write only then (the check is repeated inside the write)
            async with self.db.session() as session:
                await self._forget_lost_reuse(session, thread_id)
        if row is None:
            self.index.remove(thread_id)
        else:
            self.index.add(_doc(row))

    @staticmethod
    async def _forget_lost_reuse(session: AsyncSession, thread_id: int) -> None:
        """A thread closed by "This solved it" whose reuse solution was removed or replaced no longer
        counts as helped by the earlier thread (its points were revoked with the solution)."""
        repo = SimilarRepo(session)
        if await repo.reuse_of(thread_id) is None:
            return
        solution = await SolutionRepo(session).get(thread_id)
        if solution is None or solution.via != REUSE_VIA:
            await repo.drop_reuse(thread_id)

    async def answer_edited(self, thread_id: int, message_id: int, content: str) -> None:
        """The accepted answer's message was edited: suggestions quote the new text."""
        async with self.db.reading() as session:
            solution = await SolutionRepo(session).get(thread_id)
        if solution is None or solution.message_id != message_id or solution.answer == content:
            return  # most edits: not an accepted answer, decided by one read, nothing written
        async with self.db.session() as session:  # the update checks again that it is the answer
            changed = await SimilarRepo(session).update_answer(thread_id, message_id, content)
        if changed:
            await self.refresh(thread_id)

    # ---- suggesting ---------------------------------------------------------------------------

    def threshold(self, config: ServerConfig) -> float:
        return effective_threshold(config.settings.similar.threshold, titles_only=self.titles_only)

    async def suggest_for(self, thread: HelpThread, config: ServerConfig) -> list[Suggestion]:
        """What the welcome note of a new thread suggests: nothing below the threshold, ever."""
        settings = config.settings.similar
        if not settings.enabled or settings.max_suggestions <= 0:
            return []
        scope = [thread.channel_id] if settings.scope == "channel" else list(config.help_channels)
        channels = self.shared_in(thread.guild_id, thread.channel_id, scope)
        matches = self.index.search(
            thread.guild_id,
            f"{thread.title}\n{thread.question}",
            limit=settings.max_suggestions,
            channel_ids=channels,
            exclude={thread.id},
            min_score=self.threshold(config),
        )
        return await self._suggestions(matches, channels)

    async def search(
        self, guild_id: int, text: str, viewer: Viewer, limit: int = SEARCH_LIMIT
    ) -> list[Suggestion]:
        """`/similar`: the solved threads closest to ``text``, above the threshold, from the help
        channels ``viewer`` can view (staff find the threads of a staff-only channel, members don't).

        Raises a :class:`UserFacingError` for input with nothing to search for (only punctuation,
        emoji, mentions or filler words), so the user learns why instead of seeing "no match".
        """
        text = text[:MAX_QUERY_CHARS]
        if not query_terms(text):
            raise UserFacingError(
                "I need a few meaningful words to search for, e.g. `pip install permission denied`."
            )
        config = await self.configs.get(guild_id)
        channels = self.viewable_by(guild_id, viewer, config.help_channels)
        matches = self.index.search(
            guild_id,
            text,
            limit=limit,
            channel_ids=channels,
            min_score=self.threshold(config),
        )
        return await self._suggestions(matches, channels)

    def viewable_by(self, guild_id: int, viewer: Viewer, channel_ids: Iterable[int]) -> list[int]:
        """The channels of ``channel_ids`` the member can view (none when Discord's view is unknown)."""
        channel_ids = list(channel_ids)
        access = self.access.guild_access(guild_id, channel_ids) if self.access else None
        if access is None:
            return []
        allowed = viewable(access, viewer, channel_ids)
        return [c for c in channel_ids if c in allowed]

    def shared_in(self, guild_id: int, channel_id: int, channel_ids: Iterable[int]) -> list[int]:
        """The channels of ``channel_ids`` whose threads a post in a thread of ``channel_id`` may
        show: everyone who can see that thread must be able to view them. When Discord's view is
        unknown, only ``channel_id`` itself."""
        channel_ids = list(channel_ids)
        access = self.access.guild_access(guild_id, {channel_id, *channel_ids}) if self.access else None
        if access is None:
            return [c for c in channel_ids if c == channel_id]
        return [c for c in channel_ids if audience_can_view(access, channel_id, c)]

    def reusable_in(self, thread: HelpThread, found: Sequence[Suggestion]) -> set[int]:
        """Which of ``found`` may close ``thread`` ("This solved it" names it in a public note there)."""
        shared = set(self.shared_in(thread.guild_id, thread.channel_id, {s.channel_id for s in found}))
        return {s.thread_id for s in found if s.channel_id in shared}

    async def _suggestions(self, matches: list[Match], channels: Collection[int]) -> list[Suggestion]:
        if not matches:
            return []
        async with self.db.reading() as session:
            cards = await SimilarRepo(session).cards([m.thread_id for m in matches])
        # The index already searched only ``channels``; checked again on what is about to be shown.
        return [
            self._suggestion(cards[m.thread_id], m.score)
            for m in matches
            if m.thread_id in cards and cards[m.thread_id].channel_id in channels
        ]

    def _suggestion(self, card: SolvedCard, score: float) -> Suggestion:
        return Suggestion(
            thread_id=card.thread_id,
            guild_id=card.guild_id,
            channel_id=card.channel_id,
            title=card.title,
            excerpt=answer_excerpt(card.answer),
            answer_message_id=card.answer_message_id,
            solved_ago=time_ago(self.clock.now() - card.solved_at),
            helped=card.helped,
            score=score,
        )

    # ---- "This solved it" -----------------------------------------------------------------------

    async def reuse(
        self,
        thread_id: int,
        source_id: int,
        actor: Actor,
        note: Callable[[ReuseOutcome], OwedMessage] | None = None,
    ) -> ReuseOutcome:
        """Close ``thread_id`` as solved by the earlier thread ``source_id``, crediting its answer.

        One transaction holding the new thread's row; the ``thread_reuses`` primary key and the
        ledger's one-live-award-per-thread index make a second click or a repeated event a no-op.
        The public note ``note`` builds, and the thread's new look, are owed in that same transaction.
        """
        async with self.db.session() as session:
            thread = await held_thread(session, thread_id, NOT_TRACKED)
            config = await self.configs.get(thread.guild_id, session)
            if not can_moderate_thread(actor, thread.asker_id, config.roles):
                raise NotAllowed(
                    "Only the person who asked, or staff, can say that an earlier thread solved it."
                )
            repo = SimilarRepo(session)
            earlier = await repo.reuse_of(thread_id)
            if earlier is not None:
                source = await self._source(repo, earlier.source_thread_id, thread)
                return ReuseOutcome(ReuseResult.ALREADY, thread, source, AwardsGiven([], []))
            now = self.clock.now()
            try:
                change = lifecycle.close_as_duplicate(thread.state, now=now, by=actor.user_id)
            except TransitionError as error:
                raise UserFacingError(str(error)) from None
            source = await self._source(repo, source_id, thread)
            await repo.add_reuse(
                {
                    "thread_id": thread.id,
                    "source_thread_id": source.thread_id,
                    "guild_id": thread.guild_id,
                    "reused_by_id": actor.user_id,
                    "created_at": now,
                }
            )
            ThreadRepo.apply(thread, change)
            awards = await self._reuse_answer(session, thread, config, source_id, actor.user_id, now)
            source = await self._source(repo, source_id, thread)  # "helped" now counts this thread
            outcome = ReuseOutcome(ReuseResult.CLOSED, thread, source, awards)
            if note is not None:
                await self.owed.message(session, thread.guild_id, note(outcome))
            await self.owed.appearance(session, thread.guild_id, thread.id)
        return outcome

    async def _source(self, repo: SimilarRepo, source_id: int, thread: HelpThread) -> Suggestion:
        cards = await repo.cards([source_id]) if source_id != thread.id else {}
        card = cards.get(source_id)
        if card is None or card.guild_id != thread.guild_id:
            raise UserFacingError("That earlier thread is no longer solved, so it can't close this one.")
        if not self.shared_in(thread.guild_id, thread.channel_id, [card.channel_id]):
            # The closing note would show its title to people who cannot view its channel.
            raise UserFacingError(
                "That earlier thread is in a channel not everyone here can see, so it can't close this one."
            )
        return self._suggestion(card, 1.0)

    async def _reuse_answer(
        self,
        session: AsyncSession,
        thread: HelpThread,
        config: ServerConfig,
        source_id: int,
        by: int,
        now: datetime,
    ) -> AwardsGiven:
        """Give the thread the earlier thread's answer as its solution, and award its author for reuse."""
        solutions = SolutionRepo(session)
        answer = await solutions.get(source_id)
        assert answer is not None  # _source checked it is solved
        await solutions.insert(
            {
                "thread_id": thread.id,
                "guild_id": thread.guild_id,
                "message_id": answer.message_id,
                "author_id": answer.author_id,
                "marked_by_id": by,
                "via": REUSE_VIA,
                "emoji": None,
                "answer": answer.answer,
                "source_thread_id": source_id,
                "marked_at": now,
            }
        )
        return await self.points.award_for_answer(
            session,
            config,
            kind=AwardKind.REUSE,
            thread_id=thread.id,
            asker_id=thread.asker_id,
            author_id=answer.author_id,
            author_is_bot=False,  # a bot's message can never be an accepted answer
            message_id=answer.message_id,
            with_assists=False,
        )
