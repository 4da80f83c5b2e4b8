"""Speed of the escalation sweep on a large queue, on SQLite (and PostgreSQL when configured).

    python -m benchmarks.escalation [--threads N] [--samples N] [--json PATH]

Fills a fresh database with N open help threads (default 100,000) across 20 servers, aged evenly
over two weeks, in the steady state the sweep leaves behind: tiers that fell due earlier are
``sent``, later ones ``pending``. Of them, 1,000 (or N/2 for small N) have their first tier due right
now. Then it times:

- select: one sweep's read of the due deliveries (``EscalationRepo.due``, the partial index);
- build: turning those rows into digests (threads' titles and channels, split into messages,
  rendered as Discord embeds with Claim buttons);
- full sweep: ``EscalationService.sweep`` end to end for the due threads, with a fake Discord port
  (no network): claims, digest rows, rendering, sending, delivery bookkeeping. The database is
  reset between runs.

PostgreSQL is measured too when ``UNSTUCK_TEST_POSTGRES_URL`` is set (private schema, dropped at the
end); the top-level keys are SQLite's, PostgreSQL's are prefixed ``postgres_``.
Target: ``sweep_select_p95_ms`` at most 50 ms at 100,000 threads.
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
from collections.abc import Awaitable, Callable, Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, text, update

from benchmarks._ledger import fresh_postgres, fresh_sqlite
from bot.clock import FakeClock
from bot.config import GuildSettings, HelpSettings
from bot.domain.channel_access import GuildAccess
from bot.domain.escalation import TierTarget, split_messages
from bot.domain.lifecycle import ThreadState
from bot.domain.sharding import ShardScope
from bot.services.escalation import EscalationService
from bot.services.escalation_digests import DigestEntry, DigestPart, DigestView
from bot.services.server_config import ServerConfigService
from cogs.escalation import digest_buttons, digest_content, digest_embed
from storage.engine import Database
from storage.escalation_repo import DueDelivery, EscalationRepo
from storage.models import EscalationDelivery, EscalationDigest, Guild, GuildRole, HelpThread
from storage.repositories import owned_by_shards

POSTGRES_ENV = "UNSTUCK_TEST_POSTGRES_URL"
TARGET_SELECT_P95_MS = 50.0
GUILDS = 20
DUE_THREADS = 1_000
FULL_RUNS = 5
WARMUP = 5
NOW = datetime(2026, 1, 19, 12, 0, tzinfo=UTC)
FIRST_GUILD = 800_000_000_000_000_000
FIRST_THREAD = 900_000_000_000_000_000
TIERS = (timedelta(hours=4), timedelta(hours=24))
BATCH = 10_000


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p95_ms: float


def percentiles(samples_s: list[float]) -> Timing:
    """p50 and p95 (inclusive method: a p95 of a few samples never extrapolates past the slowest)."""
    if len(samples_s) == 1:
        return Timing(samples_s[0] * 1000, samples_s[0] * 1000)
    cuts = statistics.quantiles(samples_s, n=20, method="inclusive")
    return Timing(p50_ms=statistics.median(samples_s) * 1000, p95_ms=cuts[18] * 1000)


# ---- the synthetic queue ---------------------------------------------------------------------------


def guild_ids() -> list[int]:
    return [FIRST_GUILD + (i << 22) for i in range(GUILDS)]


def generate(
    threads: int, due: int, seed: int = 20260119
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Thread rows and delivery rows: ``due`` threads whose first tier just fell due, the rest aged
    evenly over two weeks with past tiers sent and future ones pending."""
    rng = random.Random(seed)
    guilds = guild_ids()
    thread_rows: list[dict[str, Any]] = []
    delivery_rows: list[dict[str, Any]] = []
    for n in range(threads):
        if n < due:
            age = TIERS[0] + timedelta(seconds=rng.uniform(1, 110))  # due since the last sweep
        else:
            age = timedelta(seconds=rng.uniform(0, 14 * 86_400))
            if TIERS[0] <= age < TIERS[0] + timedelta(minutes=2):
                age += timedelta(minutes=2)  # only the chosen ones are due now
        asked = NOW - age
        thread_id, guild_id = FIRST_THREAD + n, guilds[rng.randrange(GUILDS)]
        thread_rows.append(
            {
                "id": thread_id,
                "guild_id": guild_id,
                "channel_id": guild_id + 1,
                "kind": "forum",
                "asker_id": 300_000_000_000_000_000 + rng.randrange(50_000),
                "title": f"Question {n}: why does my build fail with error {rng.randrange(10_000)}?",
                "question": "",
                "state": ThreadState.OPEN,
                "created_at": asked,
                "last_activity_at": asked,
                "starter_deleted": False,
                "deleted": False,
                "origin": "live",
            }
        )
        for tier, after in enumerate(TIERS):
            due_at = asked + after
            delivery_rows.append(
                {
                    "thread_id": thread_id,
                    "tier": tier,
                    "guild_id": guild_id,
                    "due_at": due_at,
                    "status": "pending" if due_at > NOW or n < due else "sent",
                    "updated_at": NOW,
                }
            )
    return thread_rows, delivery_rows


async def fill(db: Database, threads: list[dict[str, Any]], deliveries: list[dict[str, Any]]) -> None:
    async with db.session() as session:
        for guild_id in guild_ids():
            await session.execute(
                insert(Guild).values(
                    id=guild_id,
                    settings={},
                    escalation_channel_id=guild_id + 2,
                    created_at=NOW - timedelta(days=30),
                )
            )
            await session.execute(
                insert(GuildRole).values(guild_id=guild_id, role_id=guild_id + 3, kind="helper")
            )
            await session.execute(
                insert(GuildRole).values(guild_id=guild_id, role_id=guild_id + 4, kind="staff")
            )
    for table, rows in ((HelpThread, threads), (EscalationDelivery, deliveries)):
        for start in range(0, len(rows), BATCH):
            async with db.session() as session:
                await session.execute(insert(table), rows[start : start + BATCH])
    async with db.engine.begin() as conn:
        await conn.execute(text("ANALYZE"))


async def reset(db: Database, due: int) -> None:
    """Put the due threads back in the queue, as before the sweep."""
    async with db.session() as session:
        await session.execute(delete(EscalationDigest))
        await session.execute(
            update(EscalationDelivery)
            .where(EscalationDelivery.thread_id < FIRST_THREAD + due, EscalationDelivery.tier == 0)
            .values(status="pending", digest_id=None, position=None, message_id=None)
        )


# ---- what is timed ---------------------------------------------------------------------------------


class FakeDiscord:
    """The escalation port without a network: renders every message as the real port does."""

    def __init__(self) -> None:
        self.messages = 0

    async def target_problem(self, guild_id: int, target: TierTarget) -> str | None:
        return None

    async def send_digest_part(self, view: DigestView, part: DigestPart) -> int | None:
        render(view, part)
        self.messages += 1
        return 1_000_000 + self.messages

    def guild_access(self, guild_id: int, channel_ids: Collection[int]) -> GuildAccess | None:
        return None  # not asked by a sweep: only `/escalations` and claims are


def render(view: DigestView, part: DigestPart) -> None:
    digest_content(view, part)
    digest_embed(view, part, {}).to_dict()
    digest_buttons(view, part).to_components()


async def select_due(db: Database) -> list[DueDelivery]:
    async with db.session() as session:
        return await EscalationRepo(session).due(
            owned_by_shards(EscalationDelivery.guild_id, None, None), NOW, 5000
        )


async def build_digests(db: Database, due: list[DueDelivery]) -> int:
    """Group due rows by server and tier, read what the digests show, split and render them."""
    groups: dict[tuple[int, int], list[int]] = {}
    for row in due:
        groups.setdefault((row.guild_id, row.tier), []).append(row.thread_id)
    async with db.session() as session:
        rows = await session.execute(
            HelpThread.__table__.select().where(HelpThread.id.in_([row.thread_id for row in due]))
        )
        threads = {r.id: r for r in rows}
    messages = 0
    for (guild_id, tier), ids in groups.items():
        entries = [
            DigestEntry(
                t,
                guild_id,
                threads[t].channel_id,
                threads[t].title,
                threads[t].created_at,
                NOW - threads[t].created_at,
                None,
                threads[t].state,
                threads[t].kind,
            )
            for t in ids
        ]
        chunks = split_messages(entries)
        view = DigestView(
            0, guild_id, tier, TIERS[tier], guild_id + 2, (guild_id + 3,), NOW, [], [], HelpSettings()
        )
        for index, chunk in enumerate(chunks):
            render(view, DigestPart(index, len(chunks), f"esc0p{index}", chunk))
            messages += 1
    return messages


async def time_calls(call: Callable[[], Awaitable[object]], samples: int) -> Timing:
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
    rows: tuple[list[Any], list[Any]],
    due: int,
    samples: int,
) -> dict[str, Any]:
    prefix = "" if name == "sqlite" else f"{name}_"
    async with database as db:
        began = time.perf_counter()
        await fill(db, *rows)
        results: dict[str, Any] = {f"{prefix}fill_s": round(time.perf_counter() - began, 1)}
        selected = await select_due(db)
        assert len(selected) == due, f"expected {due} due deliveries, found {len(selected)}"
        select = await time_calls(lambda: select_due(db), samples)
        build = await time_calls(lambda: build_digests(db, selected), max(samples // 5, 2))
        full: list[float] = []
        port = FakeDiscord()
        for _ in range(FULL_RUNS):
            await reset(db, due)
            clock = FakeClock(NOW)
            configs = ServerConfigService(db, clock, GuildSettings())
            service = EscalationService(db, clock, configs, ShardScope())
            began = time.perf_counter()
            digests = await service.sweep(port)
            full.append(time.perf_counter() - began)
            assert digests >= GUILDS or due < GUILDS, "every server should have had a digest"
        results |= {
            f"{prefix}sweep_select_p50_ms": round(select.p50_ms, 3),
            f"{prefix}sweep_select_p95_ms": round(select.p95_ms, 3),
            f"{prefix}digest_build_p50_ms": round(build.p50_ms, 3),
            f"{prefix}digest_build_p95_ms": round(build.p95_ms, 3),
            f"{prefix}sweep_full_1000_due_ms": round(statistics.median(full) * 1000, 1),
            f"{prefix}sweep_full_max_ms": round(max(full) * 1000, 1),
        }
        print(f"  {name}: filled in {results[f'{prefix}fill_s']} s, measured", file=sys.stderr)
    return results


def _row(name: str, step: str, p50: float, p95: float | None, note: str = "") -> str:
    shown_p95 = f"{p95:>10.2f}" if p95 is not None else " " * 10
    return f"{name:<11}{step:<44}{p50:>10.2f}{shown_p95}  {note}".rstrip()


def table(results: dict[str, Any], databases: list[str]) -> str:
    lines = [
        f"Escalation sweep: {results['threads']:,} open threads, {results['guilds']} servers, "
        f"{results['due']:,} due now; {results['samples']} samples",
        "",
        f"{'database':<11}{'step':<44}{'p50 ms':>10}{'p95 ms':>10}",
    ]
    for name in databases:
        p = "" if name == "sqlite" else f"{name}_"
        select_p95 = results[f"{p}sweep_select_p95_ms"]
        verdict = "ok" if select_p95 <= TARGET_SELECT_P95_MS else "MISSED"
        full = f"full sweep, {results['due']:,} due (median of {FULL_RUNS})"
        lines += [
            _row(
                name,
                "select due deliveries",
                results[f"{p}sweep_select_p50_ms"],
                select_p95,
                f"target p95 ≤ {TARGET_SELECT_P95_MS:g}: {verdict}",
            ),
            _row(
                name,
                "build digests (read, split, render)",
                results[f"{p}digest_build_p50_ms"],
                results[f"{p}digest_build_p95_ms"],
            ),
            _row(
                name,
                full,
                results[f"{p}sweep_full_1000_due_ms"],
                None,
                f"max {results[f'{p}sweep_full_max_ms']}",
            ),
        ]
    fills = ", ".join(f"{n} {results['fill_s' if n == 'sqlite' else f'{n}_fill_s']} s" for n in databases)
    lines += ["", f"fill (bulk load + ANALYZE): {fills}"]
    return "\n".join(lines)


async def run(threads: int, samples: int, postgres_url: str | None) -> tuple[dict[str, Any], list[str]]:
    due = min(DUE_THREADS, threads // 2)
    print(f"generating {threads:,} threads…", file=sys.stderr)
    rows = generate(threads, due)
    results: dict[str, Any] = {
        "threads": threads,
        "guilds": GUILDS,
        "due": due,
        "samples": samples,
        "target_select_p95_ms": TARGET_SELECT_P95_MS,
    }
    databases = ["sqlite"]
    results |= await measure("sqlite", fresh_sqlite(), rows, due, samples)
    if postgres_url:
        databases.append("postgres")
        results |= await measure("postgres", fresh_postgres(postgres_url), rows, due, samples)
    return results, databases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.escalation", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--threads", type=int, default=100_000, help="open threads to fill (default 100,000)")
    parser.add_argument("--samples", type=int, default=100, help="timed selections (default 100)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if args.threads < 2 or args.samples < 2:
        parser.error("--threads and --samples must be at least 2")
    results, databases = asyncio.run(run(args.threads, args.samples, os.environ.get(POSTGRES_ENV)))
    print(table(results, databases))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
