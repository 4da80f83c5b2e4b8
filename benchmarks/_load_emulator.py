"""The load benchmark's harness on its own: can the emulator and the script send the offered rate?

No bot: a bare gateway client reads every event and does nothing else. The script sends the mix's
gateway events (questions, replies, edits, deletions, reactions; interactions need a bot to answer)
on the same Poisson schedule, and we measure how late they went out and the CPU this process spent
per event. If the emulator keeps up here with CPU to spare, a bot that falls behind in the real run
is the bot, not the harness.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord

from benchmarks._load_bots import own_cpu_seconds
from benchmarks._load_report import ms, percentile
from benchmarks._load_traffic import INTERACTIONS, MIX, Community, Event, Server
from emulator import Emulator


@dataclass
class EmulatorCheck:
    offered_rate: float
    sent_rate: float
    lag_p50_ms: float
    lag_p99_ms: float
    cpu_ms_per_event: float  # this process (emulator and script) per event sent
    events_read: int  # by the bare client: every event reached a reader


async def _beat(ws: aiohttp.ClientWebSocketResponse, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await ws.send_json({"op": 1, "d": None})


async def bare_client(emu: Emulator, ready: asyncio.Event, counted: list[int]) -> None:
    """IDENTIFY with every intent, then read and drop every event."""
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{emu.gateway_url}?v=10&encoding=json") as ws,
    ):
        hello = await ws.receive_json()
        beat = asyncio.create_task(_beat(ws, hello["d"]["heartbeat_interval"] / 1000))
        properties = {"os": "linux", "browser": "load-check", "device": "load-check"}
        identify = {"token": emu.token, "intents": discord.Intents.all().value, "properties": properties}
        await ws.send_json({"op": 2, "d": identify})
        try:
            async for message in ws:
                payload: dict[str, Any] = message.json()
                if payload.get("t") == "READY":
                    ready.set()
                counted[0] += payload.get("op") == 0
        finally:
            beat.cancel()


async def check_emulator(
    emu: Emulator, servers: list[Server], people: list[int], helpers: list[int], rate: float, seconds: float
) -> EmulatorCheck:
    """Send the gateway part of the mix at ``rate`` to a bare client for ``seconds``."""
    ready, counted = asyncio.Event(), [0]
    reader = asyncio.create_task(bare_client(emu, ready, counted))
    async with asyncio.timeout(30):
        await ready.wait()
    community = Community(emu, servers, people, helpers, seed=7)
    community.weights = [0 if kind in INTERACTIONS else weight for kind, weight in MIX.items()]
    rng = random.Random(7)
    events: list[Event] = []
    running: set[asyncio.Task[None]] = set()
    cpu = own_cpu_seconds()
    start = at = time.perf_counter() + 0.01
    while (at := at + rng.expovariate(rate)) < start + seconds:
        await asyncio.sleep(max(at - time.perf_counter(), 0))
        event = Event(community.pick(), at)
        events.append(event)
        task = asyncio.create_task(community.act(event))
        running.add(task)
        task.add_done_callback(running.discard)
    if running:
        await asyncio.wait(running)
    spent = own_cpu_seconds() - cpu
    elapsed = time.perf_counter() - start
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    lags = [e.sent - e.scheduled for e in events if e.sent is not None]
    return EmulatorCheck(
        offered_rate=rate,
        sent_rate=round(len(lags) / elapsed, 1),
        lag_p50_ms=ms(percentile(lags, 0.5)),
        lag_p99_ms=ms(percentile(lags, 0.99)),
        cpu_ms_per_event=round(spent / max(len(lags), 1) * 1000, 3),
        events_read=counted[0],
    )
