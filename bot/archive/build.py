"""`unstuck archive build OUT/`: read what may be published, render it, write what changed."""

from __future__ import annotations

from pathlib import Path

from bot.archive.site import SITEMAP_LIMIT, BuildResult, site_files, write_site
from bot.services.archive import ArchiveService


async def build_archive(
    archive: ArchiveService,
    out: Path,
    base_url: str,
    site_name: str = "Solved questions",
    sitemap_limit: int = SITEMAP_LIMIT,
) -> BuildResult:
    """Build the site of every server that publishes a channel into ``out`` (incrementally)."""
    threads = []
    names: dict[int, str] = {}
    for guild_id in await archive.guilds():
        threads += await archive.published_threads(guild_id)
        names.update(await archive.channel_names(guild_id))
    return write_site(site_files(threads, base_url, site_name, names, sitemap_limit), out)
