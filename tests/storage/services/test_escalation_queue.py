"""The escalation queue staff read (bot.services.escalation_queue): what waits, and why it is held back."""

from __future__ import annotations

from datetime import timedelta

from tests.storage.services.escalation_world import (
    GUILD,
    World,
)


async def test_held_back_when_the_target_is_unusable_then_delivered(world: World) -> None:
    await world.ask(1)
    world.clock.advance(timedelta(hours=4))
    world.port.problem = "its channel (id 503) no longer exists."
    assert await world.sweep() == 0
    report = await world.escalation.queue.report(GUILD, world.port)
    assert "no longer exists" in (report.tiers[0].problem or "")
    assert [q.thread.thread_id for q in report.threads] == [1]
    world.port.problem = None
    assert await world.sweep() == 1
