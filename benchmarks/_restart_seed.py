"""The world of the restart benchmark: a server's Discord side in the emulator, its history in the
database, and what changes while the bot is down.

- **Solved history** (``solved`` threads, the database only): archived forum posts with an accepted
  answer, spread over two years, as the bot leaves them (known archived, so no catch-up looks at
  them; the similar-thread index loads them all). Bulk-loaded: one ``executemany`` of plain tuples
  on SQLite, ``COPY`` on PostgreSQL.
- **Active threads** (``active``, both sides): forum posts made through the emulator, 70% with a
  helper's reply; the database has them tracked and seen up to their newest message, and the
  unanswered ones escalated, as a bot that was running would.
- **Changes while down** (``changed``): 60% replies in active threads, 20% active threads archived
  by a moderator, 20% new questions (forum posts, and one in the help text channel).

Titles, questions and answers are drawn from a fixed vocabulary with a Zipf-like frequency, so the
index build does realistic work without the shared data sets.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from bot.domain.snowflakes import snowflake_at
from emulator import Emulator
from storage.engine import Database
from storage.models import EscalationDelivery, Guild, HelpChannel, HelpThread, Solution

REPLIED_SHARE = 0.7  # active threads that already have a helper's answer
CHUNK = 20_000

VOCABULARY = (
    "python pandas numpy django flask asyncio await import error traceback module package pip install "
    "venv poetry path file read write open json csv parse string list dict tuple set class function "
    "method argument keyword return value none type int float decimal date time timezone utc format "
    "loop thread process queue lock timeout socket http request response header cookie session token "
    "auth login user password hash database sql query index table column join migration sqlite postgres "
    "orm model field schema docker image container build deploy server nginx port proxy ssl certificate "
    "git commit branch merge rebase conflict test pytest fixture mock assert coverage lint ruff mypy "
    "typing generic protocol dataclass pydantic validation config env variable secret log logger level "
    "debug print output input encoding unicode utf bytes regex match group split join strip replace "
    "sort key lambda map filter reduce iterator generator yield async task event callback signal "
    "memory leak slow fast performance profile cache redis celery worker job schedule cron discord bot "
    "command slash intent gateway shard permission role channel message reaction embed button"
)
WORDS = VOCABULARY.split()


@dataclass(frozen=True)
class Sizes:
    solved: int
    active: int
    changed: int


@dataclass
class Seeded:
    """What the benchmark knows about the world it built."""

    guild: int
    forum: int
    text: int
    owner: int
    helpers: list[int]
    askers: list[int]
    active: list[int] = field(default_factory=list)  # active thread ids
    last_message: dict[int, int] = field(default_factory=dict)  # active thread -> newest message
    replied: dict[int, int] = field(default_factory=dict)  # thread -> the reply posted while down
    archived: list[int] = field(default_factory=list)  # active threads archived while down
    created: list[int] = field(default_factory=list)  # threads (and text questions) new while down

    @property
    def unchanged(self) -> set[int]:
        return set(self.active) - set(self.replied) - set(self.archived)


class Words:
    """Seeded text with a Zipf-like word frequency."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.weights = [1 / (rank + 1) for rank in range(len(WORDS))]

    def text(self, low: int, high: int) -> str:
        return " ".join(self.rng.choices(WORDS, weights=self.weights, k=self.rng.randint(low, high)))


async def build_discord(emu: Emulator, sizes: Sizes, seed: int) -> Seeded:
    """The server, its help channels and active threads in the emulator (nobody is connected)."""
    rng = random.Random(seed)
    words = Words(seed)
    owner = emu.create_user("owner")
    guild = emu.create_guild("Big Community", owner_id=owner)
    helpers = [emu.create_user(f"helper{i}") for i in range(20)]
    askers = [emu.create_user(f"asker{i}") for i in range(200)]
    for person in (*helpers, *askers):
        emu.add_member(guild, person)
    forum = emu.create_forum_channel(guild, "help", tags=["Solved", "Unanswered"])
    text_channel = emu.create_text_channel(guild, "questions")
    world = Seeded(guild, forum, text_channel, owner, helpers, askers)
    await emu.user_says(rng.choice(askers), text_channel, "An older question, handled long ago")
    for _ in range(sizes.active):
        post = await emu.user_posts_in_forum(rng.choice(askers), forum, words.text(4, 9), words.text(10, 40))
        thread = int(post["id"])
        world.active.append(thread)
        world.last_message[thread] = thread
        if rng.random() < REPLIED_SHARE:
            reply = await emu.user_says(rng.choice(helpers), thread, words.text(8, 30))
            world.last_message[thread] = int(reply["id"])
    return world


async def change_while_down(emu: Emulator, world: Seeded, changed: int, seed: int) -> None:
    """What members and moderators do while the bot is down."""
    rng = random.Random(seed + 1)
    words = Words(seed + 1)
    replies = round(changed * 0.6)
    archives = round(changed * 0.2)
    picked = rng.sample(world.active, min(len(world.active), replies + archives))
    for thread in picked[:replies]:
        reply = await emu.user_says(rng.choice(world.helpers), thread, words.text(8, 30))
        world.replied[thread] = int(reply["id"])
    for thread in picked[replies:]:
        await emu.archive_thread(thread)
        world.archived.append(thread)
    for n in range(changed - len(picked)):
        if n == 0 and changed - len(picked) > 1:
            message = await emu.user_says(rng.choice(world.askers), world.text, words.text(10, 30))
            world.created.append(int(message["id"]))
            continue
        post = await emu.user_posts_in_forum(
            rng.choice(world.askers), world.forum, words.text(4, 9), words.text(10, 40)
        )
        world.created.append(int(post["id"]))


# ---- the database ------------------------------------------------------------------------------

THREAD_COLUMNS = (
    "id", "guild_id", "channel_id", "kind", "asker_id", "title", "question", "state", "created_at",
    "last_activity_at", "answered_at", "first_responder_id", "solved_at", "last_seen_message_id",
    "starter_deleted", "deleted", "origin", "archived_on_discord", "dormant_due_at",
)  # fmt: skip
ESCALATION_COLUMNS = ("thread_id", "tier", "guild_id", "due_at", "status", "updated_at")
SOLUTION_COLUMNS = (
    "thread_id", "guild_id", "message_id", "author_id", "marked_by_id", "via", "emoji", "answer", "marked_at",
)  # fmt: skip


async def fill_database(
    db: Database, world: Seeded, sizes: Sizes, now: datetime, emu: Emulator, seed: int
) -> None:
    """The server's settings, its help channels, its solved history and its active threads."""
    added = now - timedelta(days=800)
    text_seen = emu.world.channels[world.text].last_message_id
    async with db.session() as session:
        session.add(Guild(id=world.guild, settings={}, created_at=now))
        await session.flush()
        session.add(HelpChannel(channel_id=world.forum, guild_id=world.guild, kind="forum", added_at=added))
        session.add(
            HelpChannel(
                channel_id=world.text,
                guild_id=world.guild,
                kind="text",
                last_seen_message_id=text_seen,
                added_at=added,
            )
        )
    threads, solutions = solved_rows(world, sizes.solved, now, seed)
    threads += active_rows(world, now)
    await bulk_insert(db, HelpThread.__tablename__, THREAD_COLUMNS, threads)
    await bulk_insert(db, Solution.__tablename__, SOLUTION_COLUMNS, solutions)
    # Unanswered threads were escalated while the bot ran (else start-up schedules them afresh).
    open_threads = [t for t in world.active if world.last_message[t] == t]
    escalated = [(t, 0, world.guild, now, "sent", now) for t in open_threads]
    await bulk_insert(db, EscalationDelivery.__tablename__, ESCALATION_COLUMNS, escalated)
    await analyze(db)


def solved_rows(
    world: Seeded, solved: int, now: datetime, seed: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(seed + 2)
    words = Words(seed + 2)
    start = now - timedelta(days=730)
    step = timedelta(days=729) / max(solved, 1)
    threads: list[tuple[Any, ...]] = []
    solutions: list[tuple[Any, ...]] = []
    for i in range(solved):
        created = start + step * i
        thread_id = snowflake_at(created) + (i & 0xFFF)
        answered = created + timedelta(minutes=rng.randint(5, 600))
        solved_at = answered + timedelta(minutes=rng.randint(1, 600))
        helper, asker = rng.choice(world.helpers), rng.choice(world.askers)
        answer_id = snowflake_at(answered) + 1
        threads.append((
            thread_id, world.guild, world.forum, "forum", asker, words.text(4, 9)[:100],
            words.text(10, 40), "solved", created, solved_at, answered, helper, solved_at, answer_id,
            False, False, "live", True, None,
        ))  # fmt: skip
        solutions.append(
            (thread_id, world.guild, answer_id, helper, asker, "reaction", "✅", words.text(8, 30), solved_at)
        )
    return threads, solutions


def active_rows(world: Seeded, now: datetime) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for thread_id in world.active:
        last = world.last_message[thread_id]
        replied = last != thread_id
        rows.append((
            thread_id, world.guild, world.forum, "forum", world.askers[0], "Active question", "details",
            "answered" if replied else "open", now, now, now if replied else None,
            world.helpers[0] if replied else None, None, last, False, False, "live", False,
            now + timedelta(hours=72),
        ))  # fmt: skip
    return rows


async def bulk_insert(db: Database, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Load rows in large batches: ``COPY`` on PostgreSQL, one ``executemany`` per chunk on SQLite."""
    if not rows:
        return
    if db.engine.dialect.name == "postgresql":
        async with db.session() as session:
            conn = await session.connection()
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            await raw.copy_records_to_table(table, records=rows, columns=list(columns))
        return
    # The driver gets values as stored: the column type formats the timestamps, as the ORM would.
    stamp = HelpThread.__table__.c.created_at.type.bind_processor(db.engine.dialect)
    assert stamp is not None
    for start in range(0, len(rows), CHUNK):
        chunk = [
            tuple(stamp(v) if isinstance(v, datetime) else v for v in row)
            for row in rows[start : start + CHUNK]
        ]
        async with db.session() as session:
            conn = await session.connection()
            marks = ", ".join("?" for _ in columns)
            await conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", chunk)


async def analyze(db: Database) -> None:
    if db.engine.dialect.name == "postgresql":
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE help_threads"))
            await conn.execute(text("VACUUM ANALYZE solutions"))
    else:
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
