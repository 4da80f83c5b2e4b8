"""Points ledger and its maintained totals, solutions, and weekly posts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MemberPoints, PointEntry, Solution, ThreadMessage, WeeklyPost
from storage.repositories import insert_ignoring_duplicates

SOLUTION_KIND = "solution"


def _live() -> ColumnElement[bool]:
    return PointEntry.revoked_at.is_(None)


def _not_excluded(column: Any, excluded: Collection[int]) -> ColumnElement[bool]:
    return column.not_in(list(excluded)) if excluded else and_(True)


class PointsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- writing --------------------------------------------------------------------------------

    async def add(self, values: dict[str, Any]) -> bool:
        """Write one ledger line and move the member's total with it; False if it was a duplicate."""
        if not await insert_ignoring_duplicates(self.session, PointEntry, values):
            return False
        solutions = 1 if values["kind"] == SOLUTION_KIND else 0
        await self._bump(values["guild_id"], values["member_id"], values["amount"], solutions)
        return True

    async def _bump(self, guild_id: int, member_id: int, amount: int, solutions: int) -> None:
        dialect = self.session.bind.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(MemberPoints).values(
            guild_id=guild_id, member_id=member_id, total=amount, solutions=solutions
        )
        statement = statement.on_conflict_do_update(
            index_elements=["guild_id", "member_id"],
            set_={
                "total": MemberPoints.total + amount,
                "solutions": MemberPoints.solutions + solutions,
            },
        )
        await self.session.execute(statement)

    async def revoke(
        self, where: ColumnElement[bool], *, by: int | None, reason: str, now: datetime
    ) -> Sequence[PointEntry]:
        """Revoke the live lines matching ``where`` (kept in the ledger, marked revoked)."""
        rows = (await self.session.scalars(select(PointEntry).where(where, _live()).with_for_update())).all()
        for row in rows:
            row.revoked_at, row.revoked_by_id, row.revoke_reason = now, by, reason[:300]
            await self._bump(row.guild_id, row.member_id, -row.amount, -1 if row.kind == SOLUTION_KIND else 0)
        return rows

    async def revoke_thread_awards(
        self, thread_id: int, kinds: Collection[str], *, by: int | None, reason: str, now: datetime
    ) -> Sequence[PointEntry]:
        where = and_(PointEntry.thread_id == thread_id, PointEntry.kind.in_(list(kinds)))
        return await self.revoke(where, by=by, reason=reason, now=now)

    # ---- rule inputs ----------------------------------------------------------------------------

    async def pair_counts(
        self, guild_id: int, asker_id: int, members: Collection[int], kinds: Collection[str], since: datetime
    ) -> dict[int, int]:
        """Live awards each member got from this asker since ``since`` (the collusion cap)."""
        if not members:
            return {}
        rows = await self.session.execute(
            select(PointEntry.member_id, func.count())
            .where(
                PointEntry.guild_id == guild_id,
                PointEntry.member_id.in_(list(members)),
                PointEntry.awarded_by_id == asker_id,
                PointEntry.kind.in_(list(kinds)),
                PointEntry.created_at >= since,
                _live(),
            )
            .group_by(PointEntry.member_id)
        )
        return dict(rows.tuples().all())

    async def earned_since(
        self, guild_id: int, members: Collection[int], kind: str, since: datetime
    ) -> dict[int, int]:
        """Points of one kind each member earned since ``since`` (the daily assist cap)."""
        if not members:
            return {}
        rows = await self.session.execute(
            select(PointEntry.member_id, func.sum(PointEntry.amount))
            .where(
                PointEntry.guild_id == guild_id,
                PointEntry.member_id.in_(list(members)),
                PointEntry.kind == kind,
                PointEntry.created_at >= since,
                _live(),
            )
            .group_by(PointEntry.member_id)
        )
        return {member: int(total) for member, total in rows.tuples()}

    async def thread_repliers(self, thread_id: int, before_message_id: int) -> list[int]:
        """Humans who wrote in the thread before the given message (ids grow with time)."""
        rows = await self.session.scalars(
            select(ThreadMessage.author_id)
            .where(ThreadMessage.thread_id == thread_id, ThreadMessage.id < before_message_id)
            .distinct()
        )
        return list(rows.all())

    # ---- reading --------------------------------------------------------------------------------

    async def all_time(self, guild_id: int, member_id: int) -> tuple[int, int]:
        """(total points, accepted solutions) of a member."""
        row = await self.session.get(MemberPoints, (guild_id, member_id))
        return (row.total, row.solutions) if row else (0, 0)

    async def window_total(self, guild_id: int, member_id: int, start: datetime, end: datetime) -> int:
        total = await self.session.scalar(
            select(func.coalesce(func.sum(PointEntry.amount), 0)).where(
                PointEntry.guild_id == guild_id,
                PointEntry.member_id == member_id,
                PointEntry.created_at >= start,
                PointEntry.created_at < end,
                _live(),
            )
        )
        return int(total or 0)

    def _window_sums(
        self, guild_id: int, start: datetime, end: datetime, excluded: Collection[int]
    ) -> Select[tuple[int, int]]:
        return (
            select(PointEntry.member_id.label("member_id"), func.sum(PointEntry.amount).label("points"))
            .where(
                PointEntry.guild_id == guild_id,
                PointEntry.created_at >= start,
                PointEntry.created_at < end,
                _live(),
                _not_excluded(PointEntry.member_id, excluded),
            )
            .group_by(PointEntry.member_id)
        )

    async def top_window(
        self,
        guild_id: int,
        start: datetime,
        end: datetime,
        *,
        limit: int,
        offset: int,
        excluded: Collection[int],
    ) -> list[tuple[int, int]]:
        """Members by points earned in ``[start, end)``, best first; ties by member id."""
        sums = self._window_sums(guild_id, start, end, excluded).subquery()
        rows = await self.session.execute(
            select(sums.c.member_id, sums.c.points)
            .where(sums.c.points > 0)
            .order_by(sums.c.points.desc(), sums.c.member_id)
            .limit(limit)
            .offset(offset)
        )
        return [(m, int(p)) for m, p in rows.tuples()]

    async def top_all(
        self, guild_id: int, *, limit: int, offset: int, excluded: Collection[int]
    ) -> list[tuple[int, int]]:
        rows = await self.session.execute(
            select(MemberPoints.member_id, MemberPoints.total)
            .where(MemberPoints.guild_id == guild_id, MemberPoints.total > 0)
            .where(_not_excluded(MemberPoints.member_id, excluded))
            .order_by(MemberPoints.total.desc(), MemberPoints.member_id)
            .limit(limit)
            .offset(offset)
        )
        return [(m, int(p)) for m, p in rows.tuples()]

    async def count_window(
        self, guild_id: int, start: datetime, end: datetime, excluded: Collection[int]
    ) -> int:
        sums = self._window_sums(guild_id, start, end, excluded).subquery()
        return int(
            await self.session.scalar(select(func.count()).select_from(sums).where(sums.c.points > 0)) or 0
        )

    async def count_all(self, guild_id: int, excluded: Collection[int]) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(MemberPoints)
            .where(MemberPoints.guild_id == guild_id, MemberPoints.total > 0)
            .where(_not_excluded(MemberPoints.member_id, excluded))
        )
        return int(count or 0)

    async def rank_window(
        self, guild_id: int, points: int, start: datetime, end: datetime, excluded: Collection[int]
    ) -> int:
        """1 + how many members earned more than ``points`` in the window."""
        sums = self._window_sums(guild_id, start, end, excluded).subquery()
        above = await self.session.scalar(
            select(func.count()).select_from(sums).where(sums.c.points > points)
        )
        return int(above or 0) + 1

    async def rank_all(self, guild_id: int, points: int, excluded: Collection[int]) -> int:
        above = await self.session.scalar(
            select(func.count())
            .select_from(MemberPoints)
            .where(MemberPoints.guild_id == guild_id, MemberPoints.total > points)
            .where(_not_excluded(MemberPoints.member_id, excluded))
        )
        return int(above or 0) + 1

    async def history(self, guild_id: int, member_id: int | None, limit: int) -> Sequence[PointEntry]:
        statement = select(PointEntry).where(PointEntry.guild_id == guild_id)
        if member_id is not None:
            statement = statement.where(PointEntry.member_id == member_id)
        rows = await self.session.scalars(statement.order_by(PointEntry.id.desc()).limit(limit))
        return rows.all()

    async def rebuild_totals(self, guild_id: int | None = None) -> None:
        """Recompute the maintained totals from the ledger (repair tool and benchmark set-up)."""
        scope = [MemberPoints.guild_id == guild_id] if guild_id is not None else []
        await self.session.execute(delete(MemberPoints).where(*scope))
        where = [_live()] + ([PointEntry.guild_id == guild_id] if guild_id is not None else [])
        sums = (
            select(
                PointEntry.guild_id,
                PointEntry.member_id,
                func.sum(PointEntry.amount),
                func.sum(case((PointEntry.kind == SOLUTION_KIND, 1), else_=0)),
            )
            .where(*where)
            .group_by(PointEntry.guild_id, PointEntry.member_id)
        )
        await self.session.execute(
            MemberPoints.__table__.insert().from_select(["guild_id", "member_id", "total", "solutions"], sums)
        )


class SolutionRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, thread_id: int) -> Solution | None:
        return await self.session.get(Solution, thread_id, populate_existing=True)

    async def insert(self, values: dict[str, Any]) -> bool:
        return await insert_ignoring_duplicates(self.session, Solution, values)

    async def delete(self, thread_id: int) -> None:
        await self.session.execute(delete(Solution).where(Solution.thread_id == thread_id))


#: A weekly post's status: owed to Discord (in the claim's transaction), or skipped.
POSTED, SKIPPED = "posted", "skipped"
#: Claimed by a version of Unstuck from before owed actions, and perhaps sent (owed at the next sweep).
LEGACY_POSTING = "posting"


class WeeklyPostRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, values: dict[str, Any]) -> bool:
        """Create the (guild, week, kind) row; False when another run got there first."""
        return await insert_ignoring_duplicates(self.session, WeeklyPost, values)

    async def get(self, guild_id: int, week: str, kind: str) -> WeeklyPost | None:
        return await self.session.get(WeeklyPost, (guild_id, week, kind), populate_existing=True)

    async def settle_legacy(
        self, guild_id: int, week: str, kind: str, status: str, note: str, now: datetime
    ) -> bool:
        """A post an older version left ``posting`` is owed (or skipped) now; False when another
        run did it first."""
        outcome = await self.session.execute(
            update(WeeklyPost)
            .where(
                WeeklyPost.guild_id == guild_id,
                WeeklyPost.week == week,
                WeeklyPost.kind == kind,
                WeeklyPost.status == LEGACY_POSTING,
            )
            .values(status=status, note=note, updated_at=now)
        )
        return bool(outcome.rowcount)  # type: ignore[attr-defined]
