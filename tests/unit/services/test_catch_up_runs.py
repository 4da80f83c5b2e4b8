"""The catch-up of a server runs once at a time: asked again meanwhile, it goes round once more."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from bot.services.catch_up import CatchUpService
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
