"""Build the archive's static site: every page from the published threads, writing only what changed.

A manifest (``.archive-manifest.json``) keeps each page's content hash: a rebuild writes a page only
when its hash differs, and deletes the pages that are no longer published (a deleted thread, a
member who withdrew consent, a channel taken out of the archive) at once. A thread page also keeps
the hash of what it was rendered from (a :class:`Lazy` page): when that is unchanged, the page is
not even rendered again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from bot.archive.render import channel_page, home_page, not_found_page, thread_page
from bot.archive.templates import TEMPLATES
from bot.domain.archive_consent import PublishedThread

MANIFEST = ".archive-manifest.json"
SITEMAP_LIMIT = 50_000  # URLs per sitemap file (the sitemaps.org limit)
TOP_THREADS = 20


@dataclass(frozen=True)
class Lazy:
    """A page rendered only when ``source`` (a hash of everything it shows) changed since the last build."""

    source: str
    render: Callable[[], str]


Page = str | Lazy
#: Changes whenever a template does, so that a new version of Unstuck renders every page again.
TEMPLATES_KEY = hashlib.sha256(repr(sorted(TEMPLATES.items())).encode()).hexdigest()[:16]


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
) -> dict[str, Page]:
    """Every file of the site, by path relative to its root; ``names`` are the channels' names."""

    def channel_name(channel_id: int) -> str:
        return f"#{(names or {}).get(channel_id, channel_id)}"

    base = base_url if base_url.endswith("/") else base_url + "/"
    files: dict[str, Page] = {}
    by_channel: dict[int, list[PublishedThread]] = {}
    for thread in threads:
        by_channel.setdefault(thread.channel_id, []).append(thread)
        name = channel_name(thread.channel_id)
        source = repr((TEMPLATES_KEY, base, site_name, name, thread))
        files[f"t/{thread.thread_id}.html"] = Lazy(
            hashlib.sha256(source.encode()).hexdigest(),
            lambda thread=thread, name=name: thread_page(thread, base, site_name, name),  # type: ignore[misc]
        )
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


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def write_site(files: Mapping[str, Page], out: Path) -> BuildResult:
    """Write the files that changed since the last build into ``out``; delete the ones that went."""
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    old = _read_manifest(manifest_path)
    new: dict[str, list[str | None]] = {}
    written = 0
    for path, page in files.items():
        target = out / path
        source = page.source if isinstance(page, Lazy) else None
        before = old.get(path)
        if source is not None and before is not None and before[0] == source and target.exists():
            new[path] = before  # rendered from the same data as last time: not even rendered
            continue
        text = page.render() if isinstance(page, Lazy) else page
        new[path] = [source, _digest(text)]
        if before is not None and before[1] == new[path][1] and target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)  # a reader never sees half a page
        written += 1
    removed = 0
    for path in sorted(set(old) - set(new)):
        (out / path).unlink(missing_ok=True)
        removed += 1
    manifest_path.write_text(json.dumps(new, sort_keys=True))
    return BuildResult(pages=len(new), written=written, removed=removed)


def _read_manifest(path: Path) -> dict[str, list[str | None]]:
    """The last build's ``{path: [source hash, page hash]}``; empty when there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return (
        {k: v for k, v in data.items() if isinstance(v, list) and len(v) == 2}
        if isinstance(data, dict)
        else {}
    )
