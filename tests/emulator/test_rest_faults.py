"""REST faults as the real discord.py client meets them: 429s, 5xx, reset connections, late answers."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import discord
import pytest

from emulator import Emulator
from emulator.testing import connected_client
from tests.emulator.conftest import Server, make_client

SEND = "POST /channels/{channel_id}/messages"


async def test_429_with_a_short_retry_after_is_retried_by_discord_py(emu: Emulator, server: Server) -> None:
    emu.faults.rate_limit(SEND, retry_after=0.05, times=2)
    async with connected_client(emu, make_client()) as client:
        sent = await client.get_channel(server.text).send("hello")
    assert [m["id"] for m in emu.bot_messages(server.text)] == [str(sent.id)]
    assert [r[0:2] for r in emu.requests if r[0] == "POST"] == [
        ("POST", f"/channels/{server.text}/messages")
    ] * 3
    assert emu.faults.injected == {"rate_limit": 2}
    assert emu.problems == []


async def test_global_429_is_retried_too(emu: Emulator, server: Server) -> None:
    async with connected_client(emu, make_client()) as client:
        emu.faults.rate_limit(retry_after=0.05, is_global=True, times=1)  # any route: the next call
        await client.get_channel(server.text).send("hello")
    assert len(emu.bot_messages(server.text)) == 1
    assert emu.faults.injected["rate_limit"] == 1


async def test_429_carries_the_headers_discord_py_reads(emu: Emulator, server: Server) -> None:
    emu.faults.rate_limit(SEND, retry_after=2.5, is_global=True, times=1)
    async with aiohttp.ClientSession() as session:
        url = f"{emu.base_url}/channels/{server.text}/messages"
        async with session.post(url, json={"content": "hi"}) as response:
            body = await response.json()
            headers = response.headers
    assert response.status == 429 and response.content_type == "application/json"
    assert body == {"message": "You are being rate limited.", "retry_after": 2.5, "global": True, "code": 0}
    assert headers["X-RateLimit-Remaining"] == "0" and headers["X-RateLimit-Reset-After"] == "2.500"
    assert headers["X-RateLimit-Global"] == "true" and headers["X-RateLimit-Scope"] == "global"
    assert headers["X-RateLimit-Bucket"] and float(headers["X-RateLimit-Reset"]) > time.time()
    assert "Via" in headers  # without it discord.py takes the 429 for a Cloudflare ban


async def test_a_long_retry_after_raises_rate_limited_when_the_client_caps_it(
    emu: Emulator, server: Server
) -> None:
    emu.faults.rate_limit(SEND, retry_after=600, times=1)
    async with connected_client(emu, make_client(max_ratelimit_timeout=30)) as client:
        with pytest.raises(discord.RateLimited) as caught:
            await client.get_channel(server.text).send("hello")
    assert caught.value.retry_after == 600
    assert emu.bot_messages(server.text) == []


async def test_503_is_raised_at_once_and_changes_nothing(emu: Emulator, server: Server) -> None:
    emu.faults.fail(SEND, status=503, times=1)
    async with connected_client(emu, make_client()) as client:
        channel = client.get_channel(server.text)
        with pytest.raises(discord.DiscordServerError) as caught:
            await channel.send("lost")
        await channel.send("kept")  # the rule was for one call only
    assert caught.value.status == 503
    assert [m["content"] for m in emu.bot_messages(server.text)] == ["kept"]
    assert emu.faults.injected == {"server_error": 1}
    assert emu.problems == []


async def test_500_is_retried_by_discord_py(emu: Emulator, server: Server) -> None:
    emu.faults.fail(SEND, status=500, times=1)  # discord.py sleeps 1 s, then tries again
    async with connected_client(emu, make_client()) as client:
        await client.get_channel(server.text).send("hello")
    assert [m["content"] for m in emu.bot_messages(server.text)] == ["hello"]


async def test_an_applied_5xx_did_the_work_but_lost_the_answer(emu: Emulator, server: Server) -> None:
    emu.faults.fail(SEND, status=503, applied=True, times=1)
    async with connected_client(emu, make_client()) as client:
        with pytest.raises(discord.DiscordServerError):
            await client.get_channel(server.text).send("sent anyway", nonce="n-1")
    assert [m["content"] for m in emu.bot_messages(server.text)] == ["sent anyway"]


async def test_a_reset_connection_raises_an_aiohttp_error(emu: Emulator, server: Server) -> None:
    emu.faults.reset(SEND, times=1)
    async with connected_client(emu, make_client()) as client:
        channel = client.get_channel(server.text)
        with pytest.raises(aiohttp.ClientConnectionError):
            await channel.send("lost")
        await channel.send("kept")
    assert [m["content"] for m in emu.bot_messages(server.text)] == ["kept"]
    assert emu.faults.injected == {"reset": 1}


async def test_an_applied_reset_did_the_work(emu: Emulator, server: Server) -> None:
    emu.faults.reset(SEND, applied=True, times=1)
    async with connected_client(emu, make_client()) as client:
        with pytest.raises(aiohttp.ClientConnectionError):
            await client.get_channel(server.text).send("sent anyway")
    assert [m["content"] for m in emu.bot_messages(server.text)] == ["sent anyway"]


async def test_a_hanging_call_takes_that_long(emu: Emulator, server: Server) -> None:
    emu.faults.hang(SEND, seconds=0.3, times=1)
    async with connected_client(emu, make_client()) as client:
        started = time.monotonic()
        await client.get_channel(server.text).send("late")
        assert time.monotonic() - started >= 0.3
    assert [m["content"] for m in emu.bot_messages(server.text)] == ["late"]
    assert emu.faults.injected == {"hang": 1}


async def test_a_hanging_call_times_out_and_clear_releases_it(emu: Emulator, server: Server) -> None:
    emu.faults.hang(SEND, seconds=60)
    async with connected_client(emu, make_client()) as client:
        channel = client.get_channel(server.text)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(channel.send("never mind"), timeout=0.2)
        emu.faults.clear()
        await asyncio.wait_for(channel.send("now"), timeout=5)


async def test_a_rule_limited_to_one_channel_leaves_the_others_alone(emu: Emulator, server: Server) -> None:
    other = emu.create_text_channel(server.guild, "other")
    emu.faults.fail(SEND, status=503, channel_id=server.text)  # until cleared
    async with connected_client(emu, make_client()) as client:
        with pytest.raises(discord.DiscordServerError):
            await client.get_channel(server.text).send("a")
        with pytest.raises(discord.DiscordServerError):
            await client.get_channel(server.text).send("b")
        await client.get_channel(other).send("fine")
        emu.faults.clear()
        await client.get_channel(server.text).send("c")
    assert [m["content"] for m in emu.bot_messages(server.text)] == ["c"]
    assert emu.faults.injected == {"server_error": 2}


async def test_a_resend_with_the_same_nonce_after_an_applied_503_makes_no_duplicate(
    emu: Emulator, server: Server
) -> None:
    emu.faults.fail(SEND, status=503, applied=True, times=1)
    async with connected_client(emu, make_client()) as client:
        channel = client.get_channel(server.text)
        with pytest.raises(discord.DiscordServerError):
            await channel.send("once", nonce="owed-1")  # discord.py sets enforce_nonce with a nonce
        again = await channel.send("once", nonce="owed-1")
    assert [m["id"] for m in emu.bot_messages(server.text)] == [str(again.id)]


async def test_a_5xx_rule_may_draw_its_status_per_call(emu: Emulator, server: Server) -> None:
    emu.faults.seed(3)
    emu.faults.fail(SEND, status=(502, 503), times=6)
    statuses = []
    async with aiohttp.ClientSession() as session:
        for _ in range(6):
            url = f"{emu.base_url}/channels/{server.text}/messages"
            async with session.post(url, json={"content": "x"}) as response:
                statuses.append(response.status)
    assert set(statuses) == {502, 503}
    assert emu.faults.injected == {"server_error": 6} and emu.bot_messages(server.text) == []


async def test_a_call_may_hang_until_released(emu: Emulator, server: Server) -> None:
    emu.faults.hang(SEND, seconds=None, times=1)
    async with connected_client(emu, make_client()) as client:
        sending = asyncio.create_task(client.get_channel(server.text).send("held"))
        await emu.wait_for(lambda: emu.faults.injected["hang"] == 1, what="the call to arrive")
        assert not sending.done()
        emu.faults.release()
        await asyncio.wait_for(sending, timeout=5)
    assert [m["content"] for m in emu.bot_messages(server.text)] == ["held"]
