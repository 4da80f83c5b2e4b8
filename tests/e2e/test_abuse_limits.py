"""Abuse limits end to end: `/escalate` batching and its cooldown, cooldowns of costly commands,
and solved-emoji reactions that cost nothing or change nothing when they should not count."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.permissions import Actor
from emulator import InteractionReply
from emulator.messages import buttons
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


async def test_a_member_spamming_similar_is_asked_to_wait_then_may_search_again(world: World) -> None:
    c = world.c
    for _ in range(4):
        reply = await world.emu.user_runs_slash(
            c.mallory, c.general, "similar", options={"text": "pandas csv"}
        )
        assert "No solved thread matches" in reply.text()
    slow_down = await world.emu.user_runs_slash(c.mallory, c.general, "similar", options={"text": "pandas"})
    assert slow_down.ephemeral and "please try `/similar` again in 15 s" in slow_down.text()
    helper = await world.emu.user_runs_slash(c.helen, c.general, "similar", options={"text": "pandas"})
    assert "No solved thread matches" in helper.text()  # helpers and staff have no cooldown
    world.clock.advance(timedelta(seconds=15))
    again = await world.emu.user_runs_slash(c.mallory, c.general, "similar", options={"text": "pandas"})
    assert "No solved thread matches" in again.text()


async def test_leaderboard_pages_share_one_cooldown_with_the_command(world: World) -> None:
    c = world.c
    staff = Actor(c.sam, role_ids=frozenset({c.staff_role}))
    for n in range(12):  # two pages
        member = world.emu.create_user(f"member{n}")
        world.emu.add_member(c.guild, member)
        await world.bot.services.points.adjust(c.guild, staff, member, n + 1, "thanks")
    board = await world.emu.user_runs_slash(c.mallory, c.general, "leaderboard", options={"window": "all"})

    async def turn_page() -> InteractionReply:
        """Click whichever page button is enabled (Next on page 1, Previous on page 2)."""
        shown = world.emu.interactions.ephemeral[board.message_id]
        [button] = [b for b in buttons(shown) if not b.get("disabled")]
        return await world.emu.user_clicks_button(c.mallory, c.general, board.message_id, button["custom_id"])

    for _ in range(5):
        assert "Top helpers" in (await turn_page()).text()
    refused = await turn_page()
    assert refused.ephemeral and "please try the leaderboard again in 5 s" in refused.text()
    command = await world.emu.user_runs_slash(c.mallory, c.general, "leaderboard")
    assert command.ephemeral and "again in 5 s" in command.text()
    world.clock.advance(timedelta(seconds=5))
    assert "Top helpers" in (await turn_page()).text()


async def test_stats_open_to_everyone_has_a_cooldown_for_members_only(world: World) -> None:
    c = world.c
    await world.emu.user_runs_slash(
        c.admin, c.general, "unstuck config set", options={"key": "stats.visibility", "value": "everyone"}
    )
    for _ in range(2):
        assert (
            "Help-channel health" in (await world.emu.user_runs_slash(c.mallory, c.general, "stats")).text()
        )
    refused = await world.emu.user_runs_slash(c.mallory, c.general, "stats")
    assert refused.ephemeral and "please try `/stats` again in 30 s" in refused.text()
    for _ in range(3):
        assert "Help-channel health" in (await world.emu.user_runs_slash(c.sam, c.general, "stats")).text()
