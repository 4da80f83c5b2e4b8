"""Channel settings a real discord.py client changes or reads: forum tags, permission overwrites,
and which synced commands Discord offers to whom."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from emulator import Emulator
from emulator.permissions import BOT_ROLE_DEFAULT, Perm
from emulator.testing import connected_client
from tests.emulator.conftest import Server, make_client


async def _grant_manage_channels(
    emu: Emulator, client: discord.Client, server: Server
) -> discord.ForumChannel:
    emu.set_bot_permissions(server.guild, int(BOT_ROLE_DEFAULT | Perm.MANAGE_CHANNELS))
    guild = client.get_guild(server.guild)
    assert guild is not None
    await emu.wait_for(lambda: guild.me.guild_permissions.manage_channels, what="Manage Channels")
    forum = guild.get_channel(server.forum)
    assert isinstance(forum, discord.ForumChannel)
    return forum


async def test_a_new_forum_tag_gets_an_id_and_reaches_the_cache(emu: Emulator, server: Server) -> None:
    async with connected_client(emu, make_client()) as client:
        forum = await _grant_manage_channels(emu, client, server)
        tag = await forum.create_tag(name="Needs review")
        assert tag.id != 0
        await emu.wait_for(lambda: forum.get_tag(tag.id) is not None, what="CHANNEL_UPDATE with the tag")
        assert [t.name for t in forum.available_tags] == ["Solved", "Unanswered", "Python", "Needs review"]
        # Leaving a tag out deletes it; the others keep their ids.
        python = emu.forum_tag_id(server.forum, "Python")
        kept = [t for t in forum.available_tags if t.name != "Solved"]
        await forum.edit(available_tags=kept)
        assert [t["name"] for t in emu.channel(server.forum)["available_tags"]] == [
            "Unanswered",
            "Python",
            "Needs review",
        ]
        assert emu.forum_tag_id(server.forum, "Python") == python
    assert emu.problems == []


async def test_forum_tags_need_manage_channels(emu: Emulator, server: Server) -> None:
    async with connected_client(emu, make_client()) as client:
        guild = client.get_guild(server.guild)
        assert guild is not None and not guild.me.guild_permissions.manage_channels
        forum = guild.get_channel(server.forum)
        assert isinstance(forum, discord.ForumChannel)
        with pytest.raises(discord.Forbidden) as refused:
            await forum.create_tag(name="Needs review")
    assert refused.value.code == 50013
    assert [t["name"] for t in emu.channel(server.forum)["available_tags"]] == [
        "Solved",
        "Unanswered",
        "Python",
    ]
    assert [p.kind for p in emu.problems] == ["http-403"]


@pytest.mark.parametrize(
    ("names", "field"),
    [
        (["A name longer than twenty"], "available_tags.3.name"),
        ([f"tag {n}" for n in range(18)], "available_tags"),
    ],
)
async def test_forum_tags_keep_to_discords_limits(
    emu: Emulator, server: Server, names: list[str], field: str
) -> None:
    async with connected_client(emu, make_client()) as client:
        forum = await _grant_manage_channels(emu, client, server)
        tags = [*forum.available_tags, *(discord.ForumTag(name=n) for n in names)]
        with pytest.raises(discord.HTTPException) as refused:
            await forum.edit(available_tags=tags)
    assert refused.value.status == 400 and refused.value.code == 50035
    assert field in refused.value.text
    assert len(emu.channel(server.forum)["available_tags"]) == 3


async def test_overwrites_hide_a_channel_from_the_bot(emu: Emulator, server: Server) -> None:
    staff = emu.create_text_channel(server.guild, "staff")
    emu.set_channel_overwrite(staff, server.guild, deny=Perm.VIEW_CHANNEL)  # @everyone
    async with connected_client(emu, make_client()) as client:
        channel = client.get_channel(staff)
        assert isinstance(channel, discord.TextChannel)
        me = channel.guild.me
        assert not channel.permissions_for(me).view_channel
        with pytest.raises(discord.Forbidden):
            await channel.send("hello")
        # A moderator lets the bot's role in: the bot sees and posts, without embeds.
        emu.set_channel_overwrite(
            staff, emu.bot_role(server.guild), allow=Perm.VIEW_CHANNEL, deny=Perm.EMBED_LINKS
        )
        await emu.wait_for(lambda: channel.permissions_for(me).view_channel, what="CHANNEL_UPDATE")
        assert not channel.permissions_for(me).embed_links
        await channel.send("hello")
        # A member overwrite beats the role's: the bot may embed after all.
        emu.set_channel_overwrite(staff, emu.bot_user_id, allow=Perm.EMBED_LINKS)
        await emu.wait_for(lambda: channel.permissions_for(me).embed_links, what="member overwrite")
        assert emu.world.has_in(staff, emu.bot_user_id, Perm.EMBED_LINKS)
    assert [m["content"] for m in emu.messages(staff)] == ["hello"]
    assert [p.kind for p in emu.problems] == ["http-403"]


async def test_commands_are_offered_by_context_and_default_permissions(emu: Emulator, server: Server) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)

    @tree.command(name="hello", description="Anyone")
    async def hello(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("hi")

    @tree.command(name="admin", description="Manage Server only")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def admin(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok")

    managers = emu.create_role(server.guild, "Managers", permissions=Perm.MANAGE_GUILD)
    emu.add_member(server.guild, server.bob, roles=[managers])
    async with connected_client(emu, client):
        await tree.sync()
    sent = {c["name"]: c for c in emu.interactions.sync_payloads[None]}
    assert int(sent["admin"]["default_member_permissions"]) == Perm.MANAGE_GUILD
    assert emu.interactions.find_command(server.guild, "admin", 1)["default_member_permissions"] == "32"
    assert sent["admin"]["contexts"] == [0]
    assert emu.interactions.offered_to(server.alice, server.text) == {"hello"}
    assert emu.interactions.offered_to(server.bob, server.text) == {"hello", "admin"}
    owner = emu.world.guilds[server.guild].owner_id
    assert emu.interactions.offered_to(owner, server.text) == {"hello", "admin"}
    assert emu.problems == []
