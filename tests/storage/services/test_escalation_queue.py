"""The escalation queue staff read (bot.services.escalation_queue): what waits, and why it is held back."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.channel_access import Viewer
from tests.storage.services.escalation_world import GUILD, HELPER, OWNER, STAFF, World

SAM = Viewer(600, frozenset({STAFF}))  # staff: can view the staff-only help channel
HELEN = Viewer(HELPER)  # holds no role that lets her into it
STAFF_ONLY = 8


async def test_held_back_when_the_target_is_unusable_then_delivered(world: World) -> None:
    await world.ask(1)
    world.clock.advance(timedelta(hours=4))
    world.port.problem = "its channel (id 503) no longer exists."
    assert await world.sweep() == 0
    report = await world.escalation.queue.report(GUILD, world.port, SAM)
    assert "no longer exists" in (report.tiers[0].problem or "")
    assert [q.thread.thread_id for q in report.threads] == [1]
    world.port.problem = None
    assert await world.sweep() == 1


async def test_each_reader_sees_the_questions_of_channels_they_can_view_and_only_counts_the_rest(
    world: World,
) -> None:
    world.port.staff_only.add(STAFF_ONLY)
    await world.ask(2, channel_id=STAFF_ONLY)
    world.clock.advance(timedelta(minutes=30))
    await world.ask(1)
    await world.ask(3, channel_id=STAFF_ONLY)

    staff = await world.escalation.queue.report(GUILD, world.port, SAM)
    assert [q.thread.thread_id for q in staff.threads] == [2, 1, 3] and staff.hidden == 0
    assert (staff.tiers[0].waiting, staff.tiers[0].hidden) == (3, 0)
    assert staff.tiers[0].next_fire == staff.threads[0].fires_at

    # Helen sees thread 1 only; the staff-only ones are a count, and their times stay out too.
    helper = await world.escalation.queue.report(GUILD, world.port, HELEN)
    assert [q.thread.thread_id for q in helper.threads] == [1] and helper.hidden == 2
    assert (helper.tiers[0].waiting, helper.tiers[0].hidden) == (1, 2)
    assert helper.tiers[0].next_fire == staff.threads[1].fires_at != staff.tiers[0].next_fire

    owner = await world.escalation.queue.report(GUILD, world.port, Viewer(OWNER))
    assert len(owner.threads) == 3 and owner.hidden == 0


async def test_nothing_is_listed_while_the_server_is_unknown(world: World) -> None:
    await world.ask(1)
    world.port.guild_access = lambda guild_id, channel_ids: None  # type: ignore[method-assign]
    report = await world.escalation.queue.report(GUILD, world.port, SAM)
    assert report.threads == [] and report.hidden == 1
