"""The bot as its own OS process, for the crash and ingest benchmarks (killed, restarted, timed).

It runs the production ``UnstuckBot`` against the emulator of the parent process. Time comes from
a file the parent writes (the script's clock). A tiny line protocol on stdin/stdout lets the parent
know when everything sent so far has been handled:

- the parent posts ``sync N`` in the sync channel; once that message is handled and no other
  handler is running, the child prints ``synced N``;
- ``sweep N`` on stdin runs one tick of timed work, then prints ``swept N``;
- ``ready`` is printed once start-up caught up with the guild;
- ``connected`` is printed whenever the gateway session is (re)established;
- ``drain N`` prints ``drained N`` when the bot owes Discord nothing more, else ``owed N T``: the
  POSIX time T when the next owed action is due (the parent moves the clock there and sends
  ``deliver N``, which runs the delivery worker once and prints ``delivered N``);
- ``job NAME N`` runs one timed job by name, then prints ``ran N``;
- ``leftover N`` runs the left-over catch-up (a timed job, every minute) once, then prints
  ``left N 1`` while servers still have left-over work, else ``left N 0``;
- ``dbdown SECONDS`` (the chaos benchmark on SQLite) makes every write fail for that long, then
  prints ``down``;
- with ``--report-startup`` (the restart benchmark), ``started T`` once the modules are imported and
  ``indexed T S`` once the similar-thread index is built (``S`` seconds), ``reconciled T`` once
  start-up caught up (before ``ready``, which also waits for the paced comparison of reactions in
  unchanged threads), ``T`` from ``perf_counter``.

The load benchmark runs it with ``--live-clock`` (a sped-up clock, see ``benchmarks._load_probe``)
and ``--report-events``, and sends ``clock N`` (read the moved clock again; ``clocked N``) and
``tick N`` (one tick of timed work while events keep coming, no waiting for idle; ``ticked N S``
with the seconds it took).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import discord
import discord.gateway
import discord.http
import yarl

from benchmarks._chaos_faults import refuse_sqlite_writes
from benchmarks._load_probe import SpedUpClock, report_events, watch_write_turns
from bot.app import HANDLER_TASKS, UnstuckBot
from bot.config import load_settings
from bot.services.similar import SimilarService


class FileClock:
    """The parent's script clock, shared through a file holding a POSIX timestamp."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        return datetime.fromtimestamp(float(self.path.read_text()), tz=UTC)


async def idle() -> None:
    """Wait until no event, command or button handler is running any more."""
    me = asyncio.current_task()
    while busy := [
        t
        for t in asyncio.all_tasks()
        if t is not me and not t.done() and t.get_name().startswith(HANDLER_TASKS)
    ]:
        await asyncio.wait(busy)


def say(line: str) -> None:
    print(line, flush=True)


async def until_done(work: Callable[[], Awaitable[object]], attempts: int = 60) -> None:
    """Timed work. A tick that fails (the database is away in the chaos run) is tried again, as the
    scheduler's next tick would; only a tick that keeps failing is an error."""
    for attempt in range(attempts):
        try:
            await work()
            return
        except Exception:
            if attempt == attempts - 1:
                raise
            logging.getLogger(__name__).warning("sweep failed; trying again", exc_info=True)
            await asyncio.sleep(0.5)


async def serve_commands(bot: UnstuckBot) -> None:
    while line := await asyncio.to_thread(sys.stdin.readline):
        command, _, number = line.strip().partition(" ")
        if command == "sweep":
            try:
                await until_done(bot.run_sweeps)
            except Exception as error:  # report it: the parent fails the run with this process's log
                logging.getLogger(__name__).exception("sweep failed")
                say(f"failed {number} {error!r}")
                continue
            await idle()
            say(f"swept {number}")
        elif command == "drain":
            await idle()
            due = await bot.services.delivery.next_due_at()
            say(f"drained {number}" if due is None else f"owed {number} {due.timestamp()}")
        elif command == "deliver":
            await bot.services.delivery.deliver_due()
            await idle()
            say(f"delivered {number}")
        elif command == "job":  # "job NAME N": one timed job, e.g. the left-over catch-up
            name, _, number = number.partition(" ")
            job = next(job for job in bot.scheduler.jobs if job.name == name)
            try:
                await until_done(job.run)
            except Exception as error:
                logging.getLogger(__name__).exception("job %s failed", name)
                say(f"failed {number} {error!r}")
                continue
            await idle()
            say(f"ran {number}")
        elif command == "leftover":
            job = next(job for job in bot.scheduler.jobs if job.name == "catch-up-left-over")
            await until_done(job.run)
            await idle()
            say(f"left {number} {int(bool(bot.services.catch_up.left_over))}")
        elif command == "tick":
            started = time.perf_counter()
            try:
                await bot.run_sweeps()
            except Exception as error:
                logging.getLogger(__name__).exception("tick failed")
                say(f"failed {number} {error!r}")
                continue
            say(f"ticked {number} {time.perf_counter() - started}")
        elif command == "clock":
            assert isinstance(bot.clock, SpedUpClock)
            bot.clock.reload()
            say(f"clocked {number}")
        elif command == "dbdown":
            refuse_sqlite_writes(bot.services.db.engine, float(number))
            say("down")


def report_startup() -> None:
    """For the restart benchmark: say when the process began and when the index was built."""
    say(f"started {time.perf_counter()}")
    build = SimilarService.build

    async def timed(self: SimilarService) -> int:
        began = time.perf_counter()
        built = await build(self)
        say(f"indexed {time.perf_counter()} {time.perf_counter() - began}")
        return built

    SimilarService.build = timed  # type: ignore[method-assign]


async def main(args: argparse.Namespace) -> None:
    if args.report_startup:
        report_startup()
    discord.http.Route.BASE = args.base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(args.gateway_url)
    level = os.environ.get("UNSTUCK_CHILD_LOG_LEVEL", "WARNING")  # INFO to look into a divergence
    env = {"UNSTUCK_DATABASE__URL": args.database, "UNSTUCK_LOGGING__LEVEL": level}
    env |= dict(setting.split("=", 1) for setting in args.env)
    if args.shard_count:
        env |= {
            "UNSTUCK_SHARDING__SHARD_COUNT": str(args.shard_count),
            "UNSTUCK_SHARDING__SHARD_IDS": args.shard_ids,
        }
    bot = UnstuckBot(
        load_settings(None, env=env),
        clock=SpedUpClock(Path(args.clock)) if args.live_clock else FileClock(Path(args.clock)),
        start_scheduler=False,
        guild_ready_timeout=0.1,
    )

    async def on_message(message: discord.Message) -> None:
        if message.channel.id == args.sync_channel and message.content.startswith("sync "):
            await idle()
            say(f"synced {message.content.split()[1]}")

    async def on_connected() -> None:
        say("connected")  # the chaos run waits for it after a gateway drop

    bot.add_listener(on_message)
    bot.add_listener(on_connected, "on_ready")
    bot.add_listener(on_connected, "on_resumed")
    runner = asyncio.create_task(bot.start(args.token))
    reconciled = asyncio.create_task(bot.wait_until_reconciled(set(args.guild)))
    await asyncio.wait({runner, reconciled}, return_when=asyncio.FIRST_COMPLETED)
    if not reconciled.done():  # the bot stopped before it caught up: its error ends this process
        reconciled.cancel()
        runner.result()
        raise RuntimeError("the bot stopped before it caught up with its guilds")
    if args.report_startup:
        say(f"reconciled {time.perf_counter()}")
    if args.report_commits:
        report_commits(bot)
    if args.report_events:
        report_events(bot, say)
    if os.environ.get("UNSTUCK_LOAD_WRITE_TURNS"):  # profiling the load benchmark's bot
        watch_write_turns(bot)
    # The paced comparison of reactions in unchanged threads too: the parent's next event comes
    # after everything the restart owes, as in an undisturbed run.
    await bot.services.catch_up.reactions.settled()
    await idle()
    say("ready")
    commands = asyncio.create_task(serve_commands(bot))
    await runner
    commands.cancel()


def report_commits(bot: UnstuckBot) -> None:
    """For the ingest benchmark: print ``c <message id> <perf_counter>`` once a message is committed.

    ``perf_counter`` is the system's monotonic clock, so the parent can compare it with its own.
    """
    service = bot.services.threads
    original = service.record_message

    async def timed(**kwargs: object) -> object:
        result = await original(**kwargs)  # type: ignore[arg-type]
        if not kwargs.get("author_is_bot"):  # the bot's own messages only move the thread's marker
            say(f"c {kwargs['message_id']} {time.perf_counter()}")
        return result

    service.record_message = timed  # type: ignore[method-assign]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("base-url", "gateway-url", "token", "database", "clock"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--guild", type=int, action="append", required=True, help="repeat for several")
    parser.add_argument("--sync-channel", type=int, default=0)
    parser.add_argument("--shard-count", type=int, default=0)
    parser.add_argument("--shard-ids", default="")
    parser.add_argument("--report-commits", action="store_true")
    parser.add_argument("--report-startup", action="store_true")
    parser.add_argument("--report-events", action="store_true")
    parser.add_argument("--live-clock", action="store_true", help="the clock file holds a sped-up clock")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE settings, repeat for several")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
