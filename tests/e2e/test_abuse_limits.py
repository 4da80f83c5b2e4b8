"""Abuse limits end to end: `/escalate` batching and its cooldown, cooldowns of costly commands,
and solved-emoji reactions that cost nothing or change nothing when they should not count."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.conftest import World
from tests.e2e.test_escalation import ask, digests, listed, pings_of, set_escalation_channel, tick


async def test_one_asker_escalating_four_threads_pings_the_helpers_once(world: World) -> None:
    await set_escalation_channel(world)
    threads = [await ask(world, f"Stuck on part {n}") for n in range(4)]
    bobs = await ask(world, "Bob is stuck too", who=world.c.bob)
    world.clock.advance(timedelta(minutes=30))
    first = await world.emu.user_runs_slash(world.c.alice, threads[0], "escalate")
    assert not first.ephemeral and "next escalation digest" in first.text()
    world.clock.advance(timedelta(minutes=5))
    for thread in threads[1:]:
        refused = await world.emu.user_runs_slash(world.c.alice, thread, "escalate")
        assert refused.ephemeral
        assert f"You escalated <#{threads[0]}> 5 min ago" in refused.text()
        assert "you can escalate again in 25 min" in refused.text()
    other = await world.emu.user_runs_slash(world.c.bob, bobs, "escalate")
    assert not other.ephemeral
    assert digests(world) == []  # nothing is sent by the command itself
    await tick(world)
    [digest] = digests(world)
    assert "Stuck on part 0" in listed(digest) and "Bob is stuck too" in listed(digest)
    assert "Stuck on part 1" not in listed(digest)
    assert len(pings_of(world, digest)) == 1
    world.clock.advance(timedelta(minutes=25))
    again = await world.emu.user_runs_slash(world.c.alice, threads[1], "escalate")
    assert not again.ephemeral and "next escalation digest" in again.text()


async def test_the_escalate_cooldown_survives_a_restart(world: World) -> None:
    await set_escalation_channel(world)
    first, second = await ask(world, "First question"), await ask(world, "Second question")
    world.clock.advance(timedelta(minutes=30))
    await world.emu.user_runs_slash(world.c.alice, first, "escalate")
    await world.restart()
    world.clock.advance(timedelta(minutes=10))
    refused = await world.emu.user_runs_slash(world.c.alice, second, "escalate")
    assert refused.ephemeral and "you can escalate again in 20 min" in refused.text()
