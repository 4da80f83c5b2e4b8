"""Gateway events as real Discord sends them, including the odd ones: no errors, no lost work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.domain.lifecycle import ThreadState
from bot.local import BotRunner
from emulator import Emulator
from tests.conftest import sqlite_copy
from tests.e2e.conftest import World
from tests.e2e.harness import LogGuard, build_community, eventually
from tests.e2e.test_solutions import answer, forum_thread, points_of, solved_with

UNKNOWN = 1_450_000_000_000_000_001


async def test_messages_and_deletions_in_unknown_channels_are_ignored(world: World) -> None:
    message = await world.emu.user_says(world.c.mallory, world.c.general, "hello")
    stray = {
        **world.emu.message(world.c.general, int(message["id"])),
        "id": str(UNKNOWN),
        "channel_id": str(UNKNOWN),
    }
    stray["guild_id"] = str(world.c.guild)
    stray["member"] = {
        "roles": [],
        "joined_at": "2026-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
    }
    async with world.handled("raw_thread_delete", lambda p: p.thread_id == UNKNOWN):
        await world.emu.dispatch_raw("MESSAGE_CREATE", stray, world.c.guild)
        await world.emu.dispatch_raw(
            "MESSAGE_DELETE",
            {"id": str(UNKNOWN), "channel_id": str(UNKNOWN), "guild_id": str(world.c.guild)},
            world.c.guild,
        )
        await world.emu.dispatch_raw(
            "THREAD_DELETE",
            {"id": str(UNKNOWN), "guild_id": str(world.c.guild), "parent_id": str(world.c.forum), "type": 11},
            world.c.guild,
        )
    thread_id = await forum_thread(world)  # and the bot still works
    assert (await world.bot.services.threads.get(thread_id)).state == ThreadState.OPEN


async def test_a_reaction_on_an_uncached_message_after_a_restart_still_marks(world: World) -> None:
    thread_id = await forum_thread(world)
    reply = await answer(world, thread_id, world.c.helen)
    await world.restart()  # the message cache is empty now
    await world.emu.user_reacts(world.c.alice, thread_id, reply, "✅")
    await solved_with(world, thread_id, reply)
    assert await points_of(world, world.c.helen) == 10
    await world.restart()
    await world.emu.user_unreacts(world.c.alice, thread_id, reply, "✅")

    async def unmarked() -> bool:
        return await world.bot.services.solutions.get(thread_id) is None

    await eventually(unmarked, what="the solution to be unmarked")
    assert await points_of(world, world.c.helen) == 0


async def test_unrelated_reactions_and_other_emoji_change_nothing(world: World) -> None:
    thread_id = await forum_thread(world)
    reply = await answer(world, thread_id, world.c.helen)
    async with world.handled("raw_reaction_remove"):
        await world.emu.user_reacts(world.c.alice, thread_id, reply, "👍")
        general = await world.emu.user_says(world.c.helen, world.c.general, "not a thread")
        await world.emu.user_reacts(world.c.alice, world.c.general, int(general["id"]), "✅")
        await world.emu.user_unreacts(world.c.alice, world.c.general, int(general["id"]), "✅")
    assert await world.bot.services.solutions.get(thread_id) is None


@pytest.fixture
async def no_member_cache(
    emu: Emulator, clock: FakeClock, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[World]:
    """The bot without the members intent: nearly nobody is in its member cache."""
    community = build_community(emu)
    env = {"UNSTUCK_INTENTS__MEMBERS": "false"}
    runner = BotRunner(emu, clock, sqlite_copy(sqlite_template, tmp_path), env=env)
    with LogGuard() as guard:
        await runner.start({community.guild})
        w = World(emu=emu, clock=clock, runner=runner, c=community)
        await w.configure()
        yield w
        await w.stop()
    assert emu.problems == []
    assert guard.messages() == []


async def test_members_that_are_not_cached_can_ask_answer_and_mark(no_member_cache: World) -> None:
    w = no_member_cache
    newcomer = w.emu.create_user("newcomer")
    w.emu.add_member(w.c.guild, newcomer)
    thread_id = await forum_thread(w, asker=newcomer)
    reply = await answer(w, thread_id, w.c.helen)
    await w.emu.user_reacts(newcomer, thread_id, reply, "✅")
    await solved_with(w, thread_id, reply)
    shown = await w.emu.user_runs_slash(newcomer, w.c.general, "points show", options={"member": w.c.helen})
    assert "10" in shown.text()
    board = await w.emu.user_runs_slash(newcomer, w.c.general, "leaderboard")
    assert f"<@{w.c.helen}>" in board.text()
