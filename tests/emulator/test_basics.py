"""Log-in, messages, threads and reactions between the emulator and a real discord.py client."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import discord
import pytest

from emulator import Emulator, ThreadArchived
from emulator.snowflake import snowflake_time
from emulator.testing import connected_client
from tests.emulator.conftest import Server, make_client


async def test_login_caches_guilds_channels_roles_members(emu: Emulator, server: Server) -> None:
    client = make_client()
    async with connected_client(emu, client):
        assert client.user is not None and client.user.id == emu.bot_user_id
        assert client.application_id == emu.application_id
        guild = client.get_guild(server.guild)
        assert guild is not None and guild.name == "Python Help"
        assert {c.name for c in guild.channels} == {"help", "help-forum"}
        assert isinstance(guild.get_channel(server.forum), discord.ForumChannel)
        assert [t.name for t in guild.get_channel(server.forum).available_tags] == [
            "Solved",
            "Unanswered",
            "Python",
        ]
        assert {r.name for r in guild.roles} >= {"@everyone", "Helpers"}
        assert guild.get_member(server.bob) is not None
        assert guild.get_member(server.bob).get_role(server.helper_role) is not None
        assert guild.me.guild_permissions.manage_threads
        assert not guild.me.guild_permissions.mention_everyone
    assert emu.problems == []


async def test_message_round_trip(emu: Emulator, server: Server) -> None:
    client = make_client()
    seen: list[discord.Message] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.append(message)
        if not message.author.bot:
            await message.reply(f"you said {message.content}", mention_author=False)

    async with connected_client(emu, client):
        sent = await emu.user_says(server.alice, server.text, "hello")
        answer = await emu.wait_for_bot_message(server.text, contains="you said hello")
        await emu.wait_for(lambda: len(seen) == 2, what="the bot to see its own message")
    assert seen[0].content == "hello" and seen[0].author.id == server.alice
    assert seen[1].author.id == emu.bot_user_id  # the bot's own message is dispatched back to it
    assert answer["message_reference"]["message_id"] == sent["id"]
    assert [m["content"] for m in emu.messages(server.text)] == ["hello", "you said hello"]
    assert emu.pings[-1]["users"] == set()
    assert emu.problems == []


async def test_edit_delete_and_history(emu: Emulator, server: Server) -> None:
    client = make_client()
    events: list[str] = []

    @client.event
    async def on_raw_message_edit(payload: discord.RawMessageUpdateEvent) -> None:
        events.append(f"edit {payload.data['content']}")

    @client.event
    async def on_raw_message_delete(payload: discord.RawMessageDeleteEvent) -> None:
        events.append(f"delete {payload.message_id}")

    async with connected_client(emu, client):
        first = await emu.user_says(server.alice, server.text, "one")
        second = await emu.user_says(server.alice, server.text, "two")
        await emu.user_edits(server.alice, server.text, int(first["id"]), "one!")
        await emu.user_deletes(server.alice, server.text, int(second["id"]))
        await emu.wait_for(lambda: len(events) == 2, what="edit and delete events")
        channel = client.get_channel(server.text)
        bot_message = await channel.send("three")
        await bot_message.edit(content="three!")
        history = [m.content async for m in channel.history(limit=10, oldest_first=True)]
        fetched = await channel.fetch_message(int(first["id"]))
        await bot_message.delete()
    assert events[:2] == ["edit one!", f"delete {second['id']}"]
    assert history == ["one!", "three!"]
    assert fetched.edited_at is not None
    assert [m["content"] for m in emu.messages(server.text)] == ["one!"]
    assert emu.problems == []


async def test_forum_post_is_a_thread_with_its_starter_message(emu: Emulator, server: Server) -> None:
    client = make_client()
    created: list[discord.Thread] = []
    starters: list[discord.Message] = []

    @client.event
    async def on_thread_create(thread: discord.Thread) -> None:
        created.append(thread)

    @client.event
    async def on_message(message: discord.Message) -> None:
        starters.append(message)

    async with connected_client(emu, client):
        thread = await emu.user_posts_in_forum(
            server.alice, server.forum, "Why?", "It breaks", tags=["Python"]
        )
        await emu.wait_for(lambda: created and starters, what="thread and starter")
        fetched = await created[0].fetch_message(created[0].id)
    assert created[0].id == int(thread["id"]) == starters[0].id == fetched.id
    assert created[0].parent_id == server.forum and created[0].owner_id == server.alice
    assert [t.name for t in created[0].applied_tags] == ["Python"]
    assert starters[0].content == "It breaks" and starters[0].channel.id == created[0].id
    assert emu.channel(created[0].id)["applied_tags"] == [str(emu.forum_tag_id(server.forum, "Python"))]
    assert emu.problems == []


async def test_bot_creates_forum_post_and_edits_thread(emu: Emulator, server: Server) -> None:
    client = make_client()
    async with connected_client(emu, client):
        forum = client.get_channel(server.forum)
        assert isinstance(forum, discord.ForumChannel)
        python = next(t for t in forum.available_tags if t.name == "Python")
        solved = next(t for t in forum.available_tags if t.name == "Solved")
        created = await forum.create_thread(name="FAQ", content="Read me", applied_tags=[python])
        assert created.thread.id == created.message.id
        await created.thread.edit(
            applied_tags=[python, solved], archived=True, locked=True, name="FAQ (solved)"
        )
        active = await client.get_guild(server.guild).active_threads()
        archived = [t async for t in forum.archived_threads()]
    state = emu.channel(created.thread.id)
    assert (
        state["name"] == "FAQ (solved)"
        and state["thread_metadata"]["archived"]
        and state["thread_metadata"]["locked"]
    )
    assert active == [] and [t.id for t in archived] == [created.thread.id]
    assert emu.messages(created.thread.id)[0]["id"] == str(created.thread.id)
    assert emu.problems == []


async def test_thread_started_from_a_message(emu: Emulator, server: Server) -> None:
    client = make_client()
    created: list[discord.Thread] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        if not message.author.bot and isinstance(message.channel, discord.TextChannel):
            thread = await message.create_thread(name=f"Help: {message.content}")
            await thread.send("How to get help: ...")
            created.append(thread)

    async with connected_client(emu, client):
        question = await emu.user_says(server.alice, server.text, "my code fails")
        await emu.wait_for(lambda: created, what="the bot to open a thread")
        thread_id = int(question["id"])
        await emu.wait_for_bot_message(thread_id, contains="How to get help")
        await emu.user_says(server.bob, thread_id, "try this")
    assert created[0].id == thread_id
    assert emu.message(server.text, thread_id)["thread"]["id"] == str(thread_id)
    assert emu.threads(server.text)[0]["name"] == "Help: my code fails"
    assert emu.channel(thread_id)["owner_id"] == str(emu.bot_user_id)
    assert emu.problems == []


async def test_reactions_carry_payload_fields(emu: Emulator, server: Server) -> None:
    client = make_client()
    added: list[discord.RawReactionActionEvent] = []
    removed: list[discord.RawReactionActionEvent] = []
    client.event(_collector("on_raw_reaction_add", added))
    client.event(_collector("on_raw_reaction_remove", removed))

    async with connected_client(emu, client):
        msg = await emu.user_says(server.alice, server.text, "answer")
        mid = int(msg["id"])
        await emu.user_reacts(server.bob, server.text, mid, "✅")
        await emu.user_unreacts(server.bob, server.text, mid, "✅")
        await emu.wait_for(lambda: added and removed, what="reaction events")
        channel = client.get_channel(server.text)
        message = await channel.fetch_message(mid)
        await message.add_reaction("👍")
        await emu.user_reacts(server.alice, server.text, mid, "👍")
        users = [u.id async for u in (await channel.fetch_message(mid)).reactions[0].users()]
        await message.remove_reaction("👍", discord.Object(server.alice))
    event = added[0]
    assert (event.user_id, event.message_id, event.guild_id, str(event.emoji)) == (
        server.bob,
        mid,
        server.guild,
        "✅",
    )
    assert event.member is not None and event.member.id == server.bob
    assert event.message_author_id == server.alice and event.burst is False
    assert removed[0].user_id == server.bob
    assert sorted(users) == [emu.bot_user_id, server.alice]
    assert emu.reactions(server.text, mid) == {"👍": [emu.bot_user_id]}
    assert emu.problems == []


def _collector(name: str, sink: list[discord.RawReactionActionEvent]):  # type: ignore[no-untyped-def]
    async def handler(payload: discord.RawReactionActionEvent) -> None:
        sink.append(payload)

    handler.__name__ = name
    return handler


async def test_ids_and_timestamps_follow_the_injected_clock() -> None:
    now = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    emu = Emulator(clock=lambda: now)
    await emu.start()
    try:
        guild = emu.create_guild("g")
        channel = emu.create_text_channel(guild, "c")
        user = emu.create_user("u")
        emu.add_member(guild, user)
        first = await emu.user_says(user, channel, "a")
        now += timedelta(hours=3)
        second = await emu.user_says(user, channel, "b")
    finally:
        await emu.stop()
    assert snowflake_time(int(first["id"])) == datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    assert snowflake_time(int(second["id"])) == datetime(2030, 5, 1, 15, 0, tzinfo=UTC)
    assert second["timestamp"].startswith("2030-05-01T15:00:00")
    assert int(second["id"]) > int(first["id"])


async def test_member_and_channel_events_after_connect(emu: Emulator, server: Server) -> None:
    client = make_client()
    joined: list[discord.Member] = []
    channels: list[discord.abc.GuildChannel] = []
    client.event(_named("on_member_join", joined))
    client.event(_named("on_guild_channel_create", channels))
    async with connected_client(emu, client):
        carol = emu.create_user("carol")
        emu.add_member(server.guild, carol)
        emu.create_text_channel(server.guild, "general")
        role = emu.create_role(server.guild, "Maintainers")
        await emu.wait_for(lambda: joined and channels, what="member and channel events")
        await emu.wait_for(
            lambda: client.get_guild(server.guild).get_role(role) is not None, what="the role event"
        )
        emu.remove_member(server.guild, carol)
        await emu.wait_for(
            lambda: client.get_guild(server.guild).get_member(carol) is None, what="member removal"
        )
    assert joined[0].id == carol and channels[0].name == "general"
    assert emu.problems == []


def _named(name: str, sink: list):  # type: ignore[no-untyped-def, type-arg]
    async def handler(item: object) -> None:
        sink.append(item)

    handler.__name__ = name
    return handler


async def test_moderator_actions_and_uploads(emu: Emulator, server: Server) -> None:
    client = make_client()
    updates: list[discord.RawThreadUpdateEvent] = []
    deleted: list[int] = []
    guilds: list[discord.Guild] = []
    client.event(_named("on_raw_thread_update", updates))
    client.event(_named("on_raw_thread_delete", deleted))
    client.event(_named("on_guild_join", guilds))
    async with connected_client(emu, client):
        post = await emu.user_posts_in_forum(server.alice, server.forum, "Q", "body")
        thread_id = int(post["id"])
        await emu.archive_thread(thread_id)
        await emu.wait_for(lambda: len(updates) == 1, what="THREAD_UPDATE")
        # The bot posting in an archived (unlocked) thread reopens it, as on Discord.
        thread = await client.fetch_channel(thread_id)  # discord.py drops archived threads from its cache
        await thread.send("still here", file=discord.File(io.BytesIO(b"log"), filename="log.txt"))
        assert emu.channel(thread_id)["thread_metadata"]["archived"] is False
        await emu.delete_channel(thread_id)
        await emu.wait_for(lambda: deleted, what="THREAD_DELETE")
        new_guild = emu.create_guild("Late Guild")
        await emu.wait_for(lambda: guilds, what="GUILD_CREATE of a new guild")
    assert guilds[0].id == new_guild
    uploads = [body for method, path, body in emu.requests if path == f"/channels/{thread_id}/messages"]
    assert uploads[0]["attachments"][0]["filename"] == "log.txt"
    assert emu.problems == []


async def test_history_around_and_after(emu: Emulator, server: Server) -> None:
    ids = [int((await emu.user_says(server.alice, server.text, str(i)))["id"]) for i in range(10)]
    client = make_client()
    async with connected_client(emu, client):
        channel = client.get_channel(server.text)
        around = [m.content async for m in channel.history(limit=4, around=discord.Object(ids[5]))]
        after = [m.content async for m in channel.history(limit=3, after=discord.Object(ids[2]))]
        before = [m.content async for m in channel.history(limit=2, before=discord.Object(ids[2]))]
    assert sorted(around) == ["3", "4", "5", "6"]
    assert after == ["3", "4", "5"]
    assert before == ["1", "0"]
    assert emu.problems == []


async def test_enforced_nonce_returns_the_first_message_within_minutes() -> None:
    clock_now = [datetime(2026, 3, 2, 12, 0, tzinfo=UTC)]
    emu = Emulator(clock=lambda: clock_now[0])
    await emu.start()
    emu.configure_discord_py()
    try:
        guild = emu.create_guild("Nonces")
        channel = emu.create_text_channel(guild, "general")
        client = make_client()
        async with connected_client(emu, client):
            target = client.get_channel(channel)
            first = await target.send("welcome", nonce="w123")
            retried = await target.send("welcome", nonce="w123")
            clock_now[0] += timedelta(minutes=6)
            later = await target.send("welcome", nonce="w123")
        assert retried.id == first.id
        assert later.id != first.id
        assert [m["content"] for m in emu.messages(channel)] == ["welcome", "welcome"]
        assert emu.problems == []
    finally:
        await emu.stop()


async def test_reactions_in_an_archived_thread_are_refused(emu: Emulator, server: Server) -> None:
    """Discord answers 50083 to reaction changes in an archived thread, for users and bots alike."""
    post = await emu.user_posts_in_forum(server.alice, server.forum, "Q", "body")
    thread_id = int(post["id"])
    answer = await emu.user_says(server.bob, thread_id, "try this")
    await emu.user_reacts(server.alice, thread_id, int(answer["id"]), "👍")
    await emu.archive_thread(thread_id)
    with pytest.raises(ThreadArchived):
        await emu.user_reacts(server.alice, thread_id, int(answer["id"]), "✅")
    with pytest.raises(ThreadArchived):
        await emu.user_unreacts(server.alice, thread_id, int(answer["id"]), "👍")
    client = make_client()
    async with connected_client(emu, client):
        thread = await client.fetch_channel(thread_id)
        message = await thread.fetch_message(int(answer["id"]))
        with pytest.raises(discord.HTTPException) as refused:
            await message.add_reaction("✅")
    assert refused.value.code == 50083
    assert [r.emoji for r in message.reactions] == ["👍"]
