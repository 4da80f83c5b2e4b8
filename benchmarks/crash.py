"""Crash consistency: kill the bot with SIGKILL at random moments and prove nothing is lost.

    python -m benchmarks.crash [--kills N] [--events M] [--seed S] [--json PATH]

The emulator runs in this process and the real bot as a separate OS process. A deterministic
community of M events is played twice: once without kills, once with the bot killed at N seeded
moments (often in the middle of a database transaction or a Discord call) and restarted like a
supervisor would. Discord does not replay what the bot missed, so the bot must catch up from the
REST API. Then the two runs are compared: points per member, thread states and solutions, weekly
posts and the bot's messages in every channel.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from benchmarks._crash_run import BotProcess, Player, World, build_world, configure
from benchmarks._crash_script import kill_points, make_script
from bot.clock import FakeClock
from emulator import Emulator
from emulator.interactions import flatten_text
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import HelpThread, PointEntry, Solution, WeeklyPost

SNOWFLAKE = re.compile(r"\d{15,21}")


@dataclass
class Snapshot:
    points: dict[str, int]
    threads: dict[str, tuple[str, str, str]]
    weekly: dict[str, str]
    messages: dict[str, Counter[str]]
    stats: dict[str, int] = field(default_factory=dict)


def _names(player: Player) -> dict[int, str]:
    w = player.world
    names = {user_id: name for name, user_id in w.users.items()}
    names |= {w.guild: "guild", w.forum: "#forum", w.text: "#text", w.general: "#general"}
    names |= {
        w.escalations: "#escalations",
        w.sync: "#sync",
        w.helper_role: "@helpers",
        w.staff_role: "@staff",
    }
    names |= {thread: f"q{i}" for i, thread in enumerate(player.questions)}
    names |= {message: f"m{i}" for i, message in enumerate(player.replies)}
    return names


def _normal(text: str, names: dict[int, str]) -> str:
    return SNOWFLAKE.sub(lambda m: names.get(int(m.group()), "<id>"), text)


def _message_text(message: dict[str, Any]) -> str:
    buttons = [
        f"[{b.get('label', '')} {b.get('url', '')}]"
        for row in message.get("components", [])
        for b in row.get("components", [])
    ]
    return flatten_text(message.get("content", ""), message.get("embeds", [])) + " ".join(buttons)


async def snapshot(player: Player, db: Database) -> Snapshot:
    names = _names(player)
    async with db.session() as session:
        points = await session.execute(
            select(PointEntry.member_id, func.sum(PointEntry.amount))
            .where(PointEntry.revoked_at.is_(None))
            .group_by(PointEntry.member_id)
        )
        threads = (await session.scalars(select(HelpThread))).all()
        solutions = {s.thread_id: s for s in (await session.scalars(select(Solution))).all()}
        weekly = (await session.scalars(select(WeeklyPost))).all()
    thread_rows = {}
    for thread in threads:
        solution = solutions.get(thread.id)
        answer = "-" if solution is None else names.get(solution.message_id or 0, "(no answer)")
        thread_rows[names.get(thread.id, str(thread.id))] = (thread.state, answer, thread.close_reason or "")
    channels = {player.world.forum, player.world.text, player.world.general, player.world.escalations}
    channels |= set(player.questions)
    messages = {
        names.get(channel, str(channel)): Counter(
            _normal(_message_text(m), names) for m in player.emu.bot_messages(channel)
        )
        for channel in channels
    }
    return Snapshot(
        points={names.get(member, str(member)): int(total) for member, total in points if int(total)},
        threads=thread_rows,
        weekly={f"{p.week}/{p.kind}": p.status for p in weekly},
        messages=messages,
    )


@dataclass
class Report:
    kills: int
    events: int
    seed: int
    database: str
    divergences: list[str]
    duplicates: int
    lost: int
    restarts: int
    downtime_events: int
    lost_interactions: int
    retried_interactions: int
    seconds: float


def compare(expected: Snapshot, actual: Snapshot) -> tuple[list[str], int, int]:
    """Every difference, and how many bot messages appear extra (duplicates) or missing (lost)."""
    divergences: list[str] = []
    for label, want, got in [
        ("points", expected.points, actual.points),
        ("thread", expected.threads, actual.threads),
        ("weekly post", expected.weekly, actual.weekly),
    ]:
        for key in sorted(set(want) | set(got)):
            if want.get(key) != got.get(key):
                divergences.append(f"{label} {key}: expected {want.get(key)!r}, got {got.get(key)!r}")
    duplicates = lost = 0
    for channel in sorted(set(expected.messages) | set(actual.messages)):
        want, got = expected.messages.get(channel, Counter()), actual.messages.get(channel, Counter())
        extra = {text for text in got if got[text] > want[text]}
        missing = {text for text in want if got[text] < want[text]}
        for text in sorted(extra | missing):
            if text in extra:
                duplicates += got[text] - want[text]
                shown = excerpt(text, missing)
                divergences.append(f"message in {channel} {got[text] - want[text]}x extra: {shown!r}")
            else:
                lost += want[text] - got[text]
                shown = excerpt(text, extra)
                divergences.append(f"message in {channel} {want[text] - got[text]}x missing: {shown!r}")
    return divergences, duplicates, lost


def _shared_start(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def excerpt(text: str, others: set[str], width: int = 120) -> str:
    """The start of ``text``, or, when a message on the other side differs from it only later on
    (a digest with one tag changed), the part around the first difference."""
    if not others:
        return text[:width]
    common = max(_shared_start(text, other) for other in others)
    if common < width // 2:
        return text[:width]
    return "…" + text[common - width // 3 : common - width // 3 + width]


async def _ledger_has(db: Database, reason: str) -> bool:
    async with db.session() as session:
        return bool(await session.scalar(select(func.count()).where(PointEntry.reason == reason)))


@dataclass
class Stage:
    """The emulator with the benchmark's community, its clock, and the bot process set up to play."""

    clock: FakeClock
    clock_file: Path
    emu: Emulator
    world: World
    bot: BotProcess
    db: Database

    async def ledger_has(self, reason: str) -> bool:
        return await _ledger_has(self.db, reason)


@contextlib.asynccontextmanager
async def stage(database_url: str, workdir: Path, label: str) -> AsyncIterator[Stage]:
    """A fresh emulator and community, and the bot process for ``database_url`` (not started yet)."""
    clock = FakeClock()
    clock_file = workdir / f"{label}.clock"
    clock_file.write_text(str(clock.now().timestamp()))
    emu = Emulator(clock=clock.now, validate=False)
    await emu.start()
    world = build_world(emu)
    args = [
        "--base-url", emu.base_url, "--gateway-url", emu.gateway_url, "--token", emu.token,
        "--database", database_url, "--clock", str(clock_file),
        "--guild", str(world.guild), "--sync-channel", str(world.sync),
    ]  # fmt: skip
    bot = BotProcess(args, workdir / f"{label}.log")
    db = Database(database_url)
    try:
        yield Stage(clock, clock_file, emu, world, bot, db)
    finally:
        await bot.reap()
        await db.dispose()
        await emu.stop()


async def play_once(
    events: list, kills: dict[int, float], database_url: str, workdir: Path, label: str
) -> tuple[Snapshot, Player]:
    async with stage(database_url, workdir, label) as s:
        player = Player(s.emu, s.clock, s.clock_file, s.bot, s.world, kills, s.ledger_has)
        await s.bot.start()
        await configure(player)
        await player.play(events)
        return await snapshot(player, s.db), player


async def _fresh_database(kind: str, workdir: Path, label: str) -> tuple[str, Any]:
    """A URL for an empty database, and a coroutine function that drops it afterwards."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / f'{label}.db'}", None
    import asyncpg

    base = os.environ["UNSTUCK_TEST_POSTGRES_URL"]
    name = f"unstuck_crash_{uuid.uuid4().hex[:8]}"
    plain = base.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(plain)
    await conn.execute(f"CREATE DATABASE {name}")
    await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(plain)
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.close()

    url = base.rsplit("/", 1)[0] + f"/{name}"
    await asyncio.to_thread(upgrade, url)  # on PostgreSQL the bot refuses an out-of-date schema
    return url, drop


async def run(kills: int, events: int, seed: int, kind: str = "sqlite") -> Report:
    script = make_script(events, seed)
    plan = kill_points(len(script), kills, seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="unstuck-crash-") as directory:
        workdir = Path(directory)
        results = []
        for label, schedule in (("calm", {}), ("killed", plan)):
            url, drop = await _fresh_database(kind, workdir, label)
            try:
                results.append(await play_once(script, schedule, url, workdir, label))
            finally:
                if drop is not None:
                    await drop()
    (expected, _), (actual, player) = results
    divergences, duplicates, lost = compare(expected, actual)
    return Report(
        kills=player.stats.kills,
        events=len(script),
        seed=seed,
        database=kind,
        divergences=divergences,
        duplicates=duplicates,
        lost=lost,
        restarts=player.stats.restarts,
        downtime_events=player.stats.downtime_events,
        lost_interactions=player.stats.lost_interactions,
        retried_interactions=player.stats.retried,
        seconds=round(time.perf_counter() - started, 1),
    )


def print_table(reports: list[Report]) -> None:
    header = (
        f"{'database':<10}{'events':>8}{'kills':>7}{'restarts':>10}{'downtime ev.':>14}{'lost interact.':>16}"
    )
    header += f"{'divergences':>13}{'duplicates':>12}{'lost':>6}{'seconds':>9}"
    print(header)
    for r in reports:
        print(
            f"{r.database:<10}{r.events:>8}{r.kills:>7}{r.restarts:>10}{r.downtime_events:>14}"
            f"{r.lost_interactions:>16}{len(r.divergences):>13}{r.duplicates:>12}{r.lost:>6}{r.seconds:>9}"
        )
    for r in reports:
        for line in r.divergences[:30]:
            print(f"  [{r.database}] {line}")


async def main_async(args: argparse.Namespace) -> list[Report]:
    kinds = ["sqlite"] + (["postgres"] if os.environ.get("UNSTUCK_TEST_POSTGRES_URL") else [])
    return [await run(args.kills, args.events, args.seed, kind) for kind in kinds]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    reports = asyncio.run(main_async(args))
    print_table(reports)
    if args.json:
        first = reports[0]
        data = asdict(first) | {"runs": [asdict(r) for r in reports]}
        args.json.write_text(json.dumps(data, indent=2))
    return 0 if all(not r.divergences and not r.duplicates and not r.lost for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
