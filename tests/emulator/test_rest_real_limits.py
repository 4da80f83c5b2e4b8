"""Discord's real limit on channel name and tag edits, and the fault rules' own bookkeeping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import discord
import pytest

from emulator import Emulator
from emulator.faults import RestFaults
from emulator.testing import connected_client
from tests.emulator.conftest import make_client


class Clock:
    """A clock a test moves by hand."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def timed_emu(clock: Clock) -> AsyncIterator[Emulator]:
    emulator = Emulator(clock=clock)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


async def test_third_rename_in_ten_minutes_gets_the_real_retry_after(
    timed_emu: Emulator, clock: Clock
) -> None:
    emu = timed_emu
    guild = emu.create_guild("g")
    text = emu.create_text_channel(guild, "help")
    question = await emu.user_says(emu.create_user("alice"), text, "question")
    async with connected_client(emu, make_client(max_ratelimit_timeout=30)) as client:
        message = await client.get_channel(text).fetch_message(int(question["id"]))
        thread = await message.create_thread(name="q")
        await thread.edit(name="q 1")
        clock.advance(timedelta(minutes=4))
        await thread.edit(name="q 2")
        await thread.edit(archived=False)  # neither name nor tags: not limited
        clock.advance(timedelta(minutes=1))
        with pytest.raises(discord.RateLimited) as caught:
            await thread.edit(name="q 3")
        assert caught.value.retry_after == pytest.approx(300)  # the first edit leaves the window then
        clock.advance(timedelta(minutes=5))
        await thread.edit(name="q 4")
    assert emu.channel(thread.id)["name"] == "q 4"
    assert emu.faults.injected == {"real_rate_limit": 1}
    assert emu.problems == []


async def test_tag_edits_count_per_channel(timed_emu: Emulator, clock: Clock) -> None:
    emu = timed_emu
    guild = emu.create_guild("g")
    forum = emu.create_forum_channel(guild, "forum", tags=["Solved", "Open"])
    async with connected_client(emu, make_client(max_ratelimit_timeout=30)) as client:
        channel = client.get_channel(forum)
        assert isinstance(channel, discord.ForumChannel)
        solved, open_ = channel.available_tags
        first, _ = await channel.create_thread(name="a", content="x")
        second, _ = await channel.create_thread(name="b", content="y")
        for tags in ([solved], [open_]):
            await first.edit(applied_tags=tags)
        await second.edit(applied_tags=[solved])  # another channel, its own window
        with pytest.raises(discord.RateLimited):
            await first.edit(applied_tags=[solved])
    assert emu.faults.injected == {"real_rate_limit": 1}


async def test_real_limits_are_on_by_default_and_can_be_switched_off(timed_emu: Emulator) -> None:
    emu = timed_emu
    guild = emu.create_guild("g")
    forum = emu.create_forum_channel(guild, "forum", tags=["Solved"])
    async with connected_client(emu, make_client(max_ratelimit_timeout=30)) as client:
        thread, _ = await client.get_channel(forum).create_thread(name="a", content="x")
        for i in range(2):
            await thread.edit(name=f"a{i}")
        with pytest.raises(discord.RateLimited):
            await thread.edit(name="a2")
        emu.faults.real_rate_limits = False
        for i in range(3, 6):
            await thread.edit(name=f"a{i}")
    assert emu.faults.injected == {"real_rate_limit": 1}
    assert [channel for channel, _ in emu.faults.limited_edits] == [thread.id, thread.id]


def test_rate_rules_are_deterministic_for_a_seed(clock: Clock) -> None:
    def run(seed: int) -> list[bool]:
        faults = RestFaults(clock, seed_value=seed)
        faults.fail("GET /users/{user_id}", rate=0.3)
        return [faults.pick("GET", "/users/{user_id}", None, None) is not None for _ in range(200)]

    assert run(7) == run(7)
    assert run(7) != run(8)
    assert 40 <= sum(run(7)) <= 80  # about 30%


def test_rules_end_after_times_or_their_window(clock: Clock) -> None:
    faults = RestFaults(clock)
    counted = faults.hang("GET /users/@me", seconds=1, times=2)
    windowed = faults.fail(status=502, window=timedelta(seconds=30))
    assert faults.pick("GET", "/users/@me", None, None).kind == "hang"  # type: ignore[union-attr]
    assert faults.pick("GET", "/users/@me", None, None).kind == "hang"  # type: ignore[union-attr]
    assert faults.pick("GET", "/users/@me", None, None).status == 502  # type: ignore[union-attr]
    clock.advance(timedelta(seconds=30))
    assert faults.pick("GET", "/users/@me", None, None) is None
    assert counted.hits == 2 and windowed.hits == 1 and faults.rules == []
    assert faults.injected == {"hang": 2, "server_error": 1}
    assert [kind for kind, _, _ in faults.log] == ["hang", "hang", "server_error"]


def test_a_route_must_name_its_method(clock: Clock) -> None:
    with pytest.raises(ValueError, match="route must look like"):
        RestFaults(clock).fail("/channels/{channel_id}")
