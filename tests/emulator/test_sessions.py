"""Gateway sessions: shards, downtime, resume, replays and validation switches."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord
import pytest

from emulator import Emulator
from emulator.snowflake import DISCORD_EPOCH_MS
from emulator.testing import connected_client
from tests.emulator.conftest import Server, make_client, needs_schemas


def guild_id_for_shard(shard: int, shard_count: int = 2, ms: int = 10_000) -> int:
    """A guild id that ``(id >> 22) % shard_count`` puts on ``shard``."""
    ms += (shard - ms) % shard_count
    return ms << 22


async def test_two_shard_connections_get_only_their_guilds(emu: Emulator) -> None:
    guilds = [emu.create_guild(f"g{s}", guild_id=guild_id_for_shard(s)) for s in (0, 1)]
    channels = [emu.create_text_channel(g, "help") for g in guilds]
    user = emu.create_user("alice")
    for g in guilds:
        emu.add_member(g, user)
    seen: dict[int, list[int]] = {0: [], 1: []}
    clients = [make_client(shard_id=s, shard_count=2) for s in (0, 1)]
    for shard, client in enumerate(clients):
        client.event(_recorder(seen[shard]))
    async with connected_client(emu, clients[0]), connected_client(emu, clients[1]):
        assert [g.id for g in clients[0].guilds] == [guilds[0]]
        assert [g.id for g in clients[1].guilds] == [guilds[1]]
        for text in ("hi", "bye"):
            for channel in channels:
                await emu.user_says(user, channel, text)
        # A shard's events arrive in order: once it saw two, a stray "hi" would be one of them.
        await emu.wait_for(lambda: len(seen[0]) >= 2 and len(seen[1]) >= 2, what="both shards' messages")
    assert seen == {0: [channels[0]] * 2, 1: [channels[1]] * 2}
    assert emu.problems == []


def _recorder(sink: list[int]):  # type: ignore[no-untyped-def]
    async def on_message(message: discord.Message) -> None:
        sink.append(message.channel.id)

    return on_message


async def test_auto_sharded_client_asks_gateway_bot(emu: Emulator, server: Server) -> None:
    client = discord.AutoShardedClient(intents=discord.Intents.all(), guild_ready_timeout=0.05)
    async with connected_client(emu, client):
        assert client.shard_count == 1 and client.get_guild(server.guild) is not None
    assert ("GET", "/gateway/bot", None) in emu.requests
    assert emu.problems == []


async def test_downtime_messages_are_not_replayed_but_are_in_history(emu: Emulator, server: Server) -> None:
    async with connected_client(emu, make_client()):
        await emu.user_says(server.alice, server.text, "before")
    missed = [await emu.user_says(server.alice, server.text, f"while down {i}") for i in range(2)]
    await emu.user_reacts(server.bob, server.text, int(missed[0]["id"]), "✅")
    seen: list[str] = []
    client = make_client()

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.append(message.content)

    async with connected_client(emu, client):
        await emu.user_says(server.alice, server.text, "after")
        await emu.wait_for(lambda: seen, what="the live message")
        channel = client.get_channel(server.text)
        history = [m async for m in channel.history(limit=10, oldest_first=True)]
    assert seen == ["after"]
    assert [m.content for m in history] == ["before", "while down 0", "while down 1", "after"]
    assert str(history[1].reactions[0].emoji) == "✅" and history[1].reactions[0].count == 1
    assert emu.problems == []


async def test_server_side_disconnect_resumes_and_replays(emu: Emulator, server: Server) -> None:
    client = make_client()
    seen: list[str] = []
    resumed = asyncio.Event()

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.append(message.content)

    @client.event
    async def on_resumed() -> None:
        resumed.set()

    async with connected_client(emu, client):
        await emu.disconnect_bot()
        await emu.user_says(server.alice, server.text, "missed, then replayed")
        await asyncio.wait_for(resumed.wait(), 10)
        await emu.user_says(server.alice, server.text, "delivered")
        await emu.wait_for(lambda: len(seen) == 2, what="both messages")
    assert seen == ["missed, then replayed", "delivered"]
    assert emu.problems == []


async def test_redeliver_last_event(emu: Emulator, server: Server) -> None:
    client = make_client()
    adds: list[int] = []

    @client.event
    async def on_raw_reaction_add(payload: discord.RawReactionActionEvent) -> None:
        adds.append(payload.message_id)

    async with connected_client(emu, client):
        msg = await emu.user_says(server.bob, server.text, "answer")
        await emu.user_reacts(server.alice, server.text, int(msg["id"]), "✅")
        await emu.redeliver_last("MESSAGE_REACTION_ADD")
        await emu.wait_for(lambda: len(adds) == 2, what="the duplicated reaction")
        with pytest.raises(KeyError):
            await emu.redeliver_last("THREAD_DELETE")
    assert adds == [int(msg["id"])] * 2
    assert emu.problems == []


@needs_schemas
async def test_invalid_raw_dispatch_is_recorded(emu: Emulator, server: Server) -> None:
    async with connected_client(emu, make_client()):
        await emu.dispatch_raw("MESSAGE_DELETE", {"id": "1", "channel_id": str(server.text)}, server.guild)
        await emu.dispatch_raw("MESSAGE_DELETE", {"channel_id": str(server.text)}, server.guild)
    assert [p.kind for p in emu.problems] == ["invalid-gateway-payload"]


def test_validation_switches(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    from emulator import validation
    from emulator.validation import ValidationDataMissing

    monkeypatch.setenv("UNSTUCK_SHARED_DATA", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(validation, "_warned_missing", False)
    assert Emulator(validate=False).validating is False
    assert Emulator().validating is False
    assert Emulator().validating is False
    assert len([r for r in caplog.records if "validation is OFF" in r.message]) == 1
    with pytest.raises(ValidationDataMissing, match="discord-api-spec"):
        Emulator(validate=True)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(ValidationDataMissing):
        Emulator()
    monkeypatch.delenv("UNSTUCK_SHARED_DATA")
    # Without the override: the shared folder beside the checkout. A git worktree kept elsewhere
    # has none there, and then CI must refuse to run rather than skip validation.
    default = Path(__file__).resolve().parents[3] / "shared" / "data"
    assert validation.shared_data_dir() == default
    if validation.missing_data_files():
        with pytest.raises(ValidationDataMissing):
            Emulator()
    else:
        assert Emulator().validating is True


def test_shard_helper() -> None:
    assert all((guild_id_for_shard(s) >> 22) % 2 == s for s in (0, 1))
    assert DISCORD_EPOCH_MS == 1_420_070_400_000


async def test_member_chunking_and_member_intent(emu: Emulator, server: Server) -> None:
    intents = discord.Intents.all()
    intents.presences = False  # without presences discord.py chunks every guild at start-up (op 8)
    chunked = make_client(intents=intents)
    no_members = make_client(intents=discord.Intents.default())
    joins: list[discord.Member] = []
    no_members.event(_joins(joins))
    async with connected_client(emu, chunked), connected_client(emu, no_members):
        guild = chunked.get_guild(server.guild)
        assert guild.chunked and guild.get_member(server.alice) is not None
        found = await guild.query_members("ali")  # REQUEST_GUILD_MEMBERS -> GUILD_MEMBERS_CHUNK
        by_id = await guild.query_members(user_ids=[server.bob])
        assert [m.id for m in found] == [server.alice] and [m.id for m in by_id] == [server.bob]
        carol = emu.create_user("carol")
        # Her first message reaches the other client after her join would have: events keep order.
        spoke = asyncio.ensure_future(
            no_members.wait_for("message", check=lambda m: m.author.id == carol, timeout=10)
        )
        emu.add_member(server.guild, carol)
        await emu.user_says(carol, server.text, "hello")
        await spoke
        await emu.wait_for(
            lambda: guild.get_member(carol) is not None, what="the member-intent client to see carol"
        )
    assert joins == []
    assert emu.problems == []


def _joins(sink: list[discord.Member]):  # type: ignore[no-untyped-def]
    async def on_member_join(member: discord.Member) -> None:
        sink.append(member)

    return on_member_join
