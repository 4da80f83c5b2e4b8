"""Points: awarding under the rules, staff grants and revokes, and reading totals and leaderboards."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import PointsSettings
from bot.domain.permissions import Actor, is_staff
from bot.domain.points import ASKER_AWARDS, Award, AwardKind, PointRules, Refusal, answer_award, assist_awards
from bot.domain.windows import Span, Window, window_span
from bot.services.errors import NotAllowed, UserFacingError
from bot.services.server_config import ServerConfig, ServerConfigService
from storage.engine import Database
from storage.models import PointEntry
from storage.points_repo import PointsRepo

PAGE_SIZE = 10
MAX_STAFF_AMOUNT = 1000


def point_rules(settings: PointsSettings) -> PointRules:
    """Point settings as the domain rules take them (the fields of the same names)."""
    return PointRules(**{rule.name: getattr(settings, rule.name) for rule in fields(PointRules)})


def rules_for(config: ServerConfig) -> PointRules:
    """The server's point rules."""
    return point_rules(config.settings.points)


@dataclass(frozen=True)
class AwardsGiven:
    awards: list[Award]
    refusals: list[Refusal]


@dataclass(frozen=True)
class MemberStanding:
    member_id: int
    total: int
    week: int
    week_rank: int | None
    all_rank: int | None
    solutions: int


@dataclass(frozen=True)
class LeaderboardPage:
    window: Window
    span: Span
    page: int
    pages: int
    rows: list[tuple[int, int, int]]  # (rank, member id, points)


def _clamp(page: int, count: int, size: int) -> int:
    return min(max(page, 0), max(1, -(-count // size)) - 1)


def competition_ranks(
    rows: list[tuple[int, int]], first_rank: int, offset: int
) -> list[tuple[int, int, int]]:
    """Number rows "1, 2, 2, 4": members with equal points share a rank, as `/points` shows it."""
    ranked: list[tuple[int, int, int]] = []
    for position, (member, points) in enumerate(rows):
        if position == 0:
            rank = first_rank
        elif points == ranked[-1][2]:
            rank = ranked[-1][0]
        else:
            rank = offset + position + 1
        ranked.append((rank, member, points))
    return ranked


class PointsService:
    def __init__(self, db: Database, clock: Clock, configs: ServerConfigService) -> None:
        self.db = db
        self.clock = clock
        self.configs = configs

    # ---- awarding (inside the caller's transaction) ------------------------------------------------

    async def award_for_answer(
        self,
        session: AsyncSession,
        config: ServerConfig,
        *,
        kind: AwardKind,
        thread_id: int,
        asker_id: int,
        author_id: int | None,
        author_is_bot: bool,
        message_id: int | None,
        with_assists: bool,
    ) -> AwardsGiven:
        """Write the awards a solved thread earns, following every anti-abuse rule."""
        rules, repo, now = rules_for(config), PointsRepo(session), self.clock.now()
        since = now - rules.pair_window
        # Assists thank those who helped before the answer came: replies after it ("+1, thanks")
        # earn nothing, and the result does not depend on when the mark was processed.
        repliers = await repo.thread_repliers(thread_id, message_id) if with_assists and message_id else []
        candidates = set(repliers) | ({author_id} if author_id else set())
        if with_assists:
            local_midnight = datetime.combine(now.astimezone(config.settings.zone).date(), time(0))
            day_start = local_midnight.replace(tzinfo=config.settings.zone)
            pairs, today = await repo.rule_counts(
                config.guild_id, asker_id, candidates, ASKER_AWARDS, since, AwardKind.ASSIST, day_start
            )
        else:
            pairs = await repo.pair_counts(config.guild_id, asker_id, candidates, ASKER_AWARDS, since)
        awards: list[Award] = []
        refusals: list[Refusal] = []
        outcome = answer_award(
            rules,
            kind=kind,
            asker_id=asker_id,
            author_id=author_id,
            author_is_bot=author_is_bot,
            recent_pair_awards=pairs.get(author_id or 0, 0),
        )
        if isinstance(outcome, Award):
            awards.append(outcome)
        elif isinstance(outcome, Refusal):
            refusals.append(outcome)
        if with_assists:
            awards += assist_awards(
                rules,
                asker_id=asker_id,
                solver_id=author_id,
                repliers=repliers,
                assists_today=today,
                recent_pair_awards=pairs,
            )
        added = await repo.add_awards(
            [
                {
                    "guild_id": config.guild_id,
                    "member_id": award.member_id,
                    "amount": award.amount,
                    "kind": award.kind.value,
                    "rule": award.rule,
                    "reason": "",
                    "thread_id": thread_id,
                    "message_id": message_id if award.kind is not AwardKind.ASSIST else None,
                    "awarded_by_id": asker_id,
                    "created_at": now,
                }
                for award in awards
            ]
        )
        written = [award for award in awards if (award.member_id, award.kind.value) in added]
        return AwardsGiven(written, refusals)

    # ---- staff ------------------------------------------------------------------------------------

    async def adjust(self, guild_id: int, actor: Actor, member_id: int, amount: int, reason: str) -> int:
        """Staff grant (positive) or revoke (negative) points with a reason; returns the new total."""
        config = await self.configs.get(guild_id)
        if not is_staff(actor, config.roles):
            raise NotAllowed("Only staff can grant or revoke points.")
        if not 1 <= abs(amount) <= MAX_STAFF_AMOUNT:
            raise UserFacingError(f"The amount must be between 1 and {MAX_STAFF_AMOUNT}.")
        reason = " ".join(reason.split())
        if not reason:
            raise UserFacingError("Please give a reason: it is kept in the points history.")
        kind = AwardKind.GRANT if amount > 0 else AwardKind.REVOKE
        async with self.db.session() as session:
            repo = PointsRepo(session)
            await repo.add(
                {
                    "guild_id": guild_id,
                    "member_id": member_id,
                    "amount": amount,
                    "kind": kind.value,
                    "rule": f"staff {kind.value}",
                    "reason": reason[:300],
                    "awarded_by_id": actor.user_id,
                    "created_at": self.clock.now(),
                }
            )
            total, _ = await repo.all_time(guild_id, member_id)
        return total

    async def history_for(self, guild_id: int, actor: Actor, member_id: int | None) -> Sequence[PointEntry]:
        """`/points history`: the latest ledger entries, for staff only."""
        config = await self.configs.get(guild_id)
        if not is_staff(actor, config.roles):
            raise NotAllowed("Only staff can read the points history.")
        return await self.history(guild_id, member_id)

    async def history(self, guild_id: int, member_id: int | None, limit: int = 10) -> Sequence[PointEntry]:
        async with self.db.reading() as session:
            return await PointsRepo(session).history(guild_id, member_id, limit)

    # ---- reading ----------------------------------------------------------------------------------

    async def standing(self, guild_id: int, member_id: int, excluded: Collection[int] = ()) -> MemberStanding:
        """What `/points` shows: totals, this week, ranks (none for excluded members), solutions."""
        config = await self.configs.get(guild_id)
        week = window_span(Window.WEEK, self.clock.now(), config.settings.zone)
        assert week.start and week.end
        async with self.db.reading() as session:
            repo = PointsRepo(session)
            total, solutions = await repo.all_time(guild_id, member_id)
            week_points = await repo.window_total(guild_id, member_id, week.start, week.end)
            ranked = member_id not in excluded
            week_rank = await repo.rank_window(guild_id, week_points, week.start, week.end, excluded)
            all_rank = await repo.rank_all(guild_id, total, excluded)
        return MemberStanding(
            member_id=member_id,
            total=total,
            week=week_points,
            week_rank=week_rank if ranked and week_points > 0 else None,
            all_rank=all_rank if ranked and total > 0 else None,
            solutions=solutions,
        )

    async def leaderboard(
        self,
        guild_id: int,
        window: Window,
        page: int = 0,
        excluded: Collection[int] = (),
        span: Span | None = None,
    ) -> LeaderboardPage:
        """One page of the leaderboard for a window (or an explicit ``span``, e.g. last week)."""
        config = await self.configs.get(guild_id)
        span = span or window_span(window, self.clock.now(), config.settings.zone)
        size = PAGE_SIZE
        async with self.db.reading() as session:
            repo = PointsRepo(session)
            if span.start is None or span.end is None:
                count = await repo.count_all(guild_id, excluded)
                page = _clamp(page, count, size)
                rows = await repo.top_all(guild_id, limit=size, offset=page * size, excluded=excluded)
                first = await repo.rank_all(guild_id, rows[0][1], excluded) if rows else 1
            else:
                count = await repo.count_window(guild_id, span.start, span.end, excluded)
                page = _clamp(page, count, size)
                rows = await repo.top_window(
                    guild_id, span.start, span.end, limit=size, offset=page * size, excluded=excluded
                )
                first = (
                    await repo.rank_window(guild_id, rows[0][1], span.start, span.end, excluded)
                    if rows
                    else 1
                )
        ranked = competition_ranks(rows, first, page * size)
        pages = max(1, -(-count // size))
        return LeaderboardPage(window=window, span=span, page=page, pages=pages, rows=ranked)

    async def revoke_thread(
        self, session: AsyncSession, thread_id: int, *, by: int | None, reason: str
    ) -> list[PointEntry]:
        """Revoke every award a thread produced (its solution moved or was removed)."""
        kinds = [k.value for k in ASKER_AWARDS]
        return list(
            await PointsRepo(session).revoke_thread_awards(
                thread_id, kinds, by=by, reason=reason, now=self.clock.now()
            )
        )
