"""Thread titles made from a message's first line: what a reader would call the question."""

from __future__ import annotations

import re

THREAD_NAME_LIMIT = 100

_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|<a?:(\w+):\d+>|@(?:everyone|here)")
_LINK = re.compile(r"\[([^\]]*)\]\((?:[^)]*)\)")
_MARKDOWN = re.compile(r"(\*\*|__|~~|\|\||[*_`])")
_LINE_PREFIX = re.compile(r"^\s*(?:>{1,3}|#{1,3}|-#|[-*+]\s)\s*")
_SPACES = re.compile(r"\s+")


def clean_line(line: str) -> str:
    """Strip mentions, custom emoji, link syntax and markdown from one line of Discord text."""
    line = _MENTION.sub(lambda m: m.group(1) or "", line)
    line = _LINK.sub(r"\1", line)
    line = _LINE_PREFIX.sub("", line)
    line = _MARKDOWN.sub("", line)
    return _SPACES.sub(" ", line).strip()


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, ending on a word boundary with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def thread_name_from_message(content: str, fallback: str) -> str:
    """The thread name for a help message: its first meaningful line, cleaned, at most 100 characters.

    Code fences are skipped (a question that starts with a traceback still gets a readable name);
    ``fallback`` is used when nothing readable is left, e.g. a message that is only an image.
    """
    in_fence = False
    for raw in content.splitlines():
        if raw.strip().startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        line = clean_line(raw)
        if line:
            return truncate(line, THREAD_NAME_LIMIT)
    return truncate(clean_line(fallback) or "Help request", THREAD_NAME_LIMIT)


def with_prefix(name: str, prefix: str) -> str:
    """``name`` with ``prefix`` in front (once), still within Discord's 100-character limit."""
    if name.startswith(prefix):
        return name
    return prefix + truncate(name, THREAD_NAME_LIMIT - len(prefix))


def without_prefix(name: str, prefix: str) -> str:
    """``name`` with a leading ``prefix`` removed, if it has one."""
    return name[len(prefix) :] if prefix and name.startswith(prefix) else name
