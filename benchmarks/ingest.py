"""Ingest: how many help-thread messages per second the bot keeps up with, and how fast each lands.

    python -m benchmarks.ingest [--messages M] [--json PATH]

Through the emulator and the real discord.py client, it pushes M messages (default 20,000) into
500 tracked help threads across 5 servers, with ✅ reactions mixed in, as fast as the bot keeps
up (at most a few messages in flight). For each message it measures the handler latency: from the
gateway event leaving the emulator to the bot's database transaction for it being committed.
Then it runs the same load with 4 concurrent writers (two bot instances, each owning one of two
shards, plus the scheduler's sweeps) and counts errors, "database is locked" in particular.
The emulator's schema validation is off here: this measures the bot, not the test harness.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.clock import FakeClock
from emulator import Emulator

GUILDS = 5
THREADS_PER_GUILD = 100
PEOPLE = 40
IN_FLIGHT = 16
REACTION_EVERY = 50


@dataclass
class IngestResult:
    label: str
    messages: int
    seconds: float
    messages_per_s: float
    handler_p50_ms: float
    handler_p99_ms: float
    errors: int
    locked_errors: int


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Load:
    """The servers, their forums and the people posting."""

    guilds: list[int]
    forums: dict[int, int]
    general: dict[int, int]
    owners: dict[int, int]
    people: list[int]


def build_load(emu: Emulator) -> Load:
    people = [emu.create_user(f"user{i}") for i in range(PEOPLE)]
    load = Load([], {}, {}, {}, people)
    for g in range(GUILDS):
        owner = emu.create_user(f"owner{g}")
        # Consecutive shard keys, so two shards each own some of the servers.
        guild = emu.create_guild(f"Community {g}", owner_id=owner, guild_id=((g + 1) << 22) | (1 << 40))
        for person in people:
            emu.add_member(guild, person)
        load.guilds.append(guild)
        load.owners[guild] = owner
        load.forums[guild] = emu.create_forum_channel(guild, "help", tags=["Solved", "Unanswered"])
        load.general[guild] = emu.create_text_channel(guild, "general")
    return load


class BotProcess:
    """One bot instance in its own OS process (see ``benchmarks._crash_child``), reporting commits."""

    def __init__(self, args: list[str], committed: dict[int, float], log: Path) -> None:
        self.args = args
        self.committed = committed
        self.log = log
        self.ready = asyncio.Event()
        self.proc: asyncio.subprocess.Process | None = None
        self.reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        with self.log.open("a") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks._crash_child", *self.args, "--report-commits",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log,
            )  # fmt: skip
        self.reader = asyncio.create_task(self._read())
        async with asyncio.timeout(60):
            await self.ready.wait()

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            kind, *rest = line.decode().split()
            if kind == "ready":
                self.ready.set()
            elif kind == "c":
                self.committed.setdefault(int(rest[0]), float(rest[1]))

    async def sweep(self, number: int) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(f"sweep {number}\n".encode())
        await self.proc.stdin.drain()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()
        if self.reader is not None:
            self.reader.cancel()

    def errors(self) -> tuple[int, int]:
        """(errors, "database is locked" errors) the process logged."""
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return sum("ERROR" in line for line in lines), sum("database is locked" in line for line in lines)


async def wait_welcomed(emu: Emulator, threads: dict[int, int]) -> None:
    """Every question is tracked once the bot welcomed it."""
    await emu.wait_for(lambda: all(emu.bot_messages(t) for t in threads), timeout=120, what="the welcomes")


async def sweep_forever(bots: list[BotProcess]) -> None:
    """The scheduler's share of the writers: sweeps running while messages pour in."""
    number = 0
    while True:
        for bot in bots:
            number += 1
            await bot.sweep(number)
        await asyncio.sleep(0.05)


async def run_load(
    messages: int, instances: int, sweeps: bool, seed: int, threads_per_guild: int = THREADS_PER_GUILD
) -> IngestResult:
    rng = random.Random(seed)
    clock = FakeClock()
    emu = Emulator(clock=clock.now, validate=False)
    await emu.start()
    bots: list[BotProcess] = []
    committed: dict[int, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="unstuck-ingest-") as directory:
            workdir = Path(directory)
            (workdir / "clock").write_text(str(clock.now().timestamp()))
            load = build_load(emu)
            for index in range(instances):
                owned = [g for g in load.guilds if (g >> 22) % instances == index]
                args = [
                    "--base-url", emu.base_url, "--gateway-url", emu.gateway_url, "--token", emu.token,
                    "--database", f"sqlite+aiosqlite:///{workdir / 'ingest.db'}",
                    "--clock", str(workdir / "clock"),
                    *[arg for g in owned for arg in ("--guild", str(g))],
                ]  # fmt: skip
                if instances > 1:
                    args += ["--shard-count", str(instances), "--shard-ids", f"[{index}]"]
                bot = BotProcess(args, committed, workdir / f"bot{index}.log")
                await bot.start()  # one after the other: the first creates the database
                bots.append(bot)
            for guild in load.guilds:
                await emu.user_runs_slash(
                    load.owners[guild], load.general[guild], "unstuck config add-help-channel",
                    options={"channel": load.forums[guild]},
                )  # fmt: skip
            threads: dict[int, int] = {}  # thread -> asker
            for guild in load.guilds:
                for n in range(threads_per_guild):
                    asker = rng.choice(load.people)
                    post = await emu.user_posts_in_forum(
                        asker, load.forums[guild], f"Question {n}", "details"
                    )
                    threads[int(post["id"])] = asker
            await wait_welcomed(emu, threads)
            sweeper = asyncio.create_task(sweep_forever(bots)) if sweeps else None
            sent = await push(emu, rng, threads, load.people, messages, committed)
            if sweeper is not None:
                sweeper.cancel()
            for bot in bots:
                await bot.stop()
            errors = [bot.errors() for bot in bots]
    finally:
        for bot in bots:
            await bot.stop()
        await emu.stop()
    seconds = max(committed[m] for m in sent) - min(sent.values())
    latencies = [(committed[m] - sent[m]) * 1000 for m in sent]
    label = "1 writer" if instances == 1 and not sweeps else f"{instances * 2} writers"
    return IngestResult(
        label=label,
        messages=messages,
        seconds=round(seconds, 2),
        messages_per_s=round(messages / seconds, 1),
        handler_p50_ms=round(statistics.median(latencies), 2),
        handler_p99_ms=round(percentile(latencies, 0.99), 2),
        errors=sum(e for e, _ in errors),
        locked_errors=sum(locked for _, locked in errors),
    )


async def push(
    emu: Emulator,
    rng: random.Random,
    threads: dict[int, int],
    people: list[int],
    messages: int,
    committed: dict[int, float],
) -> dict[int, float]:
    """Send the messages as fast as the bot commits them (a bounded number in flight)."""
    sent: dict[int, float] = {}
    answers: list[tuple[int, int]] = []
    thread_ids = list(threads)
    for i in range(messages):
        while len(sent) - len(committed) >= IN_FLIGHT:
            await asyncio.sleep(0.0005)
        thread = rng.choice(thread_ids)
        if i % REACTION_EVERY == REACTION_EVERY - 1 and answers:
            target_thread, target = rng.choice(answers)
            await emu.user_reacts(threads[target_thread], target_thread, target, "✅")
        author = rng.choice(people)
        message = await emu.user_says(author, thread, f"message {i}")
        sent[int(message["id"])] = time.perf_counter()
        if author != threads[thread]:
            answers.append((thread, int(message["id"])))
    async with asyncio.timeout(60):
        while any(message not in committed for message in sent):
            await asyncio.sleep(0.001)
    return sent


def print_table(results: list[IngestResult]) -> None:
    print(f"{'run':<12}{'messages':>10}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'locked':>8}")
    for r in results:
        print(
            f"{r.label:<12}{r.messages:>10}{r.messages_per_s:>9}{r.handler_p50_ms:>9}"
            f"{r.handler_p99_ms:>9}{r.errors:>8}{r.locked_errors:>8}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("discord.client").setLevel(logging.ERROR)  # "PyNaCl is not installed"
    results = [
        asyncio.run(run_load(args.messages, instances=1, sweeps=False, seed=1)),
        asyncio.run(run_load(args.messages, instances=2, sweeps=True, seed=2)),
    ]
    print_table(results)
    if args.json:
        single = results[0]
        data = {"messages_per_s": single.messages_per_s, "handler_p99_ms": single.handler_p99_ms}
        args.json.write_text(json.dumps(data | {"runs": [asdict(r) for r in results]}, indent=2))
    return 0 if all(r.locked_errors == 0 and r.errors == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
