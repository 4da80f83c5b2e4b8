"""Speed of `/leaderboard` and `/points` on a large points ledger, on SQLite and PostgreSQL.

    python -m benchmarks.leaderboard [--rows N] [--samples N] [--json PATH]

Fills a fresh database with N ledger rows (default 1,000,000; 5,000 members, 20 servers, two
years; see ``benchmarks._ledger``), then times the service calls the commands make, each in its own
transaction as the commands run them:

- week top 10: ``PointsService.leaderboard(window=week)`` for a random server and week (count,
  page, rank of the first row), and the same for the busiest server alone (the worst case);
- all-time top 10: ``PointsService.leaderboard(window=all)`` for a random server;
- member points: ``PointsService.standing`` (`/points`: totals, this week, both ranks, solutions)
  for the member of a random ledger line, in the week of that line.

PostgreSQL is measured too when ``UNSTUCK_TEST_POSTGRES_URL`` is set (in a private schema that is
dropped at the end). Target: every p95 at most 20 ms at 1M rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import _ledger as ledger
from bot.clock import FakeClock
from bot.config import GuildSettings
from bot.domain.windows import Window
from bot.services.points import PointsService
from bot.services.server_config import ServerConfigService
from storage.engine import Database

POSTGRES_ENV = "UNSTUCK_TEST_POSTGRES_URL"
TARGET_P95_MS = 20.0
WARMUP = 20
QUERIES = {
    "week_top10": "week top 10 (/leaderboard week)",
    "busiest_week_top10": "  the same, busiest server only",
    "all_top10": "all-time top 10 (/leaderboard all)",
    "member_points": "one member (/points)",
}


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p95_ms: float


def percentiles(samples_s: list[float]) -> Timing:
    """p50 and p95 (inclusive method: a p95 of a few samples never extrapolates past the slowest)."""
    cuts = statistics.quantiles(samples_s, n=20, method="inclusive")
    return Timing(p50_ms=statistics.median(samples_s) * 1000, p95_ms=cuts[18] * 1000)


class Workload:
    """Random but repeatable calls of the three commands against the filled ledger."""

    def __init__(self, db: Database, shape: ledger.LedgerShape, rows: list[ledger.Row], seed: int) -> None:
        self.clock = FakeClock(shape.end)
        self.points = PointsService(db, self.clock, ServerConfigService(db, self.clock, GuildSettings()))
        self.shape = shape
        self.rows = rows
        self.rng = random.Random(seed)

    def _some_moment(self) -> datetime:
        return self.shape.start + timedelta(seconds=self.rng.random() * self.shape.days * 86_400)

    async def week_top10(self) -> None:
        self.clock.set(self._some_moment())
        await self.points.leaderboard(self.rng.choice(self.shape.guild_ids()), Window.WEEK)

    async def busiest_week_top10(self) -> None:
        # The worst case: the server with the most lines (a fifth of the ledger by default).
        self.clock.set(self._some_moment())
        await self.points.leaderboard(self.shape.guild_ids()[0], Window.WEEK)

    async def all_top10(self) -> None:
        await self.points.leaderboard(self.rng.choice(self.shape.guild_ids()), Window.ALL)

    async def member_points(self) -> None:
        # A member who earned points asks in the week they did: every part of /points has data.
        row = self.rows[self.rng.randrange(len(self.rows))]
        self.clock.set(row[ledger.CREATED_AT])
        await self.points.standing(row[0], row[1])


async def time_calls(call: Callable[[], Awaitable[None]], samples: int) -> Timing:
    for _ in range(WARMUP):
        await call()
    took: list[float] = []
    for _ in range(samples):
        began = time.perf_counter()
        await call()
        took.append(time.perf_counter() - began)
    return percentiles(took)


async def measure(
    name: str,
    database: AbstractAsyncContextManager[Database],
    shape: ledger.LedgerShape,
    rows: list[ledger.Row],
    samples: int,
) -> dict[str, Any]:
    """Fill one fresh database and time the three queries; JSON keys prefixed with ``name``."""
    async with database as db:
        began = time.perf_counter()
        await ledger.fill(db, rows)
        results: dict[str, Any] = {f"{name}_fill_s": round(time.perf_counter() - began, 1)}
        workload = Workload(db, shape, rows, seed=shape.seed)
        for key in QUERIES:
            timing = await time_calls(getattr(workload, key), samples)
            results[f"{name}_{key}_p50_ms"] = round(timing.p50_ms, 3)
            results[f"{name}_{key}_p95_ms"] = round(timing.p95_ms, 3)
        print(f"  {name}: filled in {results[f'{name}_fill_s']} s, measured", file=sys.stderr)
    return results


def table(results: dict[str, Any], databases: list[str]) -> str:
    lines = [
        f"Leaderboard queries: {results['rows']:,} ledger rows, {results['members']:,} members, "
        f"{results['guilds']} servers, {results['days']} days; {results['samples']} samples each",
        "",
        f"{'database':<11}{'query':<38}{'p50 ms':>9}{'p95 ms':>9}  target p95 ≤ {TARGET_P95_MS:g} ms",
    ]
    for name in databases:
        for key, label in QUERIES.items():
            p50, p95 = results[f"{name}_{key}_p50_ms"], results[f"{name}_{key}_p95_ms"]
            verdict = "ok" if p95 <= TARGET_P95_MS else "MISSED"
            lines.append(f"{name:<11}{label:<38}{p50:>9.2f}{p95:>9.2f}  {verdict}")
    fills = ", ".join(f"{name} {results[f'{name}_fill_s']} s" for name in databases)
    lines += ["", f"fill (bulk load, totals, ANALYZE): {fills}"]
    return "\n".join(lines)


async def run(rows_wanted: int, samples: int, postgres_url: str | None) -> tuple[dict[str, Any], list[str]]:
    shape = ledger.LedgerShape(rows=rows_wanted)
    print(f"generating {rows_wanted:,} ledger rows…", file=sys.stderr)
    rows = ledger.generate(shape)
    results: dict[str, Any] = {
        "rows": shape.rows,
        "members": shape.members,
        "guilds": shape.guilds,
        "days": shape.days,
        "samples": samples,
        "target_p95_ms": TARGET_P95_MS,
    }
    databases = ["sqlite"]
    results |= await measure("sqlite", ledger.fresh_sqlite(), shape, rows, samples)
    if postgres_url:
        databases.append("postgres")
        results |= await measure("postgres", ledger.fresh_postgres(postgres_url), shape, rows, samples)
    return results, databases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.leaderboard", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="ledger rows to fill (default 1,000,000)")
    parser.add_argument("--samples", type=int, default=200, help="timed calls per query (default 200)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.samples < 2:
        parser.error("--rows must be at least 1 and --samples at least 2")
    results, databases = asyncio.run(run(args.rows, args.samples, os.environ.get(POSTGRES_ENV)))
    print(table(results, databases))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
