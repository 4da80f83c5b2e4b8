"""Speed and size of the public archive's static site.

    python -m benchmarks.archive [--threads N] [--json PATH] [--site-dir DIR]

Fills a fresh SQLite database with N solved threads (default 100,000) in 4 published help channels
of one server, each with its question, a side remark and the accepted answer kept as text, and a
few hundred members with names. Then it times:

- build: ``unstuck archive build`` end to end into an empty directory (read, render, write);
- incremental: one more thread is solved, and the site is built again (only changed files are
  written, but every page is still rendered and hashed: the bot's live rebuild of one thread is
  a later step);
- page sizes: the largest thread page, and what a first visit loads (the page itself: styles are
  inline, there are no scripts or images).

``search_ms`` is ``null`` until the site has its search index. The built site is left in place
(``site_dir``) for a look or a browser test.
Targets (issue 14): build ≤ 120 s at 100,000 threads, incremental ≤ 200 ms, thread page ≤ 30 KB,
first load ≤ 100 KB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from benchmarks._ledger import fresh_sqlite
from bot.archive.build import build_archive
from bot.clock import FakeClock
from bot.config import GuildSettings
from bot.domain.lifecycle import ThreadState
from bot.services.archive import ArchiveService
from bot.services.server_config import ServerConfigService
from storage.engine import Database
from storage.models import (
    ArchiveChannel,
    ArchiveMember,
    ArchiveSettings,
    Guild,
    HelpChannel,
    HelpThread,
    Solution,
    ThreadMessage,
)

GUILD = 1 << 22
CHANNELS = [GUILD + 1 + n for n in range(4)]
MEMBERS = 500
BATCH = 5_000
T0 = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = [
    "pandas",
    "read_csv",
    "encoding",
    "virtualenv",
    "pip",
    "install",
    "permission",
    "docker",
    "container",
    "port",
    "asyncio",
    "event",
    "loop",
    "import",
    "error",
    "module",
    "path",
    "numpy",
    "array",
    "shape",
    "matplotlib",
    "legend",
    "git",
    "rebase",
    "branch",
    "discord",
    "intents",
    "message",
    "content",
    "flask",
    "route",
    "template",
    "jinja",
    "sqlalchemy",
    "session",
    "commit",
]
CODE = "```python\nimport pandas as pd\ndf = pd.read_csv('data.csv', encoding='latin-1')\n```"


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def rows(threads: int, seed: int = 7) -> dict[type, list[dict[str, Any]]]:
    """The database's rows for ``threads`` solved threads, each with a remark and its answer."""
    rng = random.Random(seed)
    data: dict[type, list[dict[str, Any]]] = {HelpThread: [], Solution: [], ThreadMessage: []}
    for n in range(threads):
        thread_id = (GUILD << 1) + n * 10
        at = T0 + timedelta(minutes=n)
        asker, helper, other = (rng.randrange(MEMBERS) + 1000 for _ in range(3))
        answer = f"{_sentence(rng, 30)}\n\n{CODE}\n\n{_sentence(rng, 20)}"
        data[HelpThread].append(
            {
                "id": thread_id,
                "guild_id": GUILD,
                "channel_id": CHANNELS[n % len(CHANNELS)],
                "kind": "forum",
                "asker_id": asker,
                "title": _sentence(rng, 7)[:100],
                "question": f"{_sentence(rng, 40)}\n\n{CODE}",
                "state": ThreadState.SOLVED,
                "created_at": at,
                "last_activity_at": at,
                "solved_at": at + timedelta(minutes=5),
            }
        )
        data[ThreadMessage] += [
            {"id": thread_id + 1, "thread_id": thread_id, "author_id": other, "created_at": at,
             "content": _sentence(rng, 12)},
            {"id": thread_id + 2, "thread_id": thread_id, "author_id": helper, "created_at": at,
             "content": answer},
        ]  # fmt: skip
        data[Solution].append(
            {
                "thread_id": thread_id,
                "guild_id": GUILD,
                "message_id": thread_id + 2,
                "author_id": helper,
                "marked_by_id": asker,
                "via": "reaction",
                "answer": answer,
                "marked_at": at + timedelta(minutes=5),
            }
        )
    return data


async def fill(db: Database, threads: int) -> None:
    async with db.session() as session:
        await session.execute(insert(Guild), [{"id": GUILD, "settings": {}, "created_at": T0}])
        await session.execute(
            insert(HelpChannel),
            [{"channel_id": c, "guild_id": GUILD, "kind": "forum", "added_at": T0} for c in CHANNELS],
        )
        await session.execute(
            insert(ArchiveChannel),
            [
                {
                    "channel_id": c,
                    "guild_id": GUILD,
                    "name": f"help-{n}",
                    "enabled_by_id": 1,
                    "enabled_at": T0,
                }
                for n, c in enumerate(CHANNELS)
            ],
        )
        await session.execute(
            insert(ArchiveSettings),
            [{"guild_id": GUILD, "members_default": "public", "hide_leavers": True, "updated_at": T0}],
        )
        members = [
            {"guild_id": GUILD, "member_id": 1000 + m, "display_name": f"member{m}", "updated_at": T0}
            for m in range(MEMBERS)
        ]
        await session.execute(insert(ArchiveMember), members)
    for table, table_rows in rows(threads + 1).items():
        for start in range(0, len(table_rows), BATCH):
            async with db.session() as session:
                await session.execute(insert(table), table_rows[start : start + BATCH])
    # The last thread is solved later, between the full build and the incremental one.
    async with db.session() as session:
        last = (GUILD << 1) + threads * 10
        await session.execute(
            HelpThread.__table__.update().where(HelpThread.id == last).values(solved_at=None, state="open")
        )
        await session.execute(Solution.__table__.delete().where(Solution.thread_id == last))


async def measure(threads: int, site_dir: Path) -> dict[str, Any]:
    async with fresh_sqlite() as db:
        await fill(db, threads)
        clock = FakeClock(T0)
        archive = ArchiveService(db, clock, ServerConfigService(db, clock, GuildSettings()))
        started = time.perf_counter()
        full = await build_archive(archive, site_dir, "https://help.example.org/")
        build_s = time.perf_counter() - started
        last = (GUILD << 1) + threads * 10
        async with db.session() as session:
            await session.execute(
                HelpThread.__table__.update()
                .where(HelpThread.id == last)
                .values(solved_at=T0 + timedelta(days=400), state="solved")
            )
            await session.execute(
                insert(Solution),
                [
                    {"thread_id": last, "guild_id": GUILD, "message_id": last + 2, "author_id": 1000,
                     "marked_by_id": 1001, "via": "reaction", "answer": "Use a virtualenv.",
                     "marked_at": T0 + timedelta(days=400)}
                ],
            )  # fmt: skip
        started = time.perf_counter()
        again = await build_archive(archive, site_dir, "https://help.example.org/")
        incremental_ms = (time.perf_counter() - started) * 1000
    pages = list((site_dir / "t").glob("*.html"))
    largest = max((p.stat().st_size for p in pages), default=0) / 1024
    return {
        "threads": threads,
        "files": full.pages,
        "build_s": round(build_s, 2),
        "incremental_ms": round(incremental_ms, 1),
        "incremental_written": again.written,
        "thread_page_kb": round(largest, 1),
        "first_load_kb": round(largest, 1),  # inline styles, no scripts, no images
        "search_ms": None,
        "site_dir": str(site_dir),
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"Public archive, {result['threads']:,} solved threads ({result['files']:,} files)",
        f"{'measure':<34}{'value':>12}{'target':>12}",
        f"{'full build (s)':<34}{result['build_s']:>12}{'≤ 120':>12}",
        f"{'rebuild after one solve (ms)':<34}{result['incremental_ms']:>12}{'≤ 200':>12}",
        f"{'  files written by it':<34}{result['incremental_written']:>12}{'':>12}",
        f"{'largest thread page (KB)':<34}{result['thread_page_kb']:>12}{'≤ 30':>12}",
        f"{'first load (KB)':<34}{result['first_load_kb']:>12}{'≤ 100':>12}",
        f"{'search (ms)':<34}{'n/a':>12}{'≤ 300':>12}",
        f"site: {result['site_dir']}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.archive", description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--site-dir", metavar="DIR", help="where to build (default: a new temporary folder)")
    args = parser.parse_args(argv)
    site_dir = Path(args.site_dir or tempfile.mkdtemp(prefix="unstuck-archive-site-")).absolute()
    result = asyncio.run(measure(args.threads, site_dir))
    print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
