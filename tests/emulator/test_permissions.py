"""Private channels and what the bot may do where: ``member_can``, REST refusals, hidden events."""

from __future__ import annotations

import discord
import pytest

from emulator import Emulator
from emulator.permissions import Perm
from emulator.state import PRIVATE_THREAD
from emulator.testing import connected_client
from tests.emulator.conftest import Server, make_client

VIEW = Perm.VIEW_CHANNEL


def test_member_can_computes_overwrites_in_discords_order(emu: Emulator, server: Server) -> None:
    g = server.guild
    carol, dave = emu.create_user("carol"), emu.create_user("dave")
    muted = emu.create_role(g, "Muted")
    emu.add_member(g, carol, roles=[server.helper_role, muted])
    emu.add_member(g, dave, roles=[muted])
    staff = emu.create_forum_channel(g, "staff-help")
    emu.set_channel_overwrite(staff, g, deny=VIEW)  # @everyone may not see it ...
    emu.set_channel_overwrite(staff, server.helper_role, allow=VIEW)  # ... helpers may
    emu.set_channel_overwrite(staff, muted, deny=VIEW)  # a role deny loses to another role's allow
    emu.set_channel_overwrite(staff, server.alice, allow=VIEW)  # a member allow beats @everyone
    assert emu.member_can(g, server.bob, VIEW, staff)  # helper
    assert emu.member_can(g, carol, VIEW, staff)  # helper and muted: role allows win
    assert not emu.member_can(g, dave, VIEW, staff)  # muted only
    assert emu.member_can(g, server.alice, VIEW, staff)
    assert emu.member_can(g, emu.world.guilds[g].owner_id, VIEW, staff)  # the owner sees everything
    assert not emu.member_can(g, emu.bot_user_id, VIEW, staff)  # the bot needs letting in too
    assert emu.member_can(g, dave, VIEW)  # guild level: no channel, no overwrites
    # The member's own deny beats every role allow; seeing nothing means holding nothing.
    emu.set_channel_overwrite(staff, server.bob, deny=VIEW)
    assert not emu.member_can(g, server.bob, VIEW, staff)
    assert not emu.member_can(g, server.bob, Perm.SEND_MESSAGES, staff)
    # A thread follows its parent; a private thread also needs membership (or Manage Threads).
    post = emu.create_thread_record(emu.world.channels[staff], "secret", server.alice, [])
    assert emu.member_can(g, server.alice, VIEW, post.id) and not emu.member_can(g, dave, VIEW, post.id)
    private = emu.create_thread_record(emu.world.channels[server.text], "private", server.alice, [])
    private.type = PRIVATE_THREAD
    assert emu.member_can(g, server.alice, VIEW, private.id)
    assert not emu.member_can(g, carol, VIEW, private.id)
    assert emu.member_can(g, emu.bot_user_id, VIEW, private.id)  # the bot's role manages threads
    with pytest.raises(ValueError, match="no overwrites"):
        emu.set_channel_overwrite(post.id, g, deny=VIEW)


async def test_the_gateway_delivers_nothing_from_channels_the_bot_cannot_view(
    emu: Emulator, server: Server
) -> None:
    staff = emu.create_text_channel(server.guild, "staff")
    emu.set_channel_overwrite(staff, emu.bot_role(server.guild), deny=VIEW)
    client = make_client()
    seen: list[str] = []
    reactions: list[int] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.append(message.content)

    @client.event
    async def on_raw_reaction_add(payload: discord.RawReactionActionEvent) -> None:
        reactions.append(payload.channel_id)

    async with connected_client(emu, client):
        hidden = await emu.user_says(server.bob, staff, "staff only")
        await emu.user_reacts(server.alice, staff, int(hidden["id"]), "👀")
        await emu.user_posts_in_forum(server.alice, server.forum, "Visible", "a question")
        await emu.wait_for(lambda: seen == ["a question"], what="the visible message")
        # Let the bot in: from now on it hears the channel (the earlier message stays unheard).
        emu.set_channel_overwrite(staff, emu.bot_role(server.guild), allow=VIEW)
        await emu.user_says(server.bob, staff, "now visible")
        await emu.wait_for(lambda: len(seen) == 2, what="the staff message")
    assert seen == ["a question", "now visible"] and reactions == []
    assert [m["content"] for m in emu.messages(staff)] == ["staff only", "now visible"]
    assert emu.problems == []


async def test_rest_refuses_what_the_bot_may_not_do_in_a_channel(emu: Emulator, server: Server) -> None:
    bot_role = emu.bot_role(server.guild)
    async with connected_client(emu, make_client()) as client:
        post = await emu.user_posts_in_forum(server.alice, server.forum, "Q", "help")
        text = client.get_channel(server.text)
        assert isinstance(text, discord.TextChannel)
        question = await text.send("a question")
        emu.set_channel_overwrite(server.text, bot_role, deny=Perm.SEND_MESSAGES | Perm.CREATE_PUBLIC_THREADS)
        emu.set_channel_overwrite(
            server.forum, bot_role, deny=Perm.SEND_MESSAGES_IN_THREADS | Perm.MANAGE_THREADS
        )
        await emu.wait_for(
            lambda: not text.permissions_for(text.guild.me).send_messages, what="the overwrites to arrive"
        )
        thread = client.get_channel(int(post["id"])) or await client.fetch_channel(int(post["id"]))
        assert isinstance(thread, discord.Thread)
        refusals = []
        for attempt in (
            text.send("hello"),
            question.create_thread(name="follow-up"),
            thread.send("an answer"),
            thread.edit(name="renamed by the bot"),
        ):
            with pytest.raises(discord.Forbidden) as refused:
                await attempt
            refusals.append(refused.value.code)
    assert refusals == [50013] * 4
    assert [p.kind for p in emu.problems] == ["http-403"] * 4
    assert emu.channel(int(post["id"]))["name"] == "Q"
