"""Events in order, retried through database hiccups, and never passed over when they fail.

What members do reaches the bot once: Discord does not send a message event again because our
database was locked for a second. So an event whose transaction cannot be committed for a passing
reason (:func:`storage.errors.is_transient`: a lock held too long, a dropped connection) is tried
again with backoff, in the handler's own task, so the gateway loop goes on reading.

The catch-up after downtime reads history from "last seen" markers (a help channel's last question,
a thread's last message), and those move with every event committed. An event committed after a
later one failed would move the marker past the failure, and no restart would ever find it again.
So events run in *lanes*, one per channel or thread: an event waits for the earlier ones of its
lane, including their retries. When the retries run out, the lane is *parked*: its later events
are left alone too, the markers stay before the failed one, and the next catch-up of the server
(:mod:`bot.services.catch_up`, which unparks it) reads them all back from Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

#: Pauses between attempts: quick at first (a lock is often released within milliseconds), then
#: a few seconds apart, about half a minute in all before the lane is left to the catch-up.
BACKOFF = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0, 5.0, 5.0)

#: The lanes the current task holds: an event handler that calls another one on the same channel
#: or thread (a message that is a forum post's starter) runs it in the lane it already holds.
_HELD: ContextVar[frozenset[int]] = ContextVar("unstuck_lanes_held", default=frozenset())


@dataclass
class _Lane:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # tasks holding or waiting for it: the lane is forgotten when none is left


class Lanes:
    """Runs event handlers one lane at a time, retrying passing database failures."""

    def __init__(
        self, is_transient: Callable[[BaseException], bool], delays: Sequence[float] = BACKOFF
    ) -> None:
        self.is_transient = is_transient
        self.delays = tuple(delays)
        self.failed_attempts = 0  # attempts refused by the database, for logs and tests
        self._lanes: dict[int, _Lane] = {}
        self._parked: dict[int, int] = {}  # lane key -> its server's id
        self._closing = asyncio.Event()

    async def run(self, guild_id: int, keys: Collection[int], job: Callable[[], Awaitable[T]]) -> T | None:
        """Run ``job`` after the earlier events of every lane in ``keys``; ``None`` when it was left
        to the catch-up (a lane was parked, or the database kept refusing it)."""
        held = _HELD.get()
        wanted = frozenset(keys)
        if wanted <= held:
            return await job()  # nested in a job of the same lanes: the outer one retries
        async with self._hold(wanted - held):
            token = _HELD.set(held | wanted)
            try:
                if any(key in self._parked for key in wanted):
                    log.debug("lanes %s are parked: event left to the catch-up", sorted(wanted))
                    return None
                return await self._attempts(guild_id, wanted, job)
            finally:
                _HELD.reset(token)

    async def _attempts(
        self, guild_id: int, keys: frozenset[int], job: Callable[[], Awaitable[T]]
    ) -> T | None:
        for attempt, pause in enumerate((*self.delays, None), start=1):
            try:
                return await job()
            except Exception as error:
                if not self.is_transient(error):
                    raise
                self.failed_attempts += 1
                if pause is None or self._closing.is_set():
                    log.warning(
                        "database refused an event %d times (%s); lanes %s are left to the catch-up",
                        attempt,
                        error.__class__.__name__,
                        sorted(keys),
                    )
                    break
                log.info("database refused an event (%s); trying again in %.2f s", error, pause)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), pause)
        self._parked.update(dict.fromkeys(keys, guild_id))
        return None

    @contextlib.asynccontextmanager
    async def _hold(self, keys: frozenset[int]) -> AsyncIterator[None]:
        # Always in the same (sorted) order, so two events sharing two lanes never wait for each other.
        entered: list[tuple[int, _Lane]] = []
        locked: list[_Lane] = []
        try:
            for key in sorted(keys):
                lane = self._lanes.setdefault(key, _Lane())
                lane.users += 1
                entered.append((key, lane))
                await lane.lock.acquire()
                locked.append(lane)
            yield
        finally:
            for lane in locked:
                lane.lock.release()
            for key, lane in entered:
                lane.users -= 1
                if lane.users == 0 and self._lanes.get(key) is lane:
                    del self._lanes[key]

    def parked_guilds(self) -> set[int]:
        """Servers with events left to the catch-up."""
        return set(self._parked.values())

    def unpark(self, guild_id: int) -> None:
        """The catch-up of ``guild_id`` read its markers: its lanes take events again."""
        self._parked = {key: guild for key, guild in self._parked.items() if guild != guild_id}

    def close(self) -> None:
        """Shutting down: retries stop waiting, and what they held is left to the next start-up."""
        self._closing.set()
