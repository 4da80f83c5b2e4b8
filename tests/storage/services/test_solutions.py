"""Marking solutions (bot.services.solutions) on SQLite and PostgreSQL: one accepted answer per
thread, points moved with it, only allowed people and answers."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.domain.permissions import Actor
from bot.services.errors import NotAllowed, UserFacingError
from bot.services.solutions import AnswerRef, MarkKind, Via
from storage.engine import Database
from storage.models import MemberPoints, PointEntry
from tests.storage.services.answers import ASKER, GUILD, HELPER, OTHER, STAFF_ROLE, Svc, ask, reply, total


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


async def test_a_reaction_is_judged_from_the_event_before_anything_is_fetched(svc: Svc) -> None:
    thread_id = await ask(svc, 1)
    thread = await svc.threads.get(thread_id)
    assert thread is not None
    may = svc.solutions.reaction_may_mark
    assert await may(thread, Actor(ASKER), 11, HELPER, 999)
    assert await may(thread, Actor(OTHER, role_ids=frozenset({STAFF_ROLE})), 11, HELPER, 999)
    assert not await may(thread, Actor(OTHER), 11, HELPER, 999)  # may not mark
    assert not await may(thread, Actor(ASKER), thread_id, ASKER, 999)  # the question itself
    assert not await may(thread, Actor(ASKER), 11, 999, 999)  # the bot's own message


async def test_cleared_reactions_keep_the_solution_and_are_forgotten(svc: Svc) -> None:
    thread = await ask(svc, 1)
    answer = await reply(svc, thread, 11, HELPER)
    await svc.solutions.mark(thread, answer, Actor(ASKER), Via.REACTION, "✅")
    await svc.solutions.reactions_cleared(thread, 11, "✅")
    solution = await svc.solutions.get(thread)
    assert solution is not None and solution.message_id == 11
    assert await total(svc, HELPER) == 10
    assert await svc.solutions.seen_reactions(thread, "✅") == set()
    # Its marker's ✅ again, then taken back: that unmarks, as any reaction of the marker does.
    await svc.solutions.mark(thread, answer, Actor(ASKER), Via.REACTION, "✅")
    assert await svc.solutions.unmark_by_reaction(thread, ASKER, 11, "✅")
    assert await total(svc, HELPER) == 0


async def test_deleting_the_accepted_answer_unmarks_and_other_deletions_change_nothing(svc: Svc) -> None:
    thread = await ask(svc, 1)
    answer = await reply(svc, thread, 11, HELPER)
    await reply(svc, thread, 12, OTHER)
    await svc.solutions.mark(thread, answer, Actor(ASKER), Via.MENU)
    assert not await svc.solutions.answer_deleted(thread, 12)
    assert await total(svc, HELPER) == 10
    assert await svc.solutions.answer_deleted(thread, 11)
    assert await svc.solutions.get(thread) is None
    assert await total(svc, HELPER) == 0
    assert not await svc.solutions.answer_deleted(thread, 11)  # delivered twice: nothing more
