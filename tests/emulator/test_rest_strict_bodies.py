"""Strict bodies, route collisions and emulator errors: what Discord refuses is refused and recorded."""

from __future__ import annotations

from typing import Any

import aiohttp
import discord
import pytest
from discord.http import Route

from emulator import Emulator
from emulator.permissions import BOT_ROLE_DEFAULT, Perm
from emulator.testing import connected_client
from tests.emulator.conftest import Server, make_client


def _kinds(emu: Emulator) -> set[str]:
    return {p.kind for p in emu.problems}


async def _patch(client: discord.Client, channel_id: int, body: dict[str, Any]) -> None:
    await client.http.request(Route("PATCH", "/channels/{channel_id}", channel_id=channel_id), json=body)


async def test_applied_tags_sent_as_a_string_is_a_400_and_recorded(emu: Emulator, server: Server) -> None:
    async with connected_client(emu, make_client()) as client:
        forum = client.get_channel(server.forum)
        assert isinstance(forum, discord.ForumChannel)
        thread, _ = await forum.create_thread(name="q", content="x")
        tag = str(forum.available_tags[0].id)
        with pytest.raises(discord.HTTPException) as caught:
            await _patch(client, thread.id, {"applied_tags": tag})
    assert caught.value.status == 400 and caught.value.code == 50035
    assert "applied_tags" in caught.value.text
    assert emu.channel(thread.id)["applied_tags"] == []
    assert "http-400" in _kinds(emu) and "emulator-error" not in _kinds(emu)


@pytest.mark.parametrize(
    ("target", "body", "field"),
    [
        ("thread", {"archive": True}, "archive"),  # misspelt
        ("thread", {"locked": "yes"}, "locked"),
        ("thread", {"auto_archive_duration": 1000}, "auto_archive_duration"),
        ("thread", {"available_tags": []}, "available_tags"),  # a forum's field
        ("thread", {"topic": "t"}, "topic"),
        ("text", {"archived": True}, "archived"),  # a thread's field
        ("text", {"applied_tags": []}, "applied_tags"),
        ("text", {"available_tags": []}, "available_tags"),  # forums only
        ("forum", {"locked": False}, "locked"),
    ],
)
async def test_channel_edits_must_fit_the_channel_type(
    emu: Emulator, server: Server, target: str, body: dict[str, Any], field: str
) -> None:
    async with connected_client(emu, make_client()) as client:
        forum = client.get_channel(server.forum)
        assert isinstance(forum, discord.ForumChannel)
        thread, _ = await forum.create_thread(name="q", content="x")
        channel_id = {"thread": thread.id, "text": server.text, "forum": server.forum}[target]
        with pytest.raises(discord.HTTPException) as caught:
            await _patch(client, channel_id, body)
    assert caught.value.status == 400 and field in caught.value.text
    refused = [p for p in emu.problems if p.kind == "http-400"]
    assert len(refused) == 1 and field in refused[0].detail


async def test_fitting_channel_edits_pass(emu: Emulator, server: Server) -> None:
    emu.set_bot_permissions(server.guild, int(BOT_ROLE_DEFAULT | Perm.MANAGE_CHANNELS))
    async with connected_client(emu, make_client()) as client:
        forum = client.get_channel(server.forum)
        assert isinstance(forum, discord.ForumChannel)
        thread, _ = await forum.create_thread(name="q", content="x")
        await thread.edit(name="q2", applied_tags=forum.available_tags[:1], auto_archive_duration=1440)
        await thread.edit(archived=True, locked=True)
        await forum.edit(topic="ask here")
        await client.get_channel(server.text).edit(name="help-2", topic="t")
    assert emu.problems == []


async def test_allowed_mentions_parse_users_with_a_users_list_is_refused(
    emu: Emulator, server: Server
) -> None:
    body = {
        "content": f"<@{server.alice}>",
        "allowed_mentions": {"parse": ["users"], "users": [str(server.alice)]},
    }
    async with connected_client(emu, make_client()) as client:
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=server.text)
        with pytest.raises(discord.HTTPException) as caught:
            await client.http.request(route, json=body)
    assert caught.value.status == 400 and "mutually exclusive" in caught.value.text
    assert emu.bot_messages(server.text) == [] and emu.pings == []
    assert [p.kind for p in emu.problems] == ["http-400"]
    assert "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE" in emu.problems[0].detail


async def test_a_reaction_in_an_archived_thread_is_refused_and_recorded(
    emu: Emulator, server: Server
) -> None:
    async with connected_client(emu, make_client()) as client:
        forum = client.get_channel(server.forum)
        assert isinstance(forum, discord.ForumChannel)
        thread, starter = await forum.create_thread(name="q", content="x")
        await thread.edit(archived=True)
        with pytest.raises(discord.HTTPException) as caught:
            await starter.add_reaction("✅")
    assert caught.value.code == 50083
    assert emu.reactions(thread.id, starter.id) == {}
    assert [p.kind for p in emu.problems] == ["http-400"] and "archived" in emu.problems[0].detail


async def test_pins_are_listed_not_taken_for_a_message_id(emu: Emulator, server: Server) -> None:
    async with connected_client(emu, make_client()) as client:
        channel = client.get_channel(server.text)
        first = await channel.send("first")
        await channel.send("second")
        await first.pin()
        pins = [m async for m in channel.pins()]
        await first.unpin()
        after = [m async for m in channel.pins()]
    assert [m.id for m in pins] == [first.id] and after == []
    assert emu.problems == []


async def test_member_search_is_served_not_taken_for_a_user_id(emu: Emulator, server: Server) -> None:
    async with connected_client(emu, make_client()) as client:
        route = Route("GET", "/guilds/{guild_id}/members/search", guild_id=server.guild)
        found = await client.http.request(route, params={"query": "AL", "limit": 10})
        none = await client.http.request(route, params={"query": "zed"})
    assert [m["user"]["id"] for m in found] == [str(server.alice)]
    assert none == []
    assert emu.problems == []


async def test_a_non_numeric_id_is_an_unknown_route(emu: Emulator, server: Server) -> None:
    async with connected_client(emu, make_client()) as client:
        with pytest.raises(discord.NotFound):
            await client.http.request(
                Route(
                    "GET",
                    "/channels/{channel_id}/messages/{message_id}",
                    channel_id=server.text,
                    message_id="x",
                )
            )
    assert [p.kind for p in emu.problems] == ["unknown-route"]


async def test_an_exception_in_a_handler_is_recorded(
    emu: Emulator, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise KeyError("planted")

    monkeypatch.setattr("emulator.server.user_dict", broken)
    async with aiohttp.ClientSession() as session, session.get(f"{emu.base_url}/users/{server.alice}") as got:
        assert got.status == 500
    assert [p.kind for p in emu.problems] == ["emulator-error"]
    assert "planted" in emu.problems[0].detail and f"/users/{server.alice}" in emu.problems[0].detail


async def test_a_forum_post_with_tags_as_a_string_is_a_400(emu: Emulator, server: Server) -> None:
    body = {"name": "q", "applied_tags": "Solved", "message": {"content": "x"}}
    async with connected_client(emu, make_client()) as client:
        route = Route("POST", "/channels/{channel_id}/threads", channel_id=server.forum)
        with pytest.raises(discord.HTTPException) as caught:
            await client.http.request(route, json=body)
    assert caught.value.status == 400 and emu.threads(server.forum) == []
    assert "emulator-error" not in _kinds(emu) and "invalid-request" in _kinds(emu)


@pytest.mark.parametrize(
    ("parent", "body", "field"),
    [
        ("text", {"name": "t", "type": 11, "applied_tags": []}, "applied_tags"),
        ("text", {"name": "t", "type": 11, "message": {"content": "x"}}, "message"),
        ("forum", {"name": "t"}, "message"),
        ("forum", {"name": "t", "message": {"content": "x"}, "invitable": True}, "invitable"),
    ],
)
async def test_thread_creation_must_fit_the_parent(
    emu: Emulator, server: Server, parent: str, body: dict[str, Any], field: str
) -> None:
    channel_id = server.text if parent == "text" else server.forum
    async with connected_client(emu, make_client()) as client:
        route = Route("POST", "/channels/{channel_id}/threads", channel_id=channel_id)
        with pytest.raises(discord.HTTPException) as caught:
            await client.http.request(route, json=body)
    assert caught.value.status == 400 and field in caught.value.text
    assert emu.threads(channel_id) == []
    assert "http-400" in _kinds(emu) and "emulator-error" not in _kinds(emu)
