"""Escalation scheduling, `/escalate` and claims (bot.services.escalation) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.permissions import Actor
from bot.services.errors import NotAllowed, UserFacingError
from storage.models import EscalationDelivery
from tests.storage.services.escalation_world import (
    ASKER,
    ESCALATIONS,
    GUILD,
    HELPER,
    HELPERS,
    STAFF,
    STRANGER,
    World,
)
from tests.storage.services.test_help_threads import FakePort as FakeThreadPort


async def test_a_new_thread_gets_one_pending_delivery_per_tier(world: World) -> None:
    await world.ask(1)
    async with world.db.session() as session:
        rows = (await session.execute(EscalationDelivery.__table__.select())).all()
    assert sorted((r.tier, r.due_at - world.clock.now()) for r in rows) == [
        (0, timedelta(hours=4)),
        (1, timedelta(hours=24)),
    ]


async def test_claims_are_exclusive_and_need_a_helper(world: World) -> None:
    await world.ask(1)
    world.clock.advance(timedelta(hours=4))
    await world.sweep()
    with pytest.raises(NotAllowed):
        await world.escalation.claim(GUILD, 1, Actor(STRANGER), world.port)
    result = await world.escalation.claim(GUILD, 1, Actor(HELPER, role_ids=frozenset({HELPERS})), world.port)
    assert [message for _, message in result.digest_messages] == [9000]
    with pytest.raises(UserFacingError, match="already claimed"):
        await world.escalation.claim(GUILD, 1, Actor(STRANGER, role_ids=frozenset({STAFF})), world.port)
    world.clock.advance(timedelta(days=1))
    assert await world.sweep() == 0
    assert await world.statuses(1) == {0: "sent", 1: "cancelled"}


async def test_only_someone_who_can_view_its_channel_claims_a_question(world: World) -> None:
    world.port.staff_only.add(8)
    await world.ask(1, channel_id=8)
    world.clock.advance(timedelta(hours=4))
    await world.sweep()
    with pytest.raises(NotAllowed, match="can't view"):
        await world.escalation.claim(GUILD, 1, Actor(HELPER, role_ids=frozenset({HELPERS})), world.port)
    assert await world.statuses(1) == {0: "sent", 1: "pending"}  # still on the queue
    await world.escalation.claim(GUILD, 1, Actor(STRANGER, role_ids=frozenset({STAFF})), world.port)
    assert await world.statuses(1) == {0: "sent", 1: "cancelled"}


async def test_escalate_joins_the_next_digest_and_works_once_per_thread(world: World) -> None:
    await world.ask(1)
    asker = Actor(ASKER)
    with pytest.raises(UserFacingError, match="you can escalate"):
        await world.escalation.escalate(1, asker, world.port)
    world.clock.advance(timedelta(minutes=30))
    result = await world.escalation.escalate(1, asker, world.port)
    assert result.channel_id == ESCALATIONS and result.digest_at == world.clock.now() and not result.quiet
    assert world.port.sent == []  # no digest of its own: the regular sweep sends it
    with pytest.raises(UserFacingError, match="once"):
        await world.escalation.escalate(1, asker, world.port)
    assert await world.sweep() == 1
    assert world.port.threads() == [1]
    world.clock.advance(timedelta(hours=4))
    assert await world.sweep() == 0
    assert world.port.threads() == [1]


async def test_escalations_close_together_share_one_digest(world: World) -> None:
    await world.ask(1)
    await world.ask(2, asker=STRANGER)
    world.clock.advance(timedelta(minutes=30))
    await world.escalation.escalate(1, Actor(ASKER), world.port)
    await world.escalation.escalate(2, Actor(STRANGER), world.port)
    assert await world.sweep() == 1
    assert [threads for *_, threads in world.port.sent] == [[1, 2]]


async def test_the_next_digest_waits_for_the_sweep_interval_after_the_last_one(world: World) -> None:
    await world.ask(1)
    await world.ask(2, asker=STRANGER)
    world.clock.advance(timedelta(minutes=30))
    await world.escalation.escalate(1, Actor(ASKER), world.port)
    assert await world.escalation.sweep(world.port) == 1
    world.clock.advance(timedelta(seconds=30))
    result = await world.escalation.escalate(2, Actor(STRANGER), world.port)
    assert result.digest_at == world.clock.now() + timedelta(minutes=1, seconds=30)  # 2 min after the last
    assert await world.escalation.sweep(world.port) == 0
    world.clock.advance(timedelta(minutes=1, seconds=30))
    assert await world.escalation.sweep(world.port) == 1


async def test_one_member_escalates_one_question_per_cooldown_across_threads(world: World) -> None:
    for thread_id in (1, 2, 3, 4):
        await world.ask(thread_id)
    world.clock.advance(timedelta(minutes=30))
    await world.escalation.escalate(1, Actor(ASKER), world.port)
    world.clock.advance(timedelta(minutes=5))
    for thread_id in (2, 3, 4):
        with pytest.raises(UserFacingError) as refused:
            await world.escalation.escalate(thread_id, Actor(ASKER), world.port)
        assert str(refused.value).startswith("You escalated <#1> 5 min ago;")
        assert "you can escalate again in 25 min (to keep pings rare" in str(refused.value)
    assert await world.sweep() == 1
    assert world.port.threads() == [1]
    # The cooldown is in the database: a restarted bot (a new service) still knows it.
    restarted = World(world.db, world.clock)
    world.clock.advance(timedelta(minutes=24, seconds=30))
    with pytest.raises(UserFacingError, match="again in 1 min"):
        await restarted.escalation.escalate(2, Actor(ASKER), restarted.port)
    world.clock.advance(timedelta(seconds=30))
    await restarted.escalation.escalate(2, Actor(ASKER), restarted.port)
    assert await restarted.sweep() == 1
    assert restarted.port.threads() == [2]


async def test_the_escalate_cooldown_is_a_server_setting(world: World) -> None:
    await world.configs.set_value(GUILD, "escalation.escalate_cooldown", "0s")
    await world.ask(1)
    await world.ask(2)
    world.clock.advance(timedelta(minutes=30))
    await world.escalation.escalate(1, Actor(ASKER), world.port)
    await world.escalation.escalate(2, Actor(ASKER), world.port)
    assert await world.sweep() == 1
    assert sorted(world.port.threads()) == [1, 2]


async def test_tier_edits_move_pending_due_times(world: World) -> None:
    await world.ask(1)
    await world.configs.set_tier(GUILD, 1, "1h", "helper", "escalation", world.port)
    await world.configs.set_tier(GUILD, 3, "2d", "staff", "escalation", world.port)
    statuses = await world.statuses(1)
    assert statuses == {0: "pending", 1: "pending", 2: "pending"}
    world.clock.advance(timedelta(hours=1))
    assert await world.sweep() == 1
    await world.configs.remove_tier(GUILD, 3)
    assert (await world.statuses(1))[2] == "cancelled"


async def due_times_of(world: World, thread_id: int) -> dict[int, tuple[str, timedelta]]:
    """tier -> (status, due time counted from now)."""
    async with world.db.session() as session:
        rows = (await session.execute(EscalationDelivery.__table__.select())).all()
    return {r.tier: (r.status, r.due_at - world.clock.now()) for r in rows if r.thread_id == thread_id}


async def test_a_reopened_unanswered_thread_is_escalated_again_counting_from_the_reopening(
    world: World,
) -> None:
    await world.ask(1)
    await world.threads.close(1, Actor(ASKER), "stale")
    world.clock.advance(timedelta(hours=25))
    await world.sweep()
    assert await world.statuses(1) == {0: "cancelled", 1: "cancelled"}  # closed when they fell due
    await world.threads.reopen(1, Actor(ASKER))
    assert await due_times_of(world, 1) == {
        0: ("pending", timedelta(hours=4)),
        1: ("pending", timedelta(hours=24)),
    }
    world.clock.advance(timedelta(hours=4))
    assert await world.sweep() == 1
    assert world.port.threads() == [1]
    # Closed and reopened once more: the tier already sent is not sent twice.
    await world.threads.close(1, Actor(ASKER), "stale")
    world.clock.advance(timedelta(hours=24))
    await world.sweep()
    await world.threads.reopen(1, Actor(ASKER))
    assert await due_times_of(world, 1) == {
        0: ("sent", -timedelta(hours=24)),
        1: ("pending", timedelta(hours=24)),
    }


async def test_an_answered_thread_reopened_is_not_queued_again(world: World) -> None:
    await world.ask(1)
    await world.threads.record_message(
        thread_id=1, message_id=11, author_id=HELPER, author_is_bot=False, created_at=world.clock.now()
    )
    await world.threads.close(1, Actor(ASKER), "solved")
    world.clock.advance(timedelta(hours=25))
    await world.sweep()
    await world.threads.reopen(1, Actor(ASKER))
    assert await world.statuses(1) == {0: "cancelled", 1: "cancelled"}


async def test_threads_tracked_before_escalation_existed_get_their_tiers_at_start_up(world: World) -> None:
    world.threads.opened.clear()  # as before migration 0004: tracked without delivery rows
    await world.ask(1)
    world.clock.advance(timedelta(hours=1))
    assert await world.statuses(1) == {}
    assert await world.escalation.schedule_unscheduled(GUILD) == 1
    assert await due_times_of(world, 1) == {
        0: ("pending", timedelta(hours=3)),
        1: ("pending", timedelta(hours=23)),
    }
    assert await world.escalation.schedule_unscheduled(GUILD) == 0


async def test_the_asker_waking_a_dormant_unanswered_thread_queues_it_again(world: World) -> None:
    await world.ask(1)
    world.clock.advance(timedelta(days=4))
    await world.threads.sweep_dormant(FakeThreadPort())
    await world.sweep()
    assert await world.statuses(1) == {0: "cancelled", 1: "cancelled"}
    await world.threads.record_message(
        thread_id=1, message_id=11, author_id=ASKER, author_is_bot=False, created_at=world.clock.now()
    )
    assert await due_times_of(world, 1) == {
        0: ("pending", timedelta(hours=4)),
        1: ("pending", timedelta(hours=24)),
    }


async def test_escalate_in_quiet_hours_says_the_digest_waits_until_they_end(world: World) -> None:
    await world.configs.set_quiet_hours(GUILD, "22:00", "07:00")
    world.clock.set(datetime(2026, 1, 5, 22, 0, tzinfo=UTC))
    await world.ask(1)
    world.clock.advance(timedelta(minutes=30))
    result = await world.escalation.escalate(1, Actor(ASKER), world.port)
    assert result.quiet and result.digest_at == datetime(2026, 1, 6, 7, 0, tzinfo=UTC)
    assert await world.sweep() == 0
    world.clock.set(datetime(2026, 1, 6, 7, 0, tzinfo=UTC))
    assert await world.sweep() == 1


async def test_escalate_with_a_broken_tier_waits_in_the_queue_and_says_why(world: World) -> None:
    await world.ask(1)
    world.clock.advance(timedelta(minutes=30))
    world.port.problem = "the channel is gone"
    result = await world.escalation.escalate(1, Actor(ASKER), world.port)
    assert result.digest_at is None and result.problem is not None and "the channel is gone" in result.problem
