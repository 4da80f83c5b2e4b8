"""Restart: how long a big server waits for the bot after it was down, and what catching up costs
in Discord requests.

    python -m benchmarks.restart [--solved N] [--active N] [--changed N] [--json PATH]

A server with N solved threads (default 1,000,000, archived, in the database only) and N active
threads (default 10,000, in the emulator and the database) loses its bot; meanwhile N of the active
threads change (default 100: replies, archives by a moderator, new questions; see
``benchmarks._restart_seed``). Then the production bot starts in its own process
(``benchmarks._crash_child``) and the run measures, from the process start:

- ``index_s``: the similar-thread index, rebuilt in memory from the database (as today);
- ``catchup_s``: from the index built to the server caught up (log-in, gateway, the catch-up);
- ``ready_s``: from the process start to caught up (index usable, catch-up done);
- the REST requests the emulator received until then: ``catchup_rest_calls``, split into reads and
  writes (welcome notes and thread edits the changes owe). The paced reaction comparison of
  unchanged threads that starts once the server is caught up is counted apart (``sweep_calls``).

It then checks the catch-up missed nothing (every reply recorded, every archive noted, every new
question tracked). SQLite always; PostgreSQL too when ``UNSTUCK_TEST_POSTGRES_URL`` is set (in a
fresh database, dropped afterwards). Targets (issue 17): ready in at most 10 s with at most 200 REST
calls at 1M solved and 10k active threads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select

from benchmarks._databases import POSTGRES_ENV, fresh_database
from benchmarks._restart_seed import Seeded, Sizes, build_discord, change_while_down, fill_database
from bot.clock import FakeClock
from emulator import Emulator
from storage.engine import Database
from storage.models import HelpThread

TARGET_READY_S = 10.0
TARGET_CALLS = 200
START_TIMEOUT = 900.0
ABOUT = re.compile(r"^/channels/(\d+)(/|$)")
DIGITS = re.compile(r"\d{6,}")


@dataclass
class RestartRun:
    database: str
    solved: int
    active: int
    changed: int
    seed_s: float
    started_s: float  # process start until the modules are imported
    index_s: float
    catchup_s: float
    ready_s: float
    catchup_rest_calls: int
    reads: int
    writes: int
    sweep_calls: int  # the reaction comparison of unchanged threads, before "ready" was seen
    missed: list[str]
    errors: int
    problems: list[str]  # what the emulator found wrong in the bot's requests
    routes: dict[str, int] = field(default_factory=dict)


class Child:
    """The bot in its own process, reporting its start-up."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.args = args
        self.log = log
        self.lines: dict[str, list[str]] = {}
        self.ready = asyncio.Event()
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        with self.log.open("a") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks._crash_child", *self.args, "--report-startup",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log,
            )  # fmt: skip
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            kind, *rest = line.decode().split()
            self.lines[kind] = rest
            if kind == "reconciled":  # caught up; the paced reaction comparison is still running
                self.ready.set()

    async def wait_ready(self) -> None:
        assert self.proc is not None
        exited = asyncio.create_task(self.proc.wait())
        ready = asyncio.create_task(self.ready.wait())
        await asyncio.wait({exited, ready}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        exited.cancel()
        if not ready.done():
            ready.cancel()
            raise RuntimeError(f"the bot did not catch up (see {self.log}):\n{self.log.read_text()[-3000:]}")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()

    def errors(self) -> int:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return sum("ERROR" in line for line in text.splitlines())


def about(path: str) -> int | None:
    match = ABOUT.match(path)
    return int(match.group(1)) if match else None


async def missed_changes(url: str, world: Seeded) -> list[str]:
    """What the catch-up should have recorded and did not."""
    db = Database(url)
    try:
        async with db.reading() as session:
            wanted = {*world.replied, *world.archived, *world.created}
            rows = {
                t.id: t
                for t in await session.scalars(select(HelpThread).where(HelpThread.id.in_(sorted(wanted))))
            }
    finally:
        await db.dispose()
    missed = [
        f"reply {reply} in {thread}"
        for thread, reply in world.replied.items()
        if (rows[thread].last_seen_message_id or 0) < reply
    ]
    missed += [f"archive of {thread}" for thread in world.archived if not rows[thread].archived_on_discord]
    missed += [f"new question {thread}" for thread in world.created if thread not in rows]
    return missed


async def run_once(kind: str, sizes: Sizes, seed: int = 1, validate: bool = False) -> RestartRun:
    clock = FakeClock()
    emu = Emulator(clock=clock.now, validate=validate)
    await emu.start()
    try:
        with tempfile.TemporaryDirectory(prefix="unstuck-restart-") as directory:
            workdir = Path(directory)
            async with fresh_database(kind, workdir, "restart") as url:
                began = time.perf_counter()
                world = await build_discord(emu, sizes, seed)
                db = Database(url)
                try:
                    await fill_database(db, world, sizes, clock.now(), emu, seed)
                finally:
                    await db.dispose()
                seed_s = time.perf_counter() - began
                await change_while_down(emu, world, sizes.changed, seed)
                (workdir / "clock").write_text(str(clock.now().timestamp()))
                args = ["--base-url", emu.base_url, "--gateway-url", emu.gateway_url, "--token", emu.token]
                args += ["--database", url, "--clock", str(workdir / "clock"), "--guild", str(world.guild)]
                child = Child(args, workdir / "bot.log")
                since = len(emu.requests)
                spawned = time.perf_counter()
                await child.start()
                try:
                    await child.wait_ready()
                    requests = emu.requests[since:]
                finally:
                    await child.stop()
                missed = await missed_changes(url, world)
                run = measured(kind, sizes, world, child, requests, seed_s, spawned, missed)
                run.problems = [str(problem) for problem in emu.problems]
                return run
    finally:
        await emu.stop()


def measured(
    kind: str,
    sizes: Sizes,
    world: Seeded,
    child: Child,
    requests: list[tuple[str, str, object]],
    seed_s: float,
    spawned: float,
    missed: list[str],
) -> RestartRun:
    unchanged = world.unchanged
    sweep = [(m, p) for m, p, _ in requests if m == "GET" and about(p) in unchanged]
    catch_up = [(m, p) for m, p, _ in requests if not (m == "GET" and about(p) in unchanged)]
    started = float(child.lines["started"][0])
    indexed_at, index_s = (float(v) for v in child.lines["indexed"])
    ready_at = float(child.lines["reconciled"][0])
    return RestartRun(
        database=kind,
        solved=sizes.solved,
        active=sizes.active,
        changed=sizes.changed,
        seed_s=round(seed_s, 1),
        started_s=round(started - spawned, 2),
        index_s=round(index_s, 2),
        catchup_s=round(ready_at - indexed_at, 2),
        ready_s=round(ready_at - spawned, 2),
        catchup_rest_calls=len(catch_up),
        reads=sum(m == "GET" for m, _ in catch_up),
        writes=sum(m != "GET" for m, _ in catch_up),
        sweep_calls=len(sweep),
        missed=missed,
        errors=child.errors(),
        problems=[],
        routes=dict(Counter(f"{m} {DIGITS.sub('{id}', p)}" for m, p in catch_up).most_common()),
    )


def print_table(runs: list[RestartRun]) -> None:
    first = runs[0]
    print(
        f"Restart with {first.solved:,} solved threads and {first.active:,} active threads, "
        f"{first.changed:,} changed while the bot was down"
    )
    print(
        f"{'database':<10}{'seed s':>8}{'start s':>9}{'index s':>9}{'catch-up s':>12}{'ready s':>9}"
        f"{'REST calls':>12}{'reads':>7}{'writes':>8}{'sweep':>7}{'missed':>8}{'errors':>8}"
    )
    for r in runs:
        print(
            f"{r.database:<10}{r.seed_s:>8}{r.started_s:>9}{r.index_s:>9}{r.catchup_s:>12}{r.ready_s:>9}"
            f"{r.catchup_rest_calls:>12}{r.reads:>7}{r.writes:>8}{r.sweep_calls:>7}{len(r.missed):>8}{r.errors:>8}"
        )
    print(f"targets: ready ≤ {TARGET_READY_S:g} s, REST calls ≤ {TARGET_CALLS}")
    for r in runs:
        top = ", ".join(f"{route} ×{n}" for route, n in list(r.routes.items())[:8])
        print(f"  [{r.database}] requests until ready: {top}")
        for line in r.missed[:10]:
            print(f"  [{r.database}] missed: {line}")


def flat_json(runs: list[RestartRun]) -> dict[str, object]:
    first = runs[0]
    data: dict[str, object] = {
        "solved_threads": first.solved,
        "active_threads": first.active,
        "changed_threads": first.changed,
        "catchup_rest_calls": max(r.catchup_rest_calls for r in runs),
    }
    for r in runs:
        data |= {
            f"ready_s_{r.database}": r.ready_s,
            f"index_s_{r.database}": r.index_s,
            f"catchup_s_{r.database}": r.catchup_s,
            f"catchup_rest_calls_{r.database}": r.catchup_rest_calls,
        }
    return data | {"runs": [asdict(r) for r in runs]}


async def run(sizes: Sizes, seed: int = 1, validate: bool = False) -> list[RestartRun]:
    kinds = ["sqlite"] + (["postgres"] if os.environ.get(POSTGRES_ENV) else [])
    return [await run_once(kind, sizes, seed, validate) for kind in kinds]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solved", type=int, default=1_000_000)
    parser.add_argument("--active", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    runs = asyncio.run(run(Sizes(args.solved, args.active, args.changed), args.seed))
    print_table(runs)
    if args.json:
        args.json.write_text(json.dumps(flat_json(runs), indent=2))
    return 0 if all(not (r.missed or r.errors or r.problems) for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
