"""Build the archive's static site: every page from the published threads, writing only what changed.

A manifest (``.archive-manifest.json``) keeps each page's content hash: a rebuild writes a page only
when its hash differs, and deletes the pages that are no longer published (a deleted thread, a
member who withdrew consent, a channel taken out of the archive) at once.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from bot.archive.render import channel_page, home_page, not_found_page, thread_page
from bot.domain.archive_consent import PublishedThread

MANIFEST = ".archive-manifest.json"
SITEMAP_LIMIT = 50_000  # URLs per sitemap file (the sitemaps.org limit)
TOP_THREADS = 20


@dataclass(frozen=True)
class BuildResult:
    pages: int  # every file of the site
    written: int  # files written by this build (changed or new)
    removed: int  # files deleted because they are no longer published


def site_files(
    threads: Sequence[PublishedThread],
    base_url: str,
    site_name: str,
    names: Mapping[int, str] | None = None,
    sitemap_limit: int = SITEMAP_LIMIT,
) -> dict[str, str]:
    """Every file of the site, by path relative to its root; ``names`` are the channels' names."""

    def channel_name(channel_id: int) -> str:
        return f"#{(names or {}).get(channel_id, channel_id)}"

    base = base_url if base_url.endswith("/") else base_url + "/"
    files: dict[str, str] = {}
    by_channel: dict[int, list[PublishedThread]] = {}
    for thread in threads:
        by_channel.setdefault(thread.channel_id, []).append(thread)
        name = channel_name(thread.channel_id)
        files[f"t/{thread.thread_id}.html"] = thread_page(thread, base, site_name, name)
    for channel_id, listed in sorted(by_channel.items()):
        ranked = sorted(listed, key=lambda t: (-t.helped, -t.thread_id))
        files[f"c/{channel_id}.html"] = channel_page(
            channel_id, channel_name(channel_id), ranked, base, site_name
        )
    channels = [(cid, channel_name(cid), len(listed)) for cid, listed in sorted(by_channel.items())]
    top = sorted(threads, key=lambda t: (-t.helped, -t.thread_id))[:TOP_THREADS]
    files["index.html"] = home_page(channels, top, base, site_name)
    files["404.html"] = not_found_page(site_name)
    urls = [f"{base}{path}" for path in sorted(files) if path != "404.html"]
    files.update(sitemaps(urls, base, sitemap_limit))
    files["robots.txt"] = f"User-agent: *\nAllow: /\nSitemap: {base}sitemap.xml\n"
    return files


def sitemaps(urls: Sequence[str], base: str, limit: int) -> dict[str, str]:
    """``sitemap.xml``; past ``limit`` URLs, an index of ``sitemap-N.xml`` files."""
    chunks = [urls[i : i + limit] for i in range(0, len(urls), limit)] or [[]]
    if len(chunks) == 1:
        return {"sitemap.xml": _urlset(chunks[0])}
    files = {f"sitemap-{n}.xml": _urlset(chunk) for n, chunk in enumerate(chunks, start=1)}
    entries = "".join(f"<sitemap><loc>{escape(base + name)}</loc></sitemap>" for name in files)
    files["sitemap.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>\n'
    )
    return files


def _urlset(urls: Iterable[str]) -> str:
    entries = "".join(f"<url><loc>{escape(url)}</loc></url>" for url in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>\n'
    )


def write_site(files: dict[str, str], out: Path) -> BuildResult:
    """Write the files that changed since the last build into ``out``; delete the ones that went."""
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    old: dict[str, str] = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    new = {path: hashlib.sha256(text.encode()).hexdigest() for path, text in files.items()}
    written = 0
    for path, digest in new.items():
        target = out / path
        if old.get(path) == digest and target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(files[path], encoding="utf-8")
        os.replace(partial, target)  # a reader never sees half a page
        written += 1
    removed = 0
    for path in sorted(set(old) - set(new)):
        (out / path).unlink(missing_ok=True)
        removed += 1
    manifest_path.write_text(json.dumps(new, sort_keys=True))
    return BuildResult(pages=len(new), written=written, removed=removed)
