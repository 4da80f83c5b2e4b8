"""What Discord's errors mean for an action the bot owes: refused for good, wait, or try again.

Shared by the delivery port (:mod:`cogs.delivery`) and the escalation port, so that both tell the
services the same thing in the services' own terms (:mod:`bot.services.delivery`).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import aiohttp
import discord

from bot.services.delivery import Refused, RetryAfter, Unavailable

T = TypeVar("T")

#: Discord's JSON error codes that no retry will change, and what staff are told about them.
FINAL_CODES = {
    10003: "the channel was deleted",
    10008: "the message was deleted",
    50001: "missing access",
    50013: "missing permission",
    50083: "the thread is archived",
}


async def classified(call: Awaitable[T]) -> T:
    """Run a Discord call, turning its failure into :class:`Refused`, :class:`RetryAfter` (a 429
    longer than discord.py waits out by itself) or :class:`Unavailable` (5xx, a lost connection)."""
    try:
        return await call
    except discord.RateLimited as limit:
        raise RetryAfter(limit.retry_after) from None
    except discord.DiscordServerError as error:
        raise Unavailable(f"Discord answered {error.status}") from None
    except discord.HTTPException as error:
        if error.code in FINAL_CODES:
            raise Refused(FINAL_CODES[error.code]) from None
        if error.status == 404:
            raise Refused("the channel or message is gone") from None
        if error.status == 403:
            raise Refused("missing permission") from None
        if error.status == 429:  # a 429 without Discord's headers (e.g. Cloudflare)
            raise Unavailable("rate-limited by the network") from None
        raise Refused(f"Discord rejected it ({error.status} {error.code})") from None
    except (aiohttp.ClientError, OSError) as error:
        # The request may have reached Discord before the connection broke: look before resending.
        raise Unavailable(f"connection failed: {error!r}", unknown=True) from None
