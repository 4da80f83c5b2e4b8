"""Points (bot.services.points) on SQLite and PostgreSQL: the ledger pays once, the caps hold, staff
grant and revoke, leaderboards rank."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.permissions import Actor
from bot.domain.windows import Window
from bot.services.errors import NotAllowed, UserFacingError
from bot.services.solutions import Via
from storage.engine import Database
from storage.points_repo import PointsRepo
from tests.storage.services.answers import ASKER, GUILD, HELPER, OTHER, STAFF_ROLE, Svc, ask, reply, total


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
