"""The delivery worker: the one place owed Discord actions (:mod:`bot.services.owed`) are carried out.

Woken when a transaction that owes something commits, and ticked by the scheduler for retries that
fell due, it delivers each channel's due actions in order, channels side by side, so one slow or
rate-limited channel never holds up another. Every Discord call has a deadline.

What can happen to an attempt, as the delivery port reports it:

- done: settled with its result (a message id);
- :class:`Refused` (unknown channel or message, archived thread, missing permission or access):
  settled ``refused`` once, logged once, listed for staff by ``refused_summary``; never retried;
- :class:`RetryAfter` (a 429 longer than the client waits by itself): due again exactly then;
- :class:`Unavailable` (5xx, a reset connection) or a timeout: due again after an exponential
  backoff with jitter. When the outcome is unknown (a timeout, a reset), or the action is older
  than Discord's nonce memory, a send first looks whether its message went out after all.

An owed ``edit`` is rendered by the editor its cog registered (:attr:`DeliveryWorker.editors`) from
the database at delivery time, so it shows the latest state however changes and retries interleave.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.domain.sharding import ShardScope
from bot.services.owed import APPEARANCE, EDIT, SEND, OwedActions, OwedMessage, message_from_payload
from bot.services.port_errors import Refused, RetryAfter, Unavailable
from bot.services.server_config import ServerConfig, ServerConfigService
from storage.engine import Database
from storage.errors import is_transient
from storage.models import HelpThread, OwedAction, Solution
from storage.owed_repo import DONE, REFUSED, OwedRepo
from storage.points_repo import SolutionRepo
from storage.repositories import ThreadRepo, owned_by_shards

log = logging.getLogger(__name__)

#: How long Discord remembers a nonce ("a few minutes"): an older send looks before resending.
NONCE_MEMORY = timedelta(minutes=5)
CALL_TIMEOUT = 10.0  # seconds one Discord call may take before it counts as failed
FIRST_RETRY = 2.0  # seconds before the first retry; doubled each time
LONGEST_WAIT = 600.0  # seconds between retries at most
REFUSALS_SHOWN = timedelta(days=7)  # how long staff see what Discord refused for good


def backoff(attempts: int, jitter: Callable[[], float] = random.random) -> float:
    """Seconds before the next try after ``attempts`` failures: doubling from FIRST_RETRY, capped,
    half of it random so that many actions failed together do not come back together."""
    delay = min(LONGEST_WAIT, FIRST_RETRY * 2**attempts)
    return delay / 2 + delay / 2 * jitter()


#: Brings one posted message in line with the database (channel id, the owed edit's payload); raises
#: Refused, RetryAfter or Unavailable like the port. Registered by the cog that renders such messages.
Editor = Callable[[int, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class ThreadLook:
    """What a help thread should show on Discord, from the database at delivery time."""

    thread: HelpThread
    solution: Solution | None
    config: ServerConfig
    show_note: bool  # the "Solved" note follows the solution (owed by a mark or unmark)
    note_id: int | None  # the "Solved" note posted before, if any
    unarchive: bool  # the thread came back to life: open it even if Discord archived it


class DeliveryPort(Protocol):
    """What the worker needs from Discord; each raises Refused, RetryAfter or Unavailable."""

    async def send(self, message: OwedMessage) -> int:
        """Post the message with its key as the nonce; its id."""
        ...

    async def find_sent(self, message: OwedMessage, since: datetime) -> int | None:
        """The id of this message if the bot posted it in the channel after ``since`` (when it was
        first owed: an identical note from before is another one)."""
        ...

    async def show_note(self, look: ThreadLook) -> int | None:
        """Post or edit the thread's "Solved" note to match its solution; the note's id."""
        ...

    async def show_look(self, look: ThreadLook) -> None:
        """Bring the thread's tags or name and its archived state in line, in one edit."""
        ...


class DeliveryWorker:
    """Delivers due owed actions while the bot runs; see the module docstring."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        configs: ServerConfigService,
        scope: ShardScope,
        owed: OwedActions,
        *,
        call_timeout: float = CALL_TIMEOUT,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.db = db
        self.clock = clock
        self.configs = configs
        self.scope = scope
        self.call_timeout = call_timeout
        self.jitter = jitter
        self.port: DeliveryPort | None = None  # handed over by the delivery cog when it loads
        self._scan_task: asyncio.Task[None] | None = None
        self._rescan = False
        self._channels: dict[int, asyncio.Task[None]] = {}
        self._channel_again: set[int] = set()
        # What renders an owed edit, by its ``what`` ("digest": the escalation cog's).
        self.editors: dict[str, Editor] = {}
        owed.committed.append(self.wake)

    # ---- scheduling --------------------------------------------------------------------------

    def wake(self) -> None:
        """Something was owed (a commit): look for due work now, without waiting for the tick."""
        if self.port is None:
            return  # not connected yet: the first tick after start-up delivers it
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._rescan = True
        if self._scan_task is None or self._scan_task.done():
            self._scan_task = loop.create_task(self._scan(), name="unstuck-owed: scan")

    async def deliver_due(self) -> None:
        """One tick: start every channel with due work, and wait until they are through."""
        if self.port is None:
            return
        self.wake()
        while True:
            pending = [
                t for t in (self._scan_task, *self._channels.values()) if t is not None and not t.done()
            ]
            if not pending:
                return
            await asyncio.wait(pending)

    async def stop(self) -> None:
        """Deliver nothing more (the bot is closing); unfinished actions stay pending."""
        self.port = None
        running = [t for t in (self._scan_task, *self._channels.values()) if t is not None and not t.done()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def _scan(self) -> None:
        try:
            while self._rescan:
                self._rescan = False
                async with self.db.reading() as session:
                    due = await OwedRepo(session).due(self._owned(), self.clock.now())
                for channel_id in dict.fromkeys(row.channel_id for row in due):
                    self._start_channel(channel_id)
        except Exception as error:
            _log_failure(error, "looking for owed actions")  # the next tick looks again

    def _start_channel(self, channel_id: int) -> None:
        running = self._channels.get(channel_id)
        if running is not None and not running.done():
            self._channel_again.add(channel_id)  # it looks again before it stops
            return
        self._channels[channel_id] = asyncio.get_running_loop().create_task(
            self._run_channel(channel_id), name=f"unstuck-owed: channel {channel_id}"
        )

    async def _run_channel(self, channel_id: int) -> None:
        """Deliver one channel's due actions in order until none is left."""
        try:
            while True:
                self._channel_again.discard(channel_id)
                async with self.db.reading() as session:
                    pending = await OwedRepo(session).pending_in(channel_id)
                for action in pending:
                    # A message waiting for its retry holds back the channel's later ones, so they
                    # keep their order; a thread's look or an edit holds back nothing.
                    waits = action.next_attempt_at > self.clock.now()
                    port = self.port
                    if port is None:
                        return  # stopping: what is left stays owed
                    if not waits:
                        waits = not await self._deliver(port, action)
                    if waits and action.kind == SEND:
                        break
                if channel_id not in self._channel_again:
                    return
        except Exception as error:
            # The action stays pending and the next tick tries again.
            _log_failure(error, f"delivering owed actions in channel {channel_id}")
        finally:
            if self._channels.get(channel_id) is asyncio.current_task():
                del self._channels[channel_id]

    def _owned(self):  # type: ignore[no-untyped-def]
        return owned_by_shards(OwedAction.guild_id, self.scope.shard_ids, self.scope.shard_count)

    # ---- one attempt -------------------------------------------------------------------------

    async def _deliver(self, port: DeliveryPort, action: OwedAction) -> bool:
        """One attempt at ``action``; True when it is settled (done or refused)."""
        try:
            result = await asyncio.wait_for(self._attempt(port, action), self.call_timeout)
        except Refused as refusal:
            await self._settle(action, REFUSED, None, refusal.reason)
            return True
        except RetryAfter as limit:
            await self._retry(action, limit.seconds, uncertain=False, why=str(limit))
            return False
        except Unavailable as failure:
            await self._retry(
                action, self._backoff(action.attempts), uncertain=failure.unknown, why=str(failure)
            )
            return False
        except TimeoutError:
            why = f"no answer within {self.call_timeout:g} s"
            await self._retry(action, self._backoff(action.attempts), uncertain=True, why=why)
            return False
        except Exception as error:
            if is_transient(error):
                raise  # the database, not Discord: the channel pauses until the next tick
            # A bug: logged in full, then tried again later, not in a loop.
            log.exception("owed %s %s failed unexpectedly", action.kind, action.key)
            await self._retry(action, self._backoff(action.attempts), uncertain=True, why=repr(error))
            return False
        await self._settle(action, DONE, result, None)
        return True

    async def _attempt(self, port: DeliveryPort, action: OwedAction) -> int | None:
        if action.kind == APPEARANCE:
            return await self._show(port, action)
        if action.kind == EDIT:
            return await self._edit(action)
        message = message_from_payload(action.key, action.channel_id, action.payload)
        if action.uncertain or self.clock.now() - action.created_at > NONCE_MEMORY:
            found = await port.find_sent(message, action.created_at)
            if found is not None:
                return found  # it went out before the outcome was lost: do not post it twice
        return await port.send(message)

    async def _show(self, port: DeliveryPort, action: OwedAction) -> int | None:
        thread_id = action.channel_id
        async with self.db.reading() as session:
            thread = await ThreadRepo(session).get(thread_id)
            solution = await SolutionRepo(session).get(thread_id)
        if thread is None or thread.deleted:
            return action.result  # nothing left to show
        look = ThreadLook(
            thread=thread,
            solution=solution,
            config=await self.configs.get(thread.guild_id),
            show_note=bool(action.payload.get("note")),
            note_id=action.result,
            unarchive=bool(action.payload.get("unarchive")),
        )
        note_id = action.result
        if look.show_note:
            note_id = await port.show_note(look)
            # Kept at once, and the note no longer owed: if the look fails next (a 429 on a
            # rename), the retry must not post a second note once Discord has forgotten the nonce.
            async with self.db.session() as session:
                await OwedRepo(session).note_shown(action.key, action.version, note_id)
        await port.show_look(look)
        return note_id

    async def _edit(self, action: OwedAction) -> int | None:
        editor = self.editors.get(action.payload.get("what", ""))
        if editor is None:
            raise Unavailable(f"nothing renders {action.payload.get('what')!r} messages yet")
        await editor(action.channel_id, action.payload)
        return action.payload.get("message_id")

    def _backoff(self, attempts: int) -> float:
        return backoff(attempts, self.jitter)

    async def _retry(self, action: OwedAction, seconds: float, *, uncertain: bool, why: str) -> None:
        attempts = action.attempts + 1
        at = self.clock.now() + timedelta(seconds=seconds)
        log.info(
            "owed %s %s: %s; try %d again in %.1f s", action.kind, action.key, why, attempts + 1, seconds
        )
        async with self.db.session() as session:
            await OwedRepo(session).retry_later(action.key, attempts, at, uncertain=uncertain)

    async def _settle(self, action: OwedAction, status: str, result: int | None, refusal: str | None) -> None:
        async with self.db.session() as session:
            settled = await OwedRepo(session).settle(
                action.key, action.version, status, self.clock.now(), result=result, refusal=refusal
            )
        if settled and refusal is not None:
            log.warning(
                "guild %s: Discord refused owed %s %s in channel %s for good: %s",
                action.guild_id,
                action.kind,
                action.key,
                action.channel_id,
                refusal,
            )

    # ---- for staff ---------------------------------------------------------------------------

    async def refused_summary(self, guild_id: int) -> list[tuple[int, str, int]]:
        """(channel id, reason, how many) of the bot's actions Discord refused for good lately (a
        week: long enough for staff to notice, short enough to go once it is fixed)."""
        async with self.db.reading() as session:
            return await OwedRepo(session).refused(guild_id, self.clock.now() - REFUSALS_SHOWN)

    async def next_due_at(self) -> datetime | None:
        async with self.db.reading() as session:
            return await OwedRepo(session).next_due_at(self._owned())


def _log_failure(error: Exception, doing: str) -> None:
    """A database hiccup is expected now and then (a warning); anything else is a bug (in full)."""
    if is_transient(error):
        log.warning("%s paused: %r; the next tick goes on", doing, error)
    else:
        log.error("%s failed", doing, exc_info=error)
