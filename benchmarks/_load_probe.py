"""What the load benchmark needs inside a bot process: a sped-up clock, and a report per event handled.

The clock is shared with the parent through a file holding ``posix_time monotonic_time speed``:
the script's time was ``posix_time`` at the system's ``monotonic_time`` and runs ``speed`` times
faster than real time from there. Both processes read the same monotonic clock, so they agree
without reading the file again; the parent moves time (between load steps) by rewriting the file
and telling the bot to :meth:`SpedUpClock.reload` it.

:func:`report_events` prints ``e <key> <perf_counter>`` once every handler a gateway event started
(``on_message``, ``on_raw_reaction_add``, ...) has finished: the event's work is committed then.
The key names the event the way the parent can name it too (:func:`event_key`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.app import UnstuckBot

#: The gateway events whose handling the load benchmark times.
TIMED_EVENTS = (
    "MESSAGE_CREATE",
    "MESSAGE_UPDATE",
    "MESSAGE_DELETE",
    "MESSAGE_REACTION_ADD",
    "MESSAGE_REACTION_REMOVE",
    "THREAD_CREATE",
)


class SpedUpClock:
    """The script's clock: real time sped up, from an origin kept in a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._origin = 0.0
        self._mono = 0.0
        self._speed = 1.0
        self.reload()

    def reload(self) -> None:
        """Read the origin again (the parent moved time)."""
        origin, mono, speed = self.path.read_text().split()
        self._origin, self._mono, self._speed = float(origin), float(mono), float(speed)

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._mono) * self._speed
        return datetime.fromtimestamp(self._origin + elapsed, tz=UTC)

    @staticmethod
    def write(path: Path, moment: datetime, speed: float) -> None:
        """Start the clock at ``moment`` now, running ``speed`` times faster than real time."""
        path.write_text(f"{moment.timestamp()} {time.monotonic()} {speed}")


class ScriptClock(SpedUpClock):
    """The parent's side: it moves time and writes it down for the bots."""

    def __init__(self, path: Path, start: datetime, speed: float) -> None:
        self.write(path, start, speed)
        super().__init__(path)

    def set(self, moment: datetime) -> None:
        self.write(self.path, moment, self._speed)
        self.reload()

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)


def event_key(event: str, data: dict[str, Any]) -> str:
    """A name for one gateway event that the parent, which sent it, can work out too.

    Reactions are not unique (add, remove, add again): the parent pairs them in order.
    """
    if event.startswith("MESSAGE_REACTION"):
        return f"{event}:{data['message_id']}:{data['user_id']}"
    if event == "MESSAGE_UPDATE":
        return f"{event}:{data['id']}:{data.get('edited_timestamp')}"
    return f"{event}:{data['id']}"


def report_events(bot: UnstuckBot, say: Callable[[str], None]) -> None:
    """Print ``e <key> <perf_counter>`` when the handlers of each timed gateway event are done.

    discord.py parses a gateway event and starts its handlers' tasks synchronously
    (``ConnectionState.parsers`` → ``dispatch`` → ``_schedule_event``), so the tasks started while a
    parser runs belong to that event.
    """
    started: list[asyncio.Task[Any]] | None = None
    schedule = bot._schedule_event

    def collecting(*args: Any, **kwargs: Any) -> asyncio.Task[Any]:
        task = schedule(*args, **kwargs)
        if started is not None:
            started.append(task)
        return task

    bot._schedule_event = collecting  # type: ignore[method-assign]
    parsers = bot._connection.parsers

    def timed(event: str, parse: Callable[[Any], None]) -> Callable[[Any], None]:
        def parse_and_watch(data: Any) -> None:
            nonlocal started
            started = []
            try:
                parse(data)
            finally:
                tasks, started = started, None
            if (data.get("author") or {}).get("bot"):
                return  # the bot's own messages are not part of the load
            key = event_key(event, data)
            if not tasks:
                say(f"e {key} {time.perf_counter()}")
                return
            remaining = len(tasks)

            def done(_: asyncio.Task[Any]) -> None:
                nonlocal remaining
                remaining -= 1
                if remaining == 0:
                    say(f"e {key} {time.perf_counter()}")

            for task in tasks:
                task.add_done_callback(done)

        return parse_and_watch

    for event in TIMED_EVENTS:
        parsers[event] = timed(event, parsers[event])


def watch_write_turns(bot: UnstuckBot, every: float = 10.0) -> None:
    """Profiling aid (``UNSTUCK_LOAD_WRITE_TURNS=1``): how long write transactions wait for their
    turn (SQLite) and hold it, by the function that opened them, logged every ``every`` seconds."""
    import contextlib
    import sys
    from collections import defaultdict

    db = bot.services.db
    session = db.session
    stats: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])  # n, wait, hold, max hold

    @contextlib.asynccontextmanager
    async def timed_session() -> Any:
        frame = sys._getframe(2)
        caller = f"{frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_code.co_name}"
        asked = time.perf_counter()
        async with session() as s:
            got = time.perf_counter()
            try:
                yield s
            finally:
                held = time.perf_counter() - got
                entry = stats[caller]
                entry[0] += 1
                entry[1] += got - asked
                entry[2] += held
                entry[3] = max(entry[3], held)

    db.session = timed_session  # type: ignore[method-assign]

    async def log_now_and_then() -> None:
        while True:
            await asyncio.sleep(every)
            rows = sorted(stats.items(), key=lambda kv: -kv[1][2])[:15]
            logging.getLogger(__name__).warning(
                "write turns:\n%s",
                "\n".join(
                    f"{caller:<55} n={n:>6} hold={hold:7.2f}s mean={hold / n * 1000:6.2f}ms "
                    f"max={worst * 1000:7.1f}ms wait_mean={wait / n * 1000:7.1f}ms"
                    for caller, (n, wait, hold, worst) in rows
                ),
            )

    bot.loop.create_task(log_now_and_then())
