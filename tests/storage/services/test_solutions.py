"""Points ledger, solutions and totals on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.config import GuildSettings
from bot.domain.permissions import Actor
from bot.domain.sharding import ShardScope
from bot.domain.windows import Window
from bot.services.errors import NotAllowed, UserFacingError
from bot.services.help_threads import HelpThreadService, NewThread
from bot.services.points import PointsService
from bot.services.server_config import ServerConfigService
from bot.services.solutions import AnswerRef, MarkKind, SolutionService, Via
from storage.engine import Database
from storage.models import MemberPoints, PointEntry
from storage.points_repo import PointsRepo
from tests.storage.services.test_help_threads import FakePort

GUILD, ASKER, HELPER, OTHER, STAFF_ROLE = 1 << 22, 100, 200, 300, 20


@dataclass
class Svc:
    clock: FakeClock
    threads: HelpThreadService
    points: PointsService
    solutions: SolutionService


@pytest.fixture
async def svc(db: Database, clock: FakeClock) -> Svc:
    configs = ServerConfigService(db, clock, GuildSettings())
    points = PointsService(db, clock, configs)
    await configs.add_role(GUILD, STAFF_ROLE, "staff")
    threads = HelpThreadService(db, clock, configs, ShardScope())
    return Svc(clock, threads, points, SolutionService(db, clock, configs, points))


async def ask(svc: Svc, thread_id: int, asker: int = ASKER) -> int:
    await svc.threads.open_thread(
        NewThread(thread_id, GUILD, 50, "forum", asker, "Question", "body", svc.clock.now()), FakePort()
    )
    return thread_id


async def reply(svc: Svc, thread_id: int, message_id: int, author: int) -> AnswerRef:
    await svc.threads.record_message(
        thread_id=thread_id,
        message_id=message_id,
        author_id=author,
        author_is_bot=False,
        created_at=svc.clock.now(),
    )
    return AnswerRef(message_id, thread_id, author, False, "the answer")


async def total(svc: Svc, member: int) -> int:
    return (await svc.points.standing(GUILD, member)).total


async def test_marking_awards_solution_and_assists_and_totals_match_the_ledger(
    svc: Svc, db: Database
) -> None:
    thread = await ask(svc, 1)
    await reply(svc, thread, 10, OTHER)  # helped before the answer: an assist
    answer = await reply(svc, thread, 11, HELPER)
    await reply(svc, thread, 12, 400)  # "+1, thanks" after the answer: nothing
    outcome = await svc.solutions.mark(thread, answer, Actor(ASKER), Via.COMMAND)
    assert outcome.kind is MarkKind.MARKED
    assert {(a.member_id, a.amount) for a in outcome.awards.awards} == {(HELPER, 10), (OTHER, 2)}
    assert await total(svc, HELPER) == 10
    assert await total(svc, OTHER) == 2
    async with db.session() as session:
        ledger = await session.scalar(
            select(func.sum(PointEntry.amount)).where(PointEntry.revoked_at.is_(None))
        )
        maintained = await session.scalar(select(func.sum(MemberPoints.total)))
    assert ledger == maintained == 12


async def test_moving_and_unmarking_revoke_with_reasons(svc: Svc) -> None:
    thread = await ask(svc, 1)
    first = await reply(svc, thread, 11, HELPER)
    second = await reply(svc, thread, 12, OTHER)
    await svc.solutions.mark(thread, first, Actor(ASKER), Via.COMMAND)
    moved = await svc.solutions.mark(thread, second, Actor(ASKER), Via.MENU)
    assert moved.kind is MarkKind.MOVED
    assert await total(svc, OTHER) == 10
    assert await total(svc, HELPER) == 2  # now an assist
    history = await svc.points.history(GUILD, HELPER)
    assert [(e.amount, e.revoke_reason) for e in history] == [(2, None), (10, "solution moved")]
    await svc.solutions.unmark(thread, Actor(ASKER))
    assert await total(svc, OTHER) == 0
    assert await total(svc, HELPER) == 0
    assert (await svc.threads.get(thread)).state == "answered"


async def test_the_same_mark_twice_and_racing_marks_pay_once(svc: Svc) -> None:
    thread = await ask(svc, 1)
    answer = await reply(svc, thread, 11, HELPER)
    results = await asyncio.gather(
        svc.solutions.mark(thread, answer, Actor(ASKER), Via.REACTION, "✅"),
        svc.solutions.mark(thread, answer, Actor(ASKER), Via.MENU),
    )
    assert sorted(r.kind for r in results) == [MarkKind.MARKED, MarkKind.UNCHANGED]
    assert await total(svc, HELPER) == 10


async def test_the_database_refuses_a_second_live_award_for_the_same_thread(svc: Svc, db: Database) -> None:
    values = {
        "guild_id": GUILD,
        "member_id": HELPER,
        "amount": 10,
        "kind": "solution",
        "rule": "accepted solution",
        "thread_id": 1,
        "message_id": 11,
        "awarded_by_id": ASKER,
        "created_at": svc.clock.now(),
    }
    async with db.session() as session:
        assert await PointsRepo(session).add(values)
        assert not await PointsRepo(session).add({**values, "message_id": 12})
    assert await total(svc, HELPER) == 10


async def test_only_allowed_markers_and_answers(svc: Svc) -> None:
    thread = await ask(svc, 1)
    answer = await reply(svc, thread, 11, HELPER)
    with pytest.raises(NotAllowed):
        await svc.solutions.mark(thread, answer, Actor(OTHER), Via.MENU)
    with pytest.raises(UserFacingError, match="question itself"):
        await svc.solutions.mark(thread, AnswerRef(thread, thread, ASKER, False, "q"), Actor(ASKER), Via.MENU)
    with pytest.raises(UserFacingError, match="bots"):
        await svc.solutions.mark(thread, AnswerRef(13, thread, 999, True, "beep"), Actor(ASKER), Via.MENU)
    with pytest.raises(UserFacingError, match="not in this thread"):
        await svc.solutions.mark(thread, AnswerRef(14, 77, HELPER, False, "x"), Actor(ASKER), Via.MENU)
    staff = Actor(OTHER, role_ids=frozenset({STAFF_ROLE}))
    assert (await svc.solutions.mark(thread, answer, staff, Via.MENU)).kind is MarkKind.MARKED


async def test_reaction_unmark_needs_the_same_reaction(svc: Svc) -> None:
    thread = await ask(svc, 1)
    answer = await reply(svc, thread, 11, HELPER)
    await svc.solutions.mark(thread, answer, Actor(ASKER), Via.REACTION, "✅")
    assert not await svc.solutions.unmark_by_reaction(thread, OTHER, 11, "✅")
    assert not await svc.solutions.unmark_by_reaction(thread, ASKER, 12, "✅")
    assert await svc.solutions.unmark_by_reaction(thread, ASKER, 11, "✅")
    assert await svc.solutions.get(thread) is None


async def test_pair_cap_and_daily_assist_cap(svc: Svc) -> None:
    for n in range(4):
        thread = await ask(svc, 10 + n)
        answer = await reply(svc, thread, 100 + n, HELPER)
        await svc.solutions.mark(thread, answer, Actor(ASKER), Via.MENU)
    assert await total(svc, HELPER) == 30
    svc.clock.advance(timedelta(days=8))
    thread = await ask(svc, 20)
    await svc.solutions.mark(thread, await reply(svc, thread, 200, HELPER), Actor(ASKER), Via.MENU)
    assert await total(svc, HELPER) == 40
    for n in range(7):  # OTHER assists in 7 threads of different askers on one day: capped at 10
        thread = await ask(svc, 30 + n, asker=1000 + n)
        await reply(svc, thread, 300 + n, OTHER)
        answer = await reply(svc, thread, 400 + n, HELPER)
        await svc.solutions.mark(thread, answer, Actor(1000 + n), Via.MENU)
    assert await total(svc, OTHER) == 10


async def test_staff_grants_and_revokes_and_leaderboards(svc: Svc) -> None:
    staff = Actor(OTHER, role_ids=frozenset({STAFF_ROLE}))
    with pytest.raises(NotAllowed):
        await svc.points.adjust(GUILD, Actor(HELPER), HELPER, 5, "self-service")
    with pytest.raises(UserFacingError, match="reason"):
        await svc.points.adjust(GUILD, staff, HELPER, 5, "   ")
    assert await svc.points.adjust(GUILD, staff, HELPER, 25, "docs") == 25
    assert await svc.points.adjust(GUILD, staff, ASKER, 40, "talks") == 40
    assert await svc.points.adjust(GUILD, staff, ASKER, -15, "typo") == 25
    board = await svc.points.leaderboard(GUILD, Window.ALL)
    assert [(rank, member) for rank, member, _ in board.rows] == [(1, ASKER), (1, HELPER)]  # tied
    week = await svc.points.leaderboard(GUILD, Window.WEEK, excluded={ASKER})
    assert [member for _, member, _ in week.rows] == [HELPER]
    standing = await svc.points.standing(GUILD, HELPER)
    assert (standing.total, standing.week, standing.week_rank, standing.all_rank) == (25, 25, 1, 1)
    await svc.points.adjust(GUILD, staff, OTHER, 30, "reviews")
    board = await svc.points.leaderboard(GUILD, Window.ALL)
    assert [(rank, member) for rank, member, _ in board.rows] == [(1, OTHER), (2, ASKER), (2, HELPER)]
