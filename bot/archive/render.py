"""Pages of the archive as HTML strings: members' Markdown rendered with any HTML they typed escaped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jinja2 import DictLoader, Environment, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from bot.archive.templates import TEMPLATES
from bot.domain.archive_consent import Post, PublishedThread

# "html": False escapes whatever HTML a member typed; markdown-it also refuses javascript: links.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})
ANONYMOUS = "Anonymous"


def render_post(post: Post) -> Markup:
    """A message as safe HTML: Markdown rendered, raw HTML escaped, a hidden message as a note."""
    if post.hidden:
        return Markup('<p class="hidden">{}</p>').format(post.text)
    return Markup(_markdown.render(post.text))  # markdown-it escaped all raw HTML


def _env() -> Environment:
    env = Environment(loader=DictLoader(TEMPLATES), autoescape=select_autoescape(default=True))
    env.globals["render"] = render_post
    return env


ENV = _env()


def _person(post: Post) -> dict[str, str]:
    return {"@type": "Person", "name": post.author or ANONYMOUS}


def _answer(post: Post, url: str) -> dict[str, Any]:
    return {
        "@type": "Answer",
        "text": post.text,
        "dateCreated": post.created_at.isoformat(),
        "author": _person(post),
        "url": f"{url}#m{post.message_id}",
        "upvoteCount": 0,
    }


def _shown(post: Post | None) -> bool:
    return post is not None and not post.hidden


def json_ld(thread: PublishedThread, url: str) -> str:
    """The thread's QAPage structured data, safe inside a <script> element."""
    question: dict[str, Any] = {
        "@type": "Question",
        "name": thread.title,
        "text": thread.question.text,
        "answerCount": (1 if _shown(thread.accepted) else 0) + sum(not r.hidden for r in thread.replies),
        "dateCreated": thread.question.created_at.isoformat(),
        "author": _person(thread.question),
    }
    if thread.accepted is not None and not thread.accepted.hidden:
        question["acceptedAnswer"] = _answer(thread.accepted, url)
    suggested = [_answer(r, url) for r in thread.replies if not r.hidden]
    if suggested:
        question["suggestedAnswer"] = suggested
    if thread.tags:
        question["keywords"] = ", ".join(thread.tags)
    data = {"@context": "https://schema.org", "@type": "QAPage", "mainEntity": question}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # "</script>" or "<!--" in a member's text must not end the element: escape every "<", ">", "&".
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _description(text: str, limit: int = 160) -> str:
    words = " ".join(text.split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def thread_page(thread: PublishedThread, base_url: str, site_name: str, channel_name: str) -> str:
    url = f"{base_url}t/{thread.thread_id}.html"
    return ENV.get_template("thread.html").render(
        thread=thread,
        title=thread.title,
        description=_description(thread.accepted.text if thread.accepted else thread.question.text),
        canonical=url,
        og_type="article",
        site_name=site_name,
        channel_name=channel_name,
        json_ld=json_ld(thread, url),
        root="../",
    )


def channel_page(
    channel_id: int, name: str, threads: Sequence[PublishedThread], base_url: str, site_name: str
) -> str:
    return ENV.get_template("channel.html").render(
        title=f"Solved in {name}",
        description=f"{len(threads)} solved questions in {name}",
        canonical=f"{base_url}c/{channel_id}.html",
        site_name=site_name,
        threads=threads,
        root="../",
    )


def home_page(
    channels: Sequence[tuple[int, str, int]], top: Sequence[PublishedThread], base_url: str, site_name: str
) -> str:
    return ENV.get_template("home.html").render(
        title="Solved questions",
        description=f"Solved questions of {site_name}",
        canonical=f"{base_url}index.html",
        site_name=site_name,
        channels=channels,
        top=top,
        root="",
    )


def not_found_page(site_name: str) -> str:
    return ENV.get_template("404.html").render(
        title="Not found", description="Not found", canonical="", site_name=site_name, root="/"
    )
