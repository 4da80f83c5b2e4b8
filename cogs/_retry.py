"""Running a command or a button's use case again when it failed for a passing reason.

The database refusing a transaction for a passing reason (a lock held too long, a dropped
connection), or Discord failing one of the handler's own calls (a 5xx, a lost connection, no
answer in time) before the handler committed anything: in both cases nothing was changed, so
running the work again is safe, and the member, whose click or command was acknowledged and who has
15 minutes for the answer, waits out a blip instead of seeing an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
import discord

from bot.services.port_errors import Unavailable
from storage.engine import commits_so_far
from storage.errors import is_transient

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Pauses before running the work again: about half a minute in all, like an event's retries
#: (bot.services.lanes), well within the 15 minutes Discord gives an acknowledged interaction.
RETRY_PAUSES = (0.1, 0.3, 1.0, 2.0, 4.0, 8.0, 15.0)
#: Discord failing this time: a 5xx, a lost connection, no answer in time.
DISCORD_BLIPS = (discord.DiscordServerError, Unavailable, aiohttp.ClientError, ConnectionError, TimeoutError)


def may_run_again(cause: BaseException, *, changed: bool) -> bool:
    """Whether failed work may simply run again: the database refused its transaction for a passing
    reason (so that transaction was not committed), or Discord failed a call before the work
    ``changed`` anything (a 5xx on fetching the answer `/solved` names, say)."""
    return is_transient(cause) or (isinstance(cause, DISCORD_BLIPS) and not changed)


async def patiently(run: Callable[[], Awaitable[T]]) -> T:
    """``run()``, again after a pause each time it fails for a passing reason, until the pauses are
    used up (then its error stands)."""
    for attempt, pause in enumerate(RETRY_PAUSES, start=1):
        start = commits_so_far()
        try:
            return await run()
        except Exception as error:
            if not may_run_again(error, changed=commits_so_far() > start):
                raise
            log.warning("a use case failed for a passing reason (attempt %d); running it again", attempt)
        await asyncio.sleep(pause)
    return await run()
