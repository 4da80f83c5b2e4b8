"""`unstuck archive build OUT/`: write the public archive's static site from the database."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import load

if TYPE_CHECKING:
    from bot.archive.site import BuildResult
    from bot.config import Settings

DEFAULT_BASE_URL = "http://localhost:8000/"


def cmd_archive_build(args: argparse.Namespace) -> int:
    settings = load(args)
    out = Path(args.out).expanduser().absolute()
    result = asyncio.run(build_from_database(settings, out, args.base_url, args.site_name))
    print(
        f"Built the archive in {out}: {result.pages} files, {result.written} written, "
        f"{result.removed} removed. Open {out / 'index.html'} to read it."
    )
    if args.base_url == DEFAULT_BASE_URL:
        print("Links and the sitemap point at localhost: give --base-url with the address you publish it at.")
    return 0


async def build_from_database(settings: Settings, out: Path, base_url: str, site_name: str) -> BuildResult:
    """Open the database (it must be at the current schema), build, close."""
    from bot.archive.build import build_archive
    from bot.clock import SystemClock
    from bot.services.archive import ArchiveService
    from bot.services.server_config import ServerConfigService
    from storage.engine import Database
    from storage.migrate import prepare_schema

    db = Database(settings.database.url)
    try:
        await prepare_schema(db, auto_upgrade=False)
        clock = SystemClock()
        archive = ArchiveService(db, clock, ServerConfigService(db, clock, settings.guild_defaults()))
        return await build_archive(archive, out, base_url, site_name)
    finally:
        await db.dispose()


def add_archive_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register `archive build OUT`."""
    archive = commands.add_parser("archive", parents=[common], help="the public archive of solved threads")
    archive_commands = archive.add_subparsers(dest="archive_command", required=True, metavar="{build}")
    build = archive_commands.add_parser(
        "build",
        parents=[common],
        help="write the static site of the published solved threads to OUT (only what changed)",
    )
    build.add_argument("out", metavar="OUT", help="the site's directory (created if missing)")
    build.add_argument(
        "--base-url", default=DEFAULT_BASE_URL, help="where the site is published, for links and the sitemap"
    )
    build.add_argument("--site-name", default="Solved questions", help="the name shown on every page")
    build.set_defaults(func=cmd_archive_build)
