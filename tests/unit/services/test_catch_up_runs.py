"""The catch-up of a server runs once at a time: asked again meanwhile, it goes round once more; it
reads changed threads a few at a time."""

from __future__ import annotations

import asyncio
from functools import partial
from types import SimpleNamespace
from typing import Any

import pytest

from bot.services.catch_up import READS_AT_ONCE, CatchUpService, a_few_at_a_time
from bot.services.lanes import Lanes
from storage.errors import is_transient

READER: Any = object()  # never read: the server has no help channel


class NoHelpChannels:
    async def get(self, guild_id: int) -> Any:
        return SimpleNamespace(help_channels={})


async def test_a_catch_up_asked_for_while_running_goes_round_once_more_instead_of_twice_at_once() -> None:
    intake: Any = SimpleNamespace(lanes=Lanes(is_transient))
    service = CatchUpService(db=None, configs=NoHelpChannels(), threads=None, solutions=None, intake=intake)  # type: ignore[arg-type]
    release = asyncio.Event()
    running = 0
    runs: list[int] = []

    async def step(guild_id: int) -> None:
        nonlocal running
        running += 1
        assert running == 1, "two catch-ups of one server at once"
        runs.append(guild_id)
        await release.wait()
        running -= 1

    service.register(step)
    first = asyncio.create_task(service.guild(7, reader=READER))
    while not runs:
        await asyncio.sleep(0)
    await service.guild(7, reader=READER)  # a gateway gap while it runs
    await service.guild(7, reader=READER)  # and another one
    release.set()
    await first
    assert runs == [7, 7]


async def test_changed_threads_are_read_a_few_at_a_time_and_a_failure_stops_the_rest() -> None:
    running = most = 0
    started: list[int] = []

    async def read(n: int) -> None:
        nonlocal running, most
        started.append(n)
        running += 1
        most = max(most, running)
        await asyncio.sleep(0)
        running -= 1
        if n == 5:
            raise TimeoutError("Discord hung")

    with pytest.raises(TimeoutError):
        await a_few_at_a_time([partial(read, n) for n in range(20)])
    assert most == READS_AT_ONCE
    assert len(started) < 20  # the failure stopped what had not started
    await a_few_at_a_time([partial(read, n) for n in range(6, 20)])
    assert started[-14:] == list(range(6, 20))
