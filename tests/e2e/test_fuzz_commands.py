"""Hostile and malformed input through the emulator: every command answers, privately and clearly.

Hypothesis pushes odd text into every free-text option: empty, 6,000 characters, zero-width and
right-to-left characters, @everyone, role and user mentions, markdown and code fences, links and
ids of other servers. Whatever comes in, the bot answers ephemerally, nothing reaches the log as an
error, the emulator sees no invalid request, and nobody is pinged.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Coroutine, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import FakeClock
from bot.local import BotRunner
from emulator import Emulator
from storage.migrate import upgrade
from tests.e2e.conftest import World
from tests.e2e.harness import LogGuard, build_community, unexpected_pings

T = TypeVar("T")
OTHER_GUILD = 1_163_000_000_000_000_001
SPECIAL = [
    "",
    " ",
    "x" * 6000,
    "\u200b\u200c\u200d",
    "\u202eevil right-to-left\u202c",
    "@everyone",
    "@here please",
    "<@1> <@&2> <#3>",
    "**bold** __under__ `code` ||spoiler||",
    "```py\nraise SystemExit\n```",
    "https://discord.com/channels/1/2/3",
    f"https://discord.com/channels/{OTHER_GUILD}/{OTHER_GUILD}/{OTHER_GUILD}",
    str(OTHER_GUILD),
    "help.dormant_after",
    "'; DROP TABLE help_threads; --",
    "null",
    "[1, 2",
    "🙂" * 50,
]
TEXT = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=80),
    st.builds(lambda a, b: a + b, st.sampled_from(SPECIAL), st.text(max_size=20)),
)


class Live:
    """A world (emulator, community, bot) running on its own event loop in a background thread,
    so that synchronous Hypothesis examples can drive it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.directory = tempfile.TemporaryDirectory(prefix="unstuck-fuzz-")
        self.guard = LogGuard()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def start(self) -> World:
        clock = FakeClock()
        self.emu = Emulator(clock=clock.now)
        await self.emu.start()
        self.emu.configure_discord_py()
        url = f"sqlite+aiosqlite:///{Path(self.directory.name) / 'fuzz.db'}"
        await asyncio.to_thread(upgrade, url)
        community = build_community(self.emu)
        runner = BotRunner(self.emu, clock, url)
        await runner.start({community.guild})
        self.world = World(emu=self.emu, clock=clock, runner=runner, c=community)
        await self.world.configure()
        return self.world

    async def stop(self) -> list[BaseException]:
        errors = await self.world.runner.stop()
        await self.emu.stop()
        return errors


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    world = Live()
    with world.guard:
        world.run(world.start(), timeout=60)
        thread = world.run(
            world.world.emu.user_posts_in_forum(world.world.c.alice, world.world.c.forum, "Fuzz", "q")
        )
        world.help_thread = int(thread["id"])  # type: ignore[attr-defined]
        world.run(world.world.emu.wait_for_bot_message(world.help_thread, contains="Welcome"))  # type: ignore[attr-defined]
        yield world
        errors = world.run(world.stop())
    world.loop.call_soon_threadsafe(world.loop.stop)
    world.thread.join(5)
    assert errors == []
    assert world.guard.messages() == []
    assert world.emu.problems == []


def answer_of(live: Live, user: int, channel: int, command: str, options: dict[str, Any]) -> Any:
    reply = live.run(live.world.emu.user_runs_slash(user, channel, command, options=options, timeout=15))
    assert reply.ephemeral, f"{command} answered in public: {reply.text()[:200]}"
    assert reply.text().strip(), f"{command} gave an empty answer"
    assert unexpected_pings(live.world.emu, set()) == []
    assert live.world.bot.unexpected_errors == []
    return reply


FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(reason=TEXT)
def test_close_reasons(live: Live, reason: str) -> None:
    c = live.world.c
    answer_of(live, c.mallory, live.help_thread, "close", {"reason": reason})  # type: ignore[attr-defined]


@FUZZ
@given(message=TEXT)
def test_solved_message_references(live: Live, message: str) -> None:
    c = live.world.c
    answer_of(live, c.helen, live.help_thread, "solved", {"message": message})  # type: ignore[attr-defined]


@FUZZ
@given(text=TEXT)
def test_similar_text(live: Live, text: str) -> None:
    live.world.clock.advance(timedelta(minutes=1))  # past `/similar`'s cooldown: fuzz the search itself
    answer_of(live, live.world.c.mallory, live.world.c.general, "similar", {"text": text})


@FUZZ
@given(key=TEXT, value=TEXT)
def test_config_set_and_reset(live: Live, key: str, value: str) -> None:
    c = live.world.c
    answer_of(live, c.admin, c.general, "unstuck config set", {"key": key, "value": value})
    answer_of(live, c.admin, c.general, "unstuck config reset", {"key": key})


@FUZZ
@given(reason=TEXT, amount=st.integers(min_value=-5, max_value=5000))
def test_points_grant_reasons_and_amounts(live: Live, reason: str, amount: int) -> None:
    c = live.world.c
    answer_of(live, c.sam, c.general, "points grant", {"member": c.bob, "amount": amount, "reason": reason})


@FUZZ
@given(after=TEXT, start=TEXT, end=TEXT)
def test_escalation_settings(live: Live, after: str, start: str, end: str) -> None:
    c = live.world.c
    answer_of(
        live, c.admin, c.general, "unstuck config tier-set", {"tier": 1, "after": after, "who": "helper"}
    )
    answer_of(live, c.admin, c.general, "unstuck config quiet-hours", {"start": start, "end": end})


def test_context_menu_on_foreign_and_deleted_messages(live: Live) -> None:
    w, c = live.world, live.world.c
    elsewhere = live.run(w.emu.user_says(c.bob, c.general, "an answer in the wrong channel"))
    reply = live.run(
        w.emu.user_uses_context_menu(c.alice, c.general, "Mark as solution", int(elsewhere["id"]))
    )
    assert reply.ephemeral and "inside a help thread" in reply.text()
    doomed = live.run(w.emu.user_says(c.bob, live.help_thread, "soon deleted"))  # type: ignore[attr-defined]
    live.run(w.emu.user_deletes(c.bob, live.help_thread, int(doomed["id"])))  # type: ignore[attr-defined]
    link = f"https://discord.com/channels/{c.guild}/{live.help_thread}/{doomed['id']}"  # type: ignore[attr-defined]
    gone = answer_of(live, c.alice, live.help_thread, "solved", {"message": link})  # type: ignore[attr-defined]
    assert "couldn't find" in gone.text()
