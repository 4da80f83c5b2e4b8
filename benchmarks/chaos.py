"""Chaos: the crash run's community played while Discord and the database fail, and nothing is lost.

    python -m benchmarks.chaos [--events M] [--seed S] [--databases sqlite,postgres] [--json PATH]

The emulator runs in this process and the real bot as a separate OS process, as in the crash run,
with the same seeded script. It is played twice: once on a perfect day, once with faults instead of
kills: 5% of REST calls answered 5xx, 429 storms with ``retry_after``, gateway drops (half resumed
with the missed events replayed, half a gap that is never replayed), database outages of 2 s and
Discord calls that hang. Then the two end states are compared the same way the crash run does,
on SQLite and (with ``UNSTUCK_TEST_POSTGRES_URL``) on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._chaos_plan import FaultPlan, fault_plan
from benchmarks._chaos_run import ChaosPlayer, Outage, faults_seen
from benchmarks._crash_run import configure
from benchmarks._crash_script import make_script
from benchmarks.crash import Snapshot, _fresh_database, compare, snapshot, stage


@dataclass
class Report:
    database: str
    events: int
    seed: int
    faults: dict[str, int]
    divergences: list[str]
    duplicates: int
    lost: int
    late_interactions: int
    seconds: float
    problems: list[str] = field(default_factory=list)


async def play_once(
    script: list, plan: FaultPlan, database_url: str, outage: Outage, workdir: Path, label: str
) -> tuple[Snapshot, ChaosPlayer]:
    async with stage(database_url, workdir, label) as s:
        player = ChaosPlayer(
            s.emu, s.clock, s.clock_file, s.bot, s.world, {}, s.ledger_has, plan=plan, outage=outage
        )
        try:
            await s.bot.start()
            assert s.bot.proc is not None
            # The 3 s deadline discounts the bot process's waits for a CPU, not the emulator's.
            s.emu.interactions.watched_pid = s.bot.proc.pid
            await configure(player)
            await player.play(script)
            return await snapshot(player, s.db), player
        finally:
            await player.close()


async def run(events: int, seed: int, kind: str = "sqlite", *, scale: float = 1.0) -> Report:
    """One calm and one chaotic play of the same script on one kind of database."""
    script = make_script(events, seed)
    plan = fault_plan(
        script, seed, drops=round(20 * scale), outages=round(5 * scale), hangs=round(10 * scale),
        storms=round(5 * scale),
    )  # fmt: skip
    started = time.perf_counter()
    # UNSTUCK_CHAOS_KEEP=1 keeps the bot's logs of both plays for a look at a divergence.
    keep = bool(os.environ.get("UNSTUCK_CHAOS_KEEP"))
    kept = contextlib.nullcontext(tempfile.mkdtemp(prefix="unstuck-chaos-")) if keep else None
    with kept or tempfile.TemporaryDirectory(prefix="unstuck-chaos-") as directory:
        if keep:
            print(f"logs kept in {directory}", file=sys.stderr)
        workdir = Path(directory)
        results = []
        for label, faults in (("calm", FaultPlan()), ("chaos", plan)):
            url, drop = await _fresh_database(kind, workdir, label)
            outage = Outage(kind, os.environ.get("UNSTUCK_TEST_POSTGRES_URL", ""), url.rsplit("/", 1)[-1])
            try:
                results.append(await play_once(script, faults, url, outage, workdir, label))
            finally:
                if drop is not None:
                    await drop()
    (expected, calm), (actual, player) = results
    divergences, duplicates, lost = compare(expected, actual)
    return Report(
        database=kind,
        events=len(script),
        seed=seed,
        faults=faults_seen(player),
        divergences=divergences,
        duplicates=duplicates,
        lost=lost,
        late_interactions=player.late_interactions(),
        seconds=round(time.perf_counter() - started, 1),
        problems=[f"{p.kind}: {p.detail}" for p in [*calm.emu.problems, *player.emu.problems]],
    )


def totals(reports: list[Report], seed: int) -> dict[str, Any]:
    """The JSON the issue asks for: totals over the databases run, and each run."""
    faults: Counter[str] = Counter()
    for report in reports:
        faults.update(report.faults)
    return {
        "seed": seed,
        "databases": [r.database for r in reports],
        "faults": dict(faults),
        "divergences": [f"[{r.database}] {line}" for r in reports for line in r.divergences],
        "duplicates": sum(r.duplicates for r in reports),
        "lost": sum(r.lost for r in reports),
        "late_interactions": sum(r.late_interactions for r in reports),
        "runs": [asdict(r) for r in reports],
    }


def fault_columns(faults: dict[str, int]) -> tuple[int, int, int, int, int]:
    """5xx, 429, hangs, gateway drops and database outages, as the table shows them."""
    return (
        faults.get("rest_server_error", 0) + faults.get("rest_reset", 0),
        faults.get("rest_rate_limit", 0) + faults.get("rest_real_rate_limit", 0),
        faults.get("rest_hang", 0),
        faults.get("gateway_drop_replayed", 0) + faults.get("gateway_gap", 0),
        faults.get("database_outage", 0),
    )


def print_table(reports: list[Report]) -> None:
    print(
        f"{'database':<10}{'events':>8}{'5xx':>6}{'429':>6}{'hangs':>7}{'gw drops':>10}{'db outages':>12}"
        f"{'divergences':>13}{'duplicates':>12}{'lost':>6}{'late':>6}{'seconds':>9}"
    )
    for r in reports:
        errors, limits, hangs, drops, outages = fault_columns(r.faults)
        print(
            f"{r.database:<10}{r.events:>8}{errors:>6}{limits:>6}{hangs:>7}{drops:>10}{outages:>12}"
            f"{len(r.divergences):>13}{r.duplicates:>12}{r.lost:>6}{r.late_interactions:>6}{r.seconds:>9}"
        )
    for r in reports:
        for line in r.divergences[:30]:
            print(f"  [{r.database}] {line}")
        for line in r.problems[:10]:
            print(f"  [{r.database}] emulator problem {line}")


async def main_async(args: argparse.Namespace) -> list[Report]:
    return [await run(args.events, args.seed, kind) for kind in args.databases.split(",")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    every = "sqlite,postgres" if os.environ.get("UNSTUCK_TEST_POSTGRES_URL") else "sqlite"
    parser.add_argument("--databases", default=every, help=f"comma-separated (default: {every})")
    args = parser.parse_args(argv)
    reports = asyncio.run(main_async(args))
    print_table(reports)
    if args.json:
        args.json.write_text(json.dumps(totals(reports, args.seed), indent=2))
    clean = all(
        not r.divergences and not r.duplicates and not r.lost and not r.late_interactions for r in reports
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
