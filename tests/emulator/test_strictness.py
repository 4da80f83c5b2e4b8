"""Strictness: pings, Discord's limits, permissions, unknown routes and the message-content intent."""

from __future__ import annotations

import discord
import pytest
from discord.http import Route

from emulator import Emulator
from emulator.permissions import BOT_ROLE_DEFAULT, Perm
from emulator.testing import connected_client
from tests.emulator.conftest import Server, make_client


async def test_allowed_mentions_decide_who_is_pinged(emu: Emulator, server: Server) -> None:
    client = make_client()
    async with connected_client(emu, client):
        channel = client.get_channel(server.text)
        text = f"<@{server.alice}> <@{server.bob}> <@&{server.helper_role}>"
        quiet = await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
        only_alice = await channel.send(
            text, allowed_mentions=discord.AllowedMentions(users=[discord.Object(server.alice)], roles=False)
        )
        default = await channel.send(text)
    pings = {p["message_id"]: p for p in emu.pings}
    assert pings[quiet.id] == {
        "message_id": quiet.id,
        "channel_id": server.text,
        "users": set(),
        "roles": set(),
        "everyone": False,
    }
    assert pings[only_alice.id]["users"] == {server.alice} and pings[only_alice.id]["roles"] == set()
    assert pings[default.id]["users"] == {server.alice, server.bob}
    assert pings[default.id]["roles"] == {server.helper_role}
    assert quiet.mentions and {u.id for u in quiet.mentions} == {
        server.alice,
        server.bob,
    }  # mentioned, not pinged
    assert emu.problems == []


async def test_reply_pings_author_unless_told_not_to(emu: Emulator, server: Server) -> None:
    client = make_client()
    async with connected_client(emu, client):
        question = await emu.user_says(server.alice, server.text, "help")
        message = await client.get_channel(server.text).fetch_message(int(question["id"]))
        loud = await message.reply("sure")
        quiet = await message.reply("sure", mention_author=False)
    pings = {p["message_id"]: p["users"] for p in emu.pings}
    assert pings[loud.id] == {server.alice} and pings[quiet.id] == set()
    assert emu.problems == []


async def test_everyone_ping_is_a_problem(emu: Emulator, server: Server) -> None:
    client = make_client()
    async with connected_client(emu, client):
        await client.get_channel(server.text).send("@everyone look")
        await client.get_channel(server.text).send(
            "@everyone look", allowed_mentions=discord.AllowedMentions.none()
        )
    assert [p.kind for p in emu.problems] == ["everyone-ping"]
    assert emu.pings[0]["everyone"] is False  # the bot lacks MENTION_EVERYONE, so nobody is notified


def _embed_with_fields(count: int) -> discord.Embed:
    embed = discord.Embed(title="f")
    for i in range(count):
        embed.add_field(name=str(i), value="v")
    return embed


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"content": "x" * 2001}, "content"),
        ({"embed": discord.Embed(title="t" * 257)}, "title"),
        ({"embed": discord.Embed(description="d" * 4097)}, "description"),
        ({"embed": _embed_with_fields(26)}, "fields"),
        ({"embed": discord.Embed(title="a").set_footer(text="f" * 2049)}, "footer"),
        (
            {"embeds": [discord.Embed(description="d" * 4000), discord.Embed(description="d" * 2500)]},
            "embeds",
        ),
    ],
)
async def test_limits_are_enforced(
    emu: Emulator, server: Server, kwargs: dict[str, object], field: str
) -> None:
    client = make_client()
    async with connected_client(emu, client):
        with pytest.raises(discord.HTTPException) as caught:
            await client.get_channel(server.text).send(**kwargs)  # type: ignore[arg-type]
    assert caught.value.status == 400 and caught.value.code == 50035
    # The spec check may flag the body too; Discord's own answer is what this test is about.
    refused = [p for p in emu.problems if p.kind == "http-400"]
    assert len(refused) == 1 and field in refused[0].detail
    assert {p.kind for p in emu.problems} <= {"http-400", "invalid-request"}
    assert emu.bot_messages(server.text) == []


async def test_component_and_name_limits(emu: Emulator, server: Server) -> None:
    client = make_client()
    view = discord.ui.View()
    for i in range(6):
        view.add_item(discord.ui.Button(label=f"b{i}", custom_id=f"b{i}", row=0 if i < 5 else 1))
    too_long = discord.ui.View()
    too_long.add_item(discord.ui.Button(label="x" * 81, custom_id="c"))
    async with connected_client(emu, client):
        channel = client.get_channel(server.text)
        await channel.send("ok", view=view)  # 5 + 1 buttons over two rows is fine
        with pytest.raises(discord.HTTPException):
            await channel.send("label", view=too_long)
        with pytest.raises(discord.HTTPException):
            await channel.create_thread(name="n" * 101, type=discord.ChannelType.public_thread)
    refused = [p.detail for p in emu.problems if p.kind == "http-400"]
    assert len(refused) == 2 and "label" in refused[0] and "name" in refused[1]


async def test_unknown_route_is_recorded(emu: Emulator, server: Server) -> None:
    client = make_client()
    async with connected_client(emu, client):
        with pytest.raises(discord.NotFound):
            await client.http.request(Route("GET", "/channels/{channel_id}/nonsense", channel_id=server.text))
    assert emu.problems[0].kind == "unknown-route"
    assert emu.problems[0].detail == f"GET /channels/{server.text}/nonsense"


async def test_missing_permissions_are_rejected_and_recorded(emu: Emulator, server: Server) -> None:
    emu.set_bot_permissions(
        server.guild, int(BOT_ROLE_DEFAULT & ~Perm.MANAGE_THREADS & ~Perm.MANAGE_MESSAGES)
    )
    client = make_client()
    async with connected_client(emu, client):
        post = await emu.user_posts_in_forum(server.alice, server.forum, "Q", "body")
        said = await emu.user_says(server.alice, server.text, "hi")
        await emu.wait_for(lambda: client.get_channel(int(post["id"])) is not None, what="thread cached")
        thread = client.get_channel(int(post["id"]))
        with pytest.raises(discord.Forbidden):
            await thread.edit(archived=True)
        message = await client.get_channel(server.text).fetch_message(int(said["id"]))
        with pytest.raises(discord.Forbidden):
            await message.delete()
    assert [p.kind for p in emu.problems] == ["http-403", "http-403"]
    assert "MANAGE_THREADS" in emu.problems[0].detail and "MANAGE_MESSAGES" in emu.problems[1].detail
    assert emu.channel(int(post["id"]))["thread_metadata"]["archived"] is False


async def test_message_content_is_blanked_without_the_intent(emu: Emulator, server: Server) -> None:
    client = make_client(intents=discord.Intents.default())
    seen: list[discord.Message] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.append(message)

    async with connected_client(emu, client):
        plain = await emu.user_says(server.alice, server.text, "secret question")
        await emu.user_says(server.alice, server.text, f"<@{emu.bot_user_id}> hey bot")
        await client.get_channel(server.text).send("bot text")
        await emu.wait_for(lambda: len(seen) == 3, what="three messages")
        fetched = await client.get_channel(server.text).fetch_message(int(plain["id"]))
    assert [m.content for m in seen] == ["", f"<@{emu.bot_user_id}> hey bot", "bot text"]
    assert fetched.content == ""
    assert emu.messages(server.text)[0]["content"] == "secret question"  # the emulator itself sees everything
    assert emu.problems == []


def test_limit_checks_without_a_client() -> None:
    from emulator.limits import check_message

    assert check_message({"content": "ok"}) == {}
    assert "content" in check_message({})  # empty message
    assert "embeds" in check_message({"embeds": [{"title": "t"}] * 11})
    rows = [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "x", "label": "x"}]}] * 6
    assert "components" in check_message({"content": "x", "components": rows})
    link = {"type": 1, "components": [{"type": 2, "style": 5, "label": "x", "custom_id": "nope"}]}
    errors = check_message({"content": "x", "components": [link]})
    assert set(errors["components"]["0"]["components"]["0"]) == {"url", "custom_id"}
    long_id = {"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "c" * 101, "label": "x"}]}
    assert "components" in check_message({"content": "x", "components": [long_id]})
