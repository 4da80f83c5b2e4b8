"""Gateway faults (``emu.gateway_faults``) against a real discord.py client: what it does on each.

Every test waits for the client's own signal (``on_resumed``, a second ``on_connect``) or for the
events themselves; none sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import discord
import pytest

from emulator import Emulator, gateway
from emulator.intents import MESSAGE_CONTENT
from emulator.testing import connected_client
from tests.emulator.conftest import Server, make_client


class Watcher:
    """What one client saw: message contents, resumes and (re)connections."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self.seen: list[str] = []
        self.resumes = 0
        self.connects = 0
        client.event(self.on_message)
        client.event(self.on_resumed)
        client.event(self.on_connect)

    async def on_message(self, message: discord.Message) -> None:
        self.seen.append(message.content)

    async def on_resumed(self) -> None:
        self.resumes += 1

    async def on_connect(self) -> None:
        self.connects += 1

    async def until(self, emu: Emulator, check: Callable[[], bool], what: str) -> None:
        await emu.wait_for(check, timeout=15, what=what)


async def history(client: discord.Client, channel_id: int) -> list[str]:
    channel = client.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return [m.content async for m in channel.history(limit=20, oldest_first=True)]


async def test_outage_with_replay_resumes_and_delivers_missed_events_once(
    emu: Emulator, server: Server
) -> None:
    w = Watcher(make_client())
    async with connected_client(emu, w.client):
        session = w.client.ws.session_id
        async with emu.gateway_faults.outage(replay=True):
            for i in range(3):
                await emu.user_says(server.alice, server.text, f"while away {i}")
            assert w.seen == []  # nothing reaches a client whose socket is down
        await w.until(emu, lambda: w.resumes == 1, "the RESUME")
        await emu.user_says(server.alice, server.text, "after")
        await w.until(emu, lambda: "after" in w.seen, "the live message")
        assert w.client.ws.session_id == session
    assert w.seen == ["while away 0", "while away 1", "while away 2", "after"]
    counts = emu.gateway_faults.counts
    assert (counts["drop_replay"], counts["events_replayed"], counts["identify"]) == (1, 3, 1)
    assert emu.problems == []


async def test_outage_without_replay_is_a_gap_the_client_identifies_after(
    emu: Emulator, server: Server
) -> None:
    w = Watcher(make_client())
    async with connected_client(emu, w.client):
        session = w.client.ws.session_id
        async with emu.gateway_faults.outage(replay=False):
            await emu.user_says(server.alice, server.text, "in the gap")
        # The RESUME is refused (op 9 d=false): discord.py identifies anew: READY + GUILD_CREATE.
        await w.until(emu, lambda: w.connects == 2, "a new IDENTIFY")
        await emu.user_says(server.alice, server.text, "after")
        await w.until(emu, lambda: "after" in w.seen, "the live message")
        assert w.client.ws.session_id != session
        assert w.client.get_guild(server.guild) is not None
        # What the gateway never delivered is still in the channel for a REST catch-up.
        assert await history(w.client, server.text) == ["in the gap", "after"]
    assert w.seen == ["after"] and w.resumes == 0
    counts = emu.gateway_faults.counts
    assert (counts["drop_gap"], counts["resume_refused"], counts["identify"]) == (1, 1, 2)
    assert counts["events_lost"] == 1
    assert emu.problems == []


async def test_server_reconnect_op7_resumes_without_loss_or_duplicates(emu: Emulator, server: Server) -> None:
    w = Watcher(make_client())
    async with connected_client(emu, w.client):
        await emu.gateway_faults.reconnect()
        await emu.user_says(server.alice, server.text, "around the reconnect")
        await w.until(emu, lambda: w.resumes == 1 and w.seen, "the RESUME and the message")
        await emu.user_says(server.alice, server.text, "after")
        await w.until(emu, lambda: "after" in w.seen, "the live message")
    assert w.seen == ["around the reconnect", "after"]
    assert emu.gateway_faults.counts["reconnect"] == 1
    assert emu.problems == []


async def test_invalid_session_resumable_resumes(emu: Emulator, server: Server) -> None:
    w = Watcher(make_client())
    async with connected_client(emu, w.client):
        await emu.gateway_faults.invalid_session(resumable=True)
        await emu.user_says(server.alice, server.text, "kept")
        await w.until(emu, lambda: w.resumes == 1 and w.seen, "the RESUME and the message")
    assert w.seen == ["kept"] and w.connects == 1
    assert emu.problems == []


async def test_invalid_session_not_resumable_makes_the_client_identify_anew(
    emu: Emulator, server: Server
) -> None:
    w = Watcher(make_client())
    async with connected_client(emu, w.client):
        session = w.client.ws.session_id
        await emu.gateway_faults.invalid_session(resumable=False)
        await w.until(emu, lambda: w.connects == 2, "a new IDENTIFY")
        assert w.client.ws.session_id != session
        await emu.user_says(server.alice, server.text, "after")
        await w.until(emu, lambda: w.seen == ["after"], "the live message")
    assert w.resumes == 0
    counts = emu.gateway_faults.counts
    assert (counts["invalid_session"], counts["identify"], counts["resume"]) == (1, 2, 0)
    assert emu.problems == []


async def test_heartbeat_acks_stop_the_client_reconnects_and_gets_the_missed_events(
    emu: Emulator, server: Server
) -> None:
    emu.gateway_faults.heartbeat_interval_ms = 200
    # discord.py gives up on a socket after heartbeat_timeout seconds without any message.
    # (A stall of that long on a loaded machine may cause an extra resume: hence ">= 1".)
    w = Watcher(make_client(heartbeat_timeout=2.0))
    async with connected_client(emu, w.client):
        emu.gateway_faults.stop_acks()
        await emu.user_says(server.alice, server.text, "sent to a zombie socket")
        await w.until(emu, lambda: w.resumes >= 1 and w.seen, "the client to notice and resume")
    assert w.seen == ["sent to a zombie socket"]
    assert emu.gateway_faults.counts["heartbeat_acks_stopped"] == 1
    assert emu.problems == []


async def test_disallowed_privileged_intent_closes_4014_and_discord_py_raises(
    emu: Emulator, server: Server
) -> None:
    emu.gateway_faults.disallowed_intents = MESSAGE_CONTENT
    emu.configure_discord_py()
    client = make_client()
    try:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(client.start(emu.token), 15)
    finally:
        await client.close()
    assert emu.gateway_faults.counts["close_4014"] == 1
    # Without the privileged intent the same application connects.
    intents = discord.Intents.all()
    intents.message_content = False
    async with connected_client(emu, make_client(intents=intents)) as ok:
        assert ok.get_guild(server.guild) is not None
    assert emu.problems == []


async def test_close_4014_on_a_live_session_stops_the_client(emu: Emulator, server: Server) -> None:
    emu.configure_discord_py()
    client = make_client()
    task = asyncio.create_task(client.start(emu.token))
    try:
        await asyncio.wait_for(client.wait_until_ready(), 15)
        await emu.gateway_faults.close(4014)
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(task, 15)
    finally:
        await client.close()
    assert emu.problems == []


async def test_faults_hit_one_shard_only(emu: Emulator) -> None:
    from tests.emulator.test_sessions import guild_id_for_shard

    guilds = [emu.create_guild(f"g{s}", guild_id=guild_id_for_shard(s)) for s in (0, 1)]
    channels = [emu.create_text_channel(g, "help") for g in guilds]
    user = emu.create_user("alice")
    for g in guilds:
        emu.add_member(g, user)
    watchers = [Watcher(make_client(shard_id=s, shard_count=2)) for s in (0, 1)]
    async with connected_client(emu, watchers[0].client), connected_client(emu, watchers[1].client):
        async with emu.gateway_faults.outage(replay=True, shard=1):
            for channel in channels:
                await emu.user_says(user, channel, "hi")
            await watchers[0].until(emu, lambda: watchers[0].seen == ["hi"], "shard 0 to stay live")
        await watchers[1].until(emu, lambda: watchers[1].seen == ["hi"], "shard 1's replay")
    assert (watchers[0].resumes, watchers[1].resumes) == (0, 1)
    assert emu.problems == []


async def test_a_fault_needs_a_connected_session(emu: Emulator) -> None:
    with pytest.raises(RuntimeError, match="no connected gateway session"):
        await emu.gateway_faults.reconnect()


async def test_a_session_not_resumed_in_time_expires(
    emu: Emulator, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway, "MAX_MISSED", 2)  # Discord keeps a session for a while, not forever
    w = Watcher(make_client())
    async with connected_client(emu, w.client):
        async with emu.gateway_faults.outage(replay=True):
            for i in range(3):
                await emu.user_says(server.alice, server.text, f"while away {i}")
        await w.until(emu, lambda: w.connects == 2, "a new IDENTIFY after the refused RESUME")
    assert w.seen == [] and w.resumes == 0
    counts = emu.gateway_faults.counts
    assert (counts["sessions_expired"], counts["resume_refused"]) == (1, 1)
    assert emu.problems == []
