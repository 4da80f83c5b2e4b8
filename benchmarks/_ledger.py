"""A synthetic points ledger and fresh databases to hold it, for the leaderboard benchmark.

The ledger looks like a busy community's two years: solved threads pay 10 points to the answer's
author and, about half the time, 2 assist points to another replier; staff now and then grant or
take back points; a few percent of lines were revoked (a solution moved or removed). Activity is
skewed the way real servers are: a few big servers and a few very active helpers do most of it.
Rows are appended in time order, as the bot writes them. The same seed gives the same ledger.

The fill skips the ORM on purpose: one million rows go in with ``executemany`` in one transaction
(SQLite) or ``COPY`` (PostgreSQL), then ``PointsRepo.rebuild_totals`` derives the maintained totals.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from bot.domain.snowflakes import snowflake_at
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import MemberPoints, PointEntry
from storage.points_repo import PointsRepo

LEDGER_END = datetime(2026, 1, 5, tzinfo=UTC)
COLUMNS = (
    "guild_id",
    "member_id",
    "amount",
    "kind",
    "rule",
    "reason",
    "thread_id",
    "message_id",
    "awarded_by_id",
    "created_at",
    "revoked_at",
    "revoked_by_id",
    "revoke_reason",
)
CREATED_AT = COLUMNS.index("created_at")
REVOKED_AT = COLUMNS.index("revoked_at")

ASSIST_SHARE = 0.5  # solved threads that also pay an assist
GRANT_SHARE = 0.02  # per solved thread: a staff grant somewhere in the server
STAFF_REVOKE_SHARE = 0.005  # per solved thread: a staff revoke
REVOKED_SHARE = 0.03  # award lines later revoked (solution moved or removed)
THREAD = object()  # placeholder: "this line belongs to the thread", until the thread has an id
FIRST_MEMBER = 300_000_000_000_000_000  # snowflake-sized ids, like Discord's
FIRST_GUILD = 800_000_000_000_000_000


@dataclass(frozen=True)
class LedgerShape:
    """How big the synthetic community is."""

    rows: int
    members: int = 5_000
    guilds: int = 20
    days: int = 730
    end: datetime = LEDGER_END
    seed: int = 20260105

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)

    def guild_ids(self) -> list[int]:
        """Server ids, busiest first."""
        return [FIRST_GUILD + i for i in range(self.guilds)]

    def member_ids(self) -> list[int]:
        """Member ids, most active first."""
        return [FIRST_MEMBER + i for i in range(self.members)]


Row = tuple[Any, ...]


def _zipf_cumulative(n: int, exponent: float) -> list[float]:
    """Cumulative weights for ``random.choices``: item i is picked ∝ 1 / (i + 1) ** exponent."""
    return list(accumulate(1.0 / (i + 1) ** exponent for i in range(n)))


def generate(shape: LedgerShape) -> list[Row]:
    """Exactly ``shape.rows`` ledger rows in ``COLUMNS`` order, oldest first, over ``shape.days``."""
    rng = random.Random(shape.seed)
    guilds, members = shape.guild_ids(), shape.member_ids()
    guild_weights = _zipf_cumulative(len(guilds), 0.8)
    member_weights = _zipf_cumulative(len(members), 0.9)
    rows: list[Row] = []
    while len(rows) < shape.rows:
        # One solved thread: its awards, plus the occasional staff grant or revoke nearby.
        guild = rng.choices(guilds, cum_weights=guild_weights)[0]
        solver, asker, helper = rng.choices(members, cum_weights=member_weights, k=3)
        if asker == solver:  # no self-credit: someone else asked
            asker = members[(solver - FIRST_MEMBER + 1) % len(members)]
        rows.append(_award(rng, guild, solver, 10, "solution", "accepted solution", asker))
        if rng.random() < ASSIST_SHARE and helper not in (solver, asker):
            rows.append(_award(rng, guild, helper, 2, "assist", "assist", asker))
        if rng.random() < GRANT_SHARE:
            rows.append(_staff(guild, helper, rng.choice((5, 10, 20, 50)), "grant", asker))
        if rng.random() < STAFF_REVOKE_SHARE:
            rows.append(_staff(guild, solver, -rng.choice((5, 10, 20)), "revoke", asker))
    del rows[shape.rows :]
    return _dated(rng, shape, rows)


def _dated(rng: random.Random, shape: LedgerShape, rows: list[Row]) -> list[Row]:
    """Give the rows of each thread one moment, spread uniformly over the period, oldest first.

    Rows of one thread are adjacent and share the asker in ``awarded_by_id``; a new moment (and
    thread id) starts at each solution line.
    """
    starts = [i for i, row in enumerate(rows) if row[COLUMNS.index("kind")] == "solution"]
    span_s = shape.days * 86_400
    moments = sorted(rng.random() * span_s for _ in starts)
    dated: list[Row] = []
    for n, (first, moment) in enumerate(zip(starts, moments, strict=True)):
        at = shape.start + timedelta(seconds=moment)
        thread = snowflake_at(at) + n % (1 << 22)  # unique, and as old as its awards
        last = starts[n + 1] if n + 1 < len(starts) else len(rows)
        for row in rows[first:last]:
            dated.append(_place(row, at, thread))
    return dated


def _award(rng: random.Random, guild: int, member: int, amount: int, kind: str, rule: str, asker: int) -> Row:
    """An award without its moment and thread yet (``_place`` adds them); sometimes revoked."""
    revoked = rng.randint(1, 600) if rng.random() < REVOKED_SHARE else None  # minutes later
    return (guild, member, amount, kind, rule, "", THREAD, None, asker, None, revoked, None, None)


def _staff(guild: int, member: int, amount: int, kind: str, staff: int) -> Row:
    reason = "helped in the voice channel" if amount > 0 else "spam answers"
    return (guild, member, amount, kind, f"staff {kind}", reason, None, None, staff, None, None, None, None)


def _place(row: Row, at: datetime, thread: int) -> Row:
    guild, member, amount, kind, rule, reason, in_thread, _, by, _, revoked_after, _, _ = row
    thread_id = thread if in_thread is THREAD else None
    message_id = thread + 1 if kind == "solution" else None
    if revoked_after is None:
        return (guild, member, amount, kind, rule, reason, thread_id, message_id, by, at, None, None, None)
    revoked_at = at + timedelta(minutes=revoked_after)
    return (
        guild,
        member,
        amount,
        kind,
        rule,
        reason,
        thread_id,
        message_id,
        by,
        at,
        revoked_at,
        by,
        "unmarked",
    )


# ---- fresh databases ---------------------------------------------------------------------------


@asynccontextmanager
async def fresh_sqlite() -> AsyncIterator[Database]:
    """A migrated SQLite file in a temporary folder, deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="unstuck-bench-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)
        db = Database(url)
        try:
            yield db
        finally:
            await db.dispose()


@asynccontextmanager
async def fresh_postgres(url: str) -> AsyncIterator[Database]:
    """A migrated private schema (found through ``search_path``), dropped afterwards."""
    schema = f"unstuck_bench_{uuid.uuid4().hex[:10]}"
    admin = Database(url)
    try:
        async with admin.engine.begin() as conn:
            await conn.execute(text(f"CREATE SCHEMA {schema}"))
        connect_args: dict[str, Any] = {"server_settings": {"search_path": schema}}
        db = Database(url, connect_args=connect_args)
        try:
            await asyncio.to_thread(upgrade, url, connect_args)
            yield db
        finally:
            await db.dispose()
            async with admin.engine.begin() as conn:
                await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        await admin.dispose()


# ---- filling -----------------------------------------------------------------------------------


async def fill(db: Database, rows: list[Row]) -> None:
    """Bulk-load the ledger, derive the maintained totals, refresh planner statistics."""
    if db.engine.dialect.name == "postgresql":
        await _copy_postgres(db, rows)
    else:
        await _insert_sqlite(db, rows)
    async with db.session() as session:
        await PointsRepo(session).rebuild_totals()
    await _analyze(db)
    await _check(db, rows)


async def _insert_sqlite(db: Database, rows: list[Row]) -> None:
    # The driver gets values as stored: let the column type format the timestamps, as the ORM would.
    stamp = PointEntry.__table__.c.created_at.type.bind_processor(db.engine.dialect)
    assert stamp is not None
    stored = [
        (*r[:CREATED_AT], stamp(r[CREATED_AT]), stamp(r[REVOKED_AT]), *r[REVOKED_AT + 1 :]) for r in rows
    ]
    columns = ", ".join(COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)
    async with db.session() as session:
        conn = await session.connection()
        await conn.exec_driver_sql(f"INSERT INTO points_ledger ({columns}) VALUES ({marks})", stored)


async def _copy_postgres(db: Database, rows: list[Row]) -> None:
    async with db.session() as session:
        conn = await session.connection()
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.copy_records_to_table("points_ledger", records=rows, columns=COLUMNS)


async def _analyze(db: Database) -> None:
    if db.engine.dialect.name == "postgresql":
        # VACUUM also sets the visibility map, as autovacuum would after a bulk load.
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE points_ledger"))
            await conn.execute(text("VACUUM ANALYZE member_points"))
    else:
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))


async def _check(db: Database, rows: list[Row]) -> None:
    """The database holds what was generated, and the totals agree with the ledger."""
    live = sum(r[2] for r in rows if r[REVOKED_AT] is None)
    async with db.session() as session:
        count = await session.scalar(select(func.count()).select_from(PointEntry))
        total = await session.scalar(select(func.sum(MemberPoints.total)))
    if count != len(rows) or int(total or 0) != live:
        raise RuntimeError(f"fill mismatch: {count} rows (want {len(rows)}), totals {total} (want {live})")
