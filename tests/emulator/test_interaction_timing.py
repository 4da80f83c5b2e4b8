"""Discord's clocks on interactions: the 3 s first-response deadline and the 15-minute token."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

import discord
import pytest
from discord import app_commands

from bot.clock import FakeClock
from emulator import Emulator
from emulator.interactions import ApplicationDidNotRespond
from emulator.testing import connected_client
from emulator.timing import Stopwatch, cpu_waits
from tests.emulator.conftest import Server, make_client


def tree_with(client: discord.Client, guild_id: int) -> tuple[app_commands.CommandTree, list[Exception]]:
    """/late sleeps ``late.delay`` before answering; /deferred defers, then answers after a while."""
    tree = app_commands.CommandTree(client)
    guild = discord.Object(guild_id)
    errors: list[Exception] = []

    @tree.command(name="late", description="Answers late", guild=guild)
    async def late(interaction: discord.Interaction, delay: float) -> None:
        await asyncio.sleep(delay)  # the planted delay before the first response
        try:
            await interaction.response.send_message("finally")
        except discord.HTTPException as exc:
            errors.append(exc)

    @tree.command(name="deferred", description="Defers first", guild=guild)
    async def deferred(interaction: discord.Interaction, delay: float) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(delay)  # slow work after the deferral is fine
        await interaction.followup.send("done")

    return tree, errors


async def test_a_first_response_after_3_5_s_fails_the_deadline(emu: Emulator, server: Server) -> None:
    assert emu.interaction_deadline == 3.0  # Discord's deadline by default
    client = make_client()
    tree, errors = tree_with(client, server.guild)
    async with connected_client(emu, client):
        await tree.sync(guild=discord.Object(server.guild))
        with pytest.raises(ApplicationDidNotRespond, match="did not respond"):
            await emu.user_runs_slash(server.alice, server.text, "late", {"delay": 3.5}, timeout=10)
        await emu.wait_for(lambda: errors, what="the bot's late answer to be refused")
    assert isinstance(errors[0], discord.NotFound) and errors[0].code == 10062
    assert [p.kind for p in emu.problems] == ["interaction-late"]
    assert emu.bot_messages(server.text) == []  # the user never sees the late answer


async def test_deferring_at_once_meets_the_deadline_however_long_the_work(
    emu: Emulator, server: Server
) -> None:
    emu.interaction_deadline = 0.3  # a short deadline keeps the test fast; the rule is the same
    client = make_client()
    tree, _ = tree_with(client, server.guild)
    async with connected_client(emu, client):
        await tree.sync(guild=discord.Object(server.guild))
        reply = await emu.user_runs_slash(server.alice, server.text, "deferred", {"delay": 0.6})
    assert reply.type == 5 and reply.content == "done"
    assert emu.problems == []


async def test_the_deadline_is_configurable_and_can_be_switched_off(emu: Emulator, server: Server) -> None:
    client = make_client()
    tree, errors = tree_with(client, server.guild)
    async with connected_client(emu, client):
        await tree.sync(guild=discord.Object(server.guild))
        emu.interaction_deadline = 0.2
        with pytest.raises(ApplicationDidNotRespond):
            await emu.user_runs_slash(server.alice, server.text, "late", {"delay": 0.5})
        emu.interaction_deadline = None
        reply = await emu.user_runs_slash(server.alice, server.text, "late", {"delay": 0.5})
    assert reply.content == "finally"
    assert [p.kind for p in emu.problems] == ["interaction-late"]
    assert len(errors) == 1


async def test_a_token_older_than_15_minutes_cannot_follow_up() -> None:
    clock = FakeClock()
    emu = Emulator(clock=clock.now)
    await emu.start()
    try:
        guild = emu.create_guild("g")
        channel = emu.create_text_channel(guild, "help")
        alice = emu.create_user("alice")
        emu.add_member(guild, alice)
        client = make_client()
        tree = app_commands.CommandTree(client)
        go_on = asyncio.Event()
        outcome: list[object] = []

        @tree.command(name="remind", description="Follows up later", guild=discord.Object(guild))
        async def remind(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("later", ephemeral=True)
            await go_on.wait()
            try:
                outcome.append(await interaction.followup.send("now", wait=True))
            except discord.HTTPException as exc:
                outcome.append(exc)

        async with connected_client(emu, client):
            await tree.sync(guild=discord.Object(guild))
            for count, minutes in enumerate((14, 16), start=1):
                go_on.clear()
                await emu.user_runs_slash(alice, channel, "remind")
                clock.advance(timedelta(minutes=minutes))
                go_on.set()
                await emu.wait_for(lambda n=count: len(outcome) == n, what="the follow-up")
        fresh, stale = outcome
        assert isinstance(fresh, discord.WebhookMessage)
        assert isinstance(stale, discord.HTTPException) and (stale.status, stale.code) == (401, 50027)
        assert [p.kind for p in emu.problems] == ["interaction-token-expired"]
    finally:
        await emu.stop()


async def test_stopwatch_counts_waiting_but_not_waiting_for_a_cpu() -> None:
    watch = Stopwatch()
    await asyncio.sleep(0.05)
    assert 0 <= watch.elapsed() <= watch.wall()
    assert watch.wall() >= 0.05
    if sys.platform == "linux":
        assert cpu_waits()  # schedstat is there, so load is discounted
