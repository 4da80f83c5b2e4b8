"""Load: how many events per second of a busy help community the bot keeps up with, open loop.

    python -m benchmarks.load [--rates 250,500,1000,2000] [--seconds 60] [--json PATH]
                              [--databases sqlite,postgres]

Events arrive on a Poisson schedule at the offered rate whether or not the bot keeps up, and every
latency is measured from the event's *scheduled* time, so a bot that falls behind sees its queue in
the figures (no coordinated omission). The mix (``benchmarks._load_traffic.MIX``) per 1,000 events:
new questions in forums and text channels, replies, edits, deletions, ✅ added and removed,
"Mark as solution", ``/solved``, ``/close``, ``/similar``, ``/points``, ``/leaderboard`` and its page
buttons, and Claim buttons on escalation digests. Timed work ticks every few seconds with work due:
the script's clock runs ``--speed`` times faster than real time and the servers are set to short
delays (dormant after 10 minutes, escalation tiers at 3 and 6), and each step starts a minute before
the weekly leaderboard post.

Per step: achieved rate; event-to-commit p50/p99/max (until every handler of the gateway event
finished); interaction-to-response p50/p99 (until the bot's first response, its acknowledgement,
reached Discord) and p99 until the answer itself; errors (logged by a bot, failed interactions,
events never handled, problems the emulator recorded); late interactions (first response after
3 s). The emulator's own lag (how late it sent events) and CPU use are shown, and before the bots
start, the emulator and the script run alone at every rate against a bare gateway client
(``benchmarks._load_emulator``): the harness must keep up for the figures to be the bot's.

SQLite runs one bot process; PostgreSQL (``UNSTUCK_TEST_POSTGRES_URL``) two, each owning one of two
shards. ``sqlite_max_rate`` and ``postgres_max_rate`` are the highest offered rates at which every
step up to it met both targets: event-to-commit p99 <= 50 ms and interaction p99 <= 250 ms. A PNG
chart of the p99s against the offered rate is saved beside the JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks._databases import POSTGRES_ENV, fresh_database
from benchmarks._load_bots import BotProcess, new_reports, own_cpu_seconds
from benchmarks._load_emulator import EmulatorCheck, check_emulator
from benchmarks._load_probe import ScriptClock
from benchmarks._load_report import StepRow, max_rate, print_table, step_row, write_chart
from benchmarks._load_traffic import INTERACTION_TIMEOUT, MIX, Community, Event, Server, Thread
from emulator import Emulator
from emulator.interactions import TOKEN_LIFETIME

#: The servers' settings: short delays, so that sweeps have work due within a step.
SETTINGS = (
    "UNSTUCK_HELP__DORMANT_AFTER=10m",
    'UNSTUCK_ESCALATION__TIERS=[{"after": "3m", "role": "helper"}, {"after": "6m", "role": "staff"}]',
)
START = datetime(2026, 1, 5, 8, 59, tzinfo=UTC)  # a Monday, a minute before the weekly post


@dataclass
class Options:
    rates: list[float]
    seconds: float
    databases: list[str]
    guilds: int = 4
    people: int = 150
    helpers: int = 30
    solved_per_guild: int = 15  # leaderboard pages and /similar need solved threads
    speed: float = 20.0
    tick_every: float = 3.0
    seed: int = 1


# ---- the community ------------------------------------------------------------------------------


def build_servers(emu: Emulator, options: Options) -> tuple[list[Server], list[int], list[int]]:
    people = [emu.create_user(f"member{i}") for i in range(options.people)]
    helpers = people[: options.helpers]
    servers = []
    for g in range(options.guilds):
        owner = emu.create_user(f"owner{g}")
        # Consecutive shard keys, so two shards own half the servers each.
        guild = emu.create_guild(f"Community {g}", owner_id=owner, guild_id=((g + 1) << 22) | (1 << 40))
        helper_role, staff_role = emu.create_role(guild, "Helpers"), emu.create_role(guild, "Staff")
        for person in people:
            emu.add_member(guild, person, [helper_role] if person in helpers else [])
        servers.append(
            Server(
                guild=guild,
                owner=owner,
                forum=emu.create_forum_channel(guild, "help", tags=["Solved", "Unanswered"]),
                text=emu.create_text_channel(guild, "help-text"),
                general=emu.create_text_channel(guild, "general"),
                escalation=emu.create_text_channel(guild, "escalations"),
                leaderboard=emu.create_text_channel(guild, "leaderboard"),
                helper_role=helper_role,
                staff_role=staff_role,
            )
        )
    return servers, people, helpers


async def configure(emu: Emulator, server: Server) -> None:
    for command, options in (
        ("unstuck config add-help-channel", {"channel": server.forum}),
        ("unstuck config add-help-channel", {"channel": server.text}),
        ("unstuck config add-role", {"role": server.helper_role, "kind": "helper"}),
        ("unstuck config add-role", {"role": server.staff_role, "kind": "staff"}),
        ("unstuck config channel", {"purpose": "escalation", "channel": server.escalation}),
        ("unstuck config channel", {"purpose": "leaderboard", "channel": server.leaderboard}),
    ):
        await emu.user_runs_slash(server.owner, server.general, command, options=options, timeout=60)


async def seed(community: Community, reports: dict[str, list[float]], per_guild: int) -> None:
    """Solved threads, each answered by another helper: leaderboard pages and /similar results."""
    emu, rng = community.emu, community.rng
    askers = [p for p in community.people if p not in community.helpers]
    keys: list[str] = []
    for server in community.servers:
        for n in range(per_guild):
            asker, helper = rng.choice(askers), community.helpers[n % len(community.helpers)]
            post = await emu.user_posts_in_forum(
                asker, server.forum, community._text()[:90], community._text()
            )
            thread = Thread(int(post["id"]), server, asker, ignored=False)
            await wait_handled(reports, [f"MESSAGE_CREATE:{thread.id}", f"THREAD_CREATE:{thread.id}"])
            answer = await emu.user_says(helper, thread.id, f"Try this: {community._text()}")
            await wait_handled(reports, [f"MESSAGE_CREATE:{answer['id']}"])
            await emu.user_reacts(asker, thread.id, int(answer["id"]), "✅")
            keys.append(f"MESSAGE_REACTION_ADD:{answer['id']}:{asker}")
            thread.replies.append((int(answer["id"]), helper))
            thread.reacted.append(int(answer["id"]))
            community.threads.append(thread)
    await wait_handled(reports, keys)


async def wait_handled(reports: dict[str, list[float]], keys: list[str], timeout: float = 120) -> None:
    needed = Counter(keys)
    async with asyncio.timeout(timeout):
        while any(len(reports.get(key, ())) < n for key, n in needed.items()):
            await asyncio.sleep(0.01)


def due_work(emu: Emulator, servers: list[Server]) -> Counter[str]:
    """What timed work has shown so far: digests, weekly posts, archived (dormant or closed) threads."""
    bot = emu.bot_user_id
    work: Counter[str] = Counter()
    for server in servers:
        for purpose, channel in (("digests", server.escalation), ("weekly_posts", server.leaderboard)):
            work[purpose] += sum(m.author_id == bot for m in emu.world.messages.get(channel, {}).values())
    work["archived"] = sum(c.is_thread and c.archived for c in emu.world.channels.values())
    return work


# ---- one step -----------------------------------------------------------------------------------


async def tick_forever(bots: list[BotProcess], every: float) -> None:
    """The scheduler: one tick of timed work in every bot, every ``every`` seconds."""
    while True:
        started = time.perf_counter()
        await asyncio.gather(*(bot.command("tick") for bot in bots))
        await asyncio.sleep(max(0.0, every - (time.perf_counter() - started)))


async def new_week(emu: Emulator, clock: ScriptClock, bots: list[BotProcess], week: int) -> None:
    """Between steps: a minute before the next weekly post; the backlog that makes due (every
    thread goes dormant) is swept and delivered before the step starts."""
    clock.set(START + timedelta(weeks=week))
    for bot in bots:
        await bot.command("clock")
    for bot in bots:
        await bot.command("tick")
    with contextlib.suppress(TimeoutError):  # a backlog still being delivered: the step counts it
        await emu.settle(quiet=1.0, timeout=300)


async def run_step(
    kind: str, community: Community, bots: list[BotProcess], reports: dict[str, list[float]], rate: float,
    options: Options,
) -> StepRow:  # fmt: skip
    rng = random.Random(options.seed * 1000 + int(rate))
    errors_before = sum(bot.logged_errors() for bot in bots)
    problems_before = len(community.emu.problems)
    ticks_before = [len(bot.tick_seconds) for bot in bots]
    cpu_before = own_cpu_seconds(), sum(bot.cpu_seconds() for bot in bots)
    reports.clear()
    work_before = due_work(community.emu, community.servers)
    events: list[Event] = []
    running: set[asyncio.Task[None]] = set()
    ticker = asyncio.create_task(tick_forever(bots, options.tick_every))
    start = at = time.perf_counter() + 0.01
    while (at := at + rng.expovariate(rate)) < start + options.seconds:
        wait = at - time.perf_counter()
        await asyncio.sleep(max(wait, 0))  # behind schedule: send at once, but let the emulator run
        event = Event(community.pick(), at)
        events.append(event)
        task = asyncio.create_task(community.act(event))
        running.add(task)
        task.add_done_callback(running.discard)
    ticker.cancel()
    elapsed = time.perf_counter() - start
    if running:
        await asyncio.wait(running, timeout=INTERACTION_TIMEOUT + 10)
    keys = [key for event in events for key in event.keys]
    with contextlib.suppress(TimeoutError):  # what is still missing is counted as uncommitted
        await wait_handled(reports, keys, timeout=max(60, 3 * options.seconds))
    wall = time.perf_counter() - start  # the step and its drain: the CPU was spent over both
    emulator_cpu = own_cpu_seconds() - cpu_before[0]
    bot_cpu = sum(bot.cpu_seconds() for bot in bots) - cpu_before[1]
    cores = emulator_cpu / wall, bot_cpu / wall
    ticks = [t for bot, n in zip(bots, ticks_before, strict=True) for t in bot.tick_seconds[n:]]
    errors = sum(bot.logged_errors() for bot in bots) - errors_before
    errors += len(community.emu.problems) - problems_before  # refused requests, broken limits
    row = step_row(kind, rate, round(elapsed, 1), events, reports, errors, ticks, cores)
    work = due_work(community.emu, community.servers)
    work.subtract(work_before)
    row.sweep_work = dict(work)
    return row


# ---- one database -------------------------------------------------------------------------------


async def measure(kind: str, options: Options) -> list[StepRow]:
    """Every step on one database (a fresh one), with one bot process (SQLite) or two (PostgreSQL)."""
    instances = 2 if kind == "postgres" else 1
    with tempfile.TemporaryDirectory(prefix="unstuck-load-") as directory:
        workdir = Path(directory)
        clock = ScriptClock(workdir / "clock", START - timedelta(weeks=1), options.speed)
        emu = Emulator(clock=clock.now, validate=False)
        emu.interaction_deadline = None  # lateness is counted here, from the scheduled time
        emu.interactions.token_lifetime = TOKEN_LIFETIME * options.speed  # 15 minutes of real time
        await emu.start()
        bots: list[BotProcess] = []
        reports = new_reports()
        try:
            servers, people, helpers = build_servers(emu, options)
            async with fresh_database(kind, workdir, "load") as url:
                for index in range(instances):
                    owned = [s.guild for s in servers if (s.guild >> 22) % instances == index]
                    args = [
                        "--base-url", emu.base_url, "--gateway-url", emu.gateway_url, "--token", emu.token,
                        "--database", url, "--clock", str(workdir / "clock"),
                        *[arg for g in owned for arg in ("--guild", str(g))],
                        *[arg for setting in SETTINGS for arg in ("--env", setting)],
                    ]  # fmt: skip
                    if instances > 1:
                        args += ["--shard-count", str(instances), "--shard-ids", f"[{index}]"]
                    bot = BotProcess(args, reports, workdir / f"bot{index}.log")
                    await bot.start()
                    bots.append(bot)
                print(f"{kind}: bot process(es) {[bot.pid for bot in bots]}", file=sys.stderr, flush=True)
                for server in servers:
                    await configure(emu, server)
                community = Community(emu, servers, people, helpers, options.seed)
                await seed(community, reports, options.solved_per_guild)
                rows = []
                for week, rate in enumerate(options.rates, start=1):
                    await new_week(emu, clock, bots, week)
                    rows.append(await run_step(kind, community, bots, reports, rate, options))
                    print_table(rows[-1:])
                    if rows[-1].achieved_rate < rate / 2:
                        print(f"{kind}: far behind at {rate:g}/s: faster steps skipped", file=sys.stderr)
                        break
                for bot in bots:
                    await bot.stop()
        finally:
            for bot in bots:
                await bot.stop()
            await emu.stop()
    return rows


async def check_harness(options: Options) -> list[EmulatorCheck]:
    """The emulator and the script alone (no bot) at every offered rate: are they fast enough?"""
    emu = Emulator(validate=False)
    await emu.start()
    try:
        servers, people, helpers = build_servers(emu, options)
        seconds = min(5.0, options.seconds)
        return [await check_emulator(emu, servers, people, helpers, rate, seconds) for rate in options.rates]
    finally:
        await emu.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="250,500,1000,2000", help="offered events/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each step")
    parser.add_argument("--json", type=Path)
    default_databases = "sqlite,postgres" if os.environ.get(POSTGRES_ENV) else "sqlite"
    parser.add_argument("--databases", default=default_databases)
    parser.add_argument("--solved-per-guild", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-emulator-check", action="store_true", help="skip the harness-only run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    options = Options(
        rates=[float(r) for r in args.rates.split(",")],
        seconds=args.seconds,
        databases=[d.strip() for d in args.databases.split(",") if d.strip()],
        solved_per_guild=args.solved_per_guild,
        seed=args.seed,
    )
    checks = [] if args.no_emulator_check else asyncio.run(check_harness(options))
    for check in checks:
        print(
            f"emulator alone at {check.offered_rate:g}/s: sent {check.sent_rate}/s, lag p50 "
            f"{check.lag_p50_ms} ms p99 {check.lag_p99_ms} ms, {check.cpu_ms_per_event} ms CPU per event"
        )
    rows = [row for kind in options.databases for row in asyncio.run(measure(kind, options))]
    print_table(rows)
    result = {
        "sqlite_max_rate": max_rate(rows, "sqlite"),
        "postgres_max_rate": max_rate(rows, "postgres"),
        "steps": [asdict(row) for row in rows],
        "emulator_check": [asdict(check) for check in checks],
        "mix_per_1000": MIX,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    print(f"highest rate meeting both p99 targets: sqlite {result['sqlite_max_rate']}, "
          f"postgres {result['postgres_max_rate']}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
        try:
            write_chart(rows, args.json.with_suffix(".png"))
        except ImportError:
            print("no chart: matplotlib is not installed (pip install -e '.[bench]')", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
