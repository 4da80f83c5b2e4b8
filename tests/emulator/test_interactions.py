"""Slash commands, context menus and buttons through discord.py's app_commands and views."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from emulator import Emulator
from emulator.testing import connected_client
from tests.emulator.conftest import Server, make_client


def build_tree(client: discord.Client, guild_id: int) -> app_commands.CommandTree:
    """A small command tree: /ping, /echo, /slow, /unstuck config show|add-help-channel, a menu."""
    tree = app_commands.CommandTree(client)
    guild = discord.Object(guild_id)

    @tree.command(name="ping", description="Ping", guild=guild)
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    @tree.command(name="echo", description="Echo", guild=guild)
    async def echo(
        interaction: discord.Interaction, text: str, times: int = 1, user: discord.Member | None = None
    ) -> None:
        suffix = f" for {user.display_name}" if user else ""
        await interaction.response.send_message(text * times + suffix)

    @tree.command(name="slow", description="Deferred", guild=guild)
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(embed=discord.Embed(title="Done", description="took a while"))
        await interaction.followup.send("and one more", ephemeral=True)

    unstuck = app_commands.Group(name="unstuck", description="Admin", guild_ids=[guild_id])
    config = app_commands.Group(name="config", description="Config", parent=unstuck)

    @config.command(name="show", description="Show")
    async def show(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            embed=discord.Embed(title="Config").add_field(name="tz", value="UTC")
        )

    @config.command(name="add-help-channel", description="Add")
    async def add_help_channel(interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content=f"added {channel.mention}")

    tree.add_command(unstuck)

    @tree.context_menu(name="Mark as solution", guild=guild)
    async def mark(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"marked {message.id} by {message.author.id}", ephemeral=True)

    return tree


async def synced_client(emu: Emulator, server: Server) -> tuple[discord.Client, app_commands.CommandTree]:
    client = make_client()
    tree = build_tree(client, server.guild)
    return client, tree


async def test_slash_commands_sync_and_answer(emu: Emulator, server: Server) -> None:
    client, tree = await synced_client(emu, server)
    async with connected_client(emu, client):
        synced = await tree.sync(guild=discord.Object(server.guild))
        assert {c.name for c in synced} == {"ping", "echo", "slow", "unstuck", "Mark as solution"}
        pong = await emu.user_runs_slash(server.alice, server.text, "ping")
        echo = await emu.user_runs_slash(
            server.alice, server.text, "echo", {"text": "ab", "times": 2, "user": server.bob}
        )
        shown = await emu.user_runs_slash(server.bob, server.text, "unstuck config show")
    assert (pong.type, pong.content, pong.ephemeral) == (4, "pong", True)
    assert pong.message_id is not None  # ephemeral messages have ids (their buttons can be clicked)
    assert all(m["id"] != str(pong.message_id) for m in emu.messages(server.text))  # but are private
    assert echo.content == "abab for bob" and not echo.ephemeral
    assert emu.message(server.text, echo.message_id)["interaction_metadata"]["user"]["id"] == str(
        server.alice
    )
    assert "Config" in shown.text() and "UTC" in shown.text()
    assert emu.problems == []


async def test_deferred_then_followups(emu: Emulator, server: Server) -> None:
    client, tree = await synced_client(emu, server)
    async with connected_client(emu, client):
        await tree.sync(guild=discord.Object(server.guild))
        reply = await emu.user_runs_slash(server.alice, server.text, "slow")
        await emu.wait_for(lambda: len(reply.followups) == 2, what="the second follow-up")
        added = await emu.user_runs_slash(
            server.bob, server.text, "unstuck config add-help-channel", {"channel": server.text}
        )
    assert reply.type == 5 and reply.ephemeral and "took a while" in reply.text()
    assert reply.followups[1]["content"] == "and one more"
    assert added.content == f"added <#{server.text}>" and added.message_id is not None
    assert emu.problems == []


async def test_unknown_command_or_option_raises(emu: Emulator, server: Server) -> None:
    client, tree = await synced_client(emu, server)
    async with connected_client(emu, client):
        await tree.sync(guild=discord.Object(server.guild))
        with pytest.raises(LookupError, match="no synced command"):
            await emu.user_runs_slash(server.alice, server.text, "nope")
        with pytest.raises(LookupError, match="no option"):
            await emu.user_runs_slash(server.alice, server.text, "echo", {"text": "x", "colour": "red"})
        with pytest.raises(LookupError, match="requires"):
            await emu.user_runs_slash(server.alice, server.text, "echo", {})
        with pytest.raises(LookupError, match="subcommand"):
            await emu.user_runs_slash(server.alice, server.text, "unstuck config")


async def test_message_context_menu(emu: Emulator, server: Server) -> None:
    client, tree = await synced_client(emu, server)
    async with connected_client(emu, client):
        await tree.sync(guild=discord.Object(server.guild))
        answer = await emu.user_says(server.bob, server.text, "use a list")
        reply = await emu.user_uses_context_menu(
            server.alice, server.text, "Mark as solution", int(answer["id"])
        )
    assert reply.content == f"marked {answer['id']} by {server.bob}" and reply.ephemeral
    assert emu.problems == []


class ClaimView(discord.ui.View):
    """A persistent view like the escalation digest's Claim button."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Claim", style=discord.ButtonStyle.primary, custom_id="claim:42")
    async def claim(self, interaction: discord.Interaction, button: discord.ui.Button[ClaimView]) -> None:
        button.disabled = True
        button.label = f"Claimed by {interaction.user.name}"
        await interaction.response.edit_message(view=self)


async def test_persistent_button_view(emu: Emulator, server: Server) -> None:
    client = make_client()
    async with connected_client(emu, client):
        client.add_view(ClaimView())
        digest = await client.get_channel(server.text).send("1 thread waiting", view=ClaimView())
        reply = await emu.user_clicks_button(server.bob, server.text, digest.id, "claim:42")
        with pytest.raises(ValueError, match="no button"):
            await emu.user_clicks_button(server.bob, server.text, digest.id, "claim:999")
    assert reply.type == 7 and reply.message_id == digest.id
    button = reply.components[0]["components"][0]
    assert button["label"] == "Claimed by bob" and button["disabled"] is True
    assert emu.message(server.text, digest.id)["components"][0]["components"][0]["disabled"] is True
    assert emu.problems == []


async def test_unanswered_interaction_times_out_clearly(emu: Emulator, server: Server) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)

    @tree.command(name="silent", description="Never answers", guild=discord.Object(server.guild))
    async def silent(interaction: discord.Interaction) -> None:
        return None

    async with connected_client(emu, client):
        await tree.sync(guild=discord.Object(server.guild))
        with pytest.raises(TimeoutError, match="did not answer /silent"):
            await emu.user_runs_slash(server.alice, server.text, "silent", timeout=0.3)


class DeferView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Claim", custom_id="defer:1")
    async def claim(self, interaction: discord.Interaction, button: discord.ui.Button[DeferView]) -> None:
        await interaction.response.defer()  # DEFERRED_UPDATE_MESSAGE for a component
        await interaction.edit_original_response(content="claimed", view=None)
        await interaction.followup.send("you claimed it", ephemeral=True)


class AskModal(discord.ui.Modal, title="Ask"):
    question: discord.ui.TextInput[AskModal] = discord.ui.TextInput(label="Question", custom_id="q")


async def test_deferred_update_and_modal(emu: Emulator, server: Server) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)

    @tree.command(name="ask", description="Opens a modal", guild=discord.Object(server.guild))
    async def ask(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(AskModal())

    async with connected_client(emu, client):
        await tree.sync(guild=discord.Object(server.guild))
        client.add_view(DeferView())
        digest = await client.get_channel(server.text).send("waiting", view=DeferView())
        reply = await emu.user_clicks_button(server.bob, server.text, digest.id, "defer:1")
        await emu.wait_for(lambda: reply.followups, what="the ephemeral follow-up")
        modal = await emu.user_runs_slash(server.alice, server.text, "ask")
    assert reply.type == 6 and reply.content == "claimed" and reply.components == []
    assert reply.followups[0]["content"] == "you claimed it" and reply.followups[0]["flags"] & 64
    assert emu.message(server.text, digest.id)["content"] == "claimed"
    assert modal.type == 9 and modal.modal is not None and modal.modal["title"] == "Ask"
    assert emu.problems == []
