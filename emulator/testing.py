"""``connected_client``: drive a real discord.py client against the emulator until a block ends.

Use it as ``async with connected_client(emu, discord.Client(intents=...)) as client:``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

import discord

from emulator.driver import Emulator

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.asynccontextmanager
async def connected_client(
    emu: Emulator, client: ClientT, ready_timeout: float = 10.0
) -> AsyncIterator[ClientT]:
    """Run ``client`` against ``emu`` until the block ends.

    Starts ``client.start(token)`` as a task and waits for it to be ready. On exit it closes the client
    and AWAITS the start task, so an exception in the gateway loop fails the test instead of vanishing.
    Pass clients built with a small ``guild_ready_timeout`` (``fast_ready`` does it for you).
    """
    emu.configure_discord_py()
    fast_ready(client)
    task = asyncio.create_task(client.start(emu.token), name="discord-client")
    try:
        await _wait_ready(client, task, ready_timeout)
        yield client
    finally:
        await client.close()
        try:
            await asyncio.wait_for(task, timeout=10)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise


async def _wait_ready(client: discord.Client, task: asyncio.Task[None], timeout: float) -> None:
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait({ready, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        ready.cancel()
        task.result()  # re-raise the client's own error
        raise RuntimeError("discord client stopped before it was ready")
    if ready not in done:
        ready.cancel()
        raise TimeoutError(f"discord client not ready within {timeout}s")


def fast_ready(client: discord.Client, seconds: float = 0.05) -> None:
    """Shrink discord.py's wait for GUILD_CREATEs after READY (2 s by default) for tests."""
    client._connection.guild_ready_timeout = seconds  # same attribute the constructor argument sets
