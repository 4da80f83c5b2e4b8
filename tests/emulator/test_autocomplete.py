"""Autocomplete interactions (type 4) answered with callback type 8, through discord.py's app_commands."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from emulator import Emulator
from emulator.testing import connected_client
from tests.emulator.conftest import Server, make_client

FRUITS = ["apple", "apricot", "banana", "cherry"]


def fruit_tree(client: discord.Client, guild_id: int) -> tuple[app_commands.CommandTree, list[str]]:
    tree = app_commands.CommandTree(client)
    group = app_commands.Group(name="shop", description="Shop", guild_ids=[guild_id])
    typed: list[str] = []

    @group.command(name="buy", description="Buy fruit")
    async def buy(interaction: discord.Interaction, fruit: str, count: int) -> None:
        await interaction.response.send_message(f"{count} {fruit}")

    @buy.autocomplete("fruit")
    async def fruits(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        typed.append(current)
        count = interaction.namespace.count or 1
        return [app_commands.Choice(name=f"{count} × {f}", value=f) for f in FRUITS if f.startswith(current)]

    tree.add_command(group)
    return tree, typed


async def test_autocomplete_returns_the_bots_choices(emu: Emulator, server: Server) -> None:
    client = make_client()
    tree, typed = fruit_tree(client, server.guild)
    async with connected_client(emu, client):
        await tree.sync(guild=discord.Object(server.guild))
        choices = await emu.user_autocompletes(server.alice, server.text, "shop buy", "fruit", "ap")
        everything = await emu.user_autocompletes(
            server.alice, server.text, "shop buy", "fruit", options={"count": 3}
        )
        with pytest.raises(LookupError, match="no autocomplete"):
            await emu.user_autocompletes(server.alice, server.text, "shop buy", "count", "1")
        bought = await emu.user_runs_slash(
            server.alice, server.text, "shop buy", {"fruit": "apple", "count": 2}
        )
    assert choices == [{"name": "1 × apple", "value": "apple"}, {"name": "1 × apricot", "value": "apricot"}]
    assert [c["name"] for c in everything] == [f"3 × {f}" for f in FRUITS]
    assert typed == ["ap", ""]
    assert bought.content == "2 apple"
    assert emu.messages(server.text)[-1]["content"] == "2 apple"  # autocomplete posts nothing
    assert emu.problems == []


async def test_answering_autocomplete_with_a_message_is_refused(emu: Emulator, server: Server) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)
    refused: list[discord.HTTPException] = []

    @tree.command(name="pick", description="Pick", guild=discord.Object(server.guild))
    async def pick(interaction: discord.Interaction, thing: str) -> None:
        await interaction.response.send_message(thing)

    @pick.autocomplete("thing")
    async def things(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        try:
            await interaction.response.send_message("not how autocomplete works")
        except discord.HTTPException as exc:
            refused.append(exc)
        return []

    async with connected_client(emu, client):
        await tree.sync(guild=discord.Object(server.guild))
        choices = await emu.user_autocompletes(server.alice, server.text, "pick", "thing", "x")
    assert choices == []  # discord.py then answers with the handler's (empty) list
    assert refused and refused[0].status == 400
    assert {p.kind for p in emu.problems} >= {"http-400"}
