"""Thread names made from a help message: what a person would call the question.

The name is the message's first line that has a letter or a digit once the text is normalised
(:mod:`bot.domain.text`): invisible characters removed, markdown removed only where it is
markdown (``read_csv`` and ``__init__.py`` stay as written), inline code and one-line fences
unwrapped, mentions and custom emoji dropped. A message with no such line (only a code block, only
emoji) is named after the first words of its question, its error line if its code has one, and
only then after ``fallback`` ("Help for …").
"""

from __future__ import annotations

import re

from bot.domain.text.markdown import Kind, Segment, drop_discord_tokens, plain_prose, segments
from bot.domain.text.tokens import error_lines
from bot.domain.text.unicode import has_word_char, normalize

THREAD_NAME_LIMIT = 100
LAST_RESORT = "Help request"
_SPACES = re.compile(r"\s+")


def _inline(seg: Segment) -> str:
    return seg.text if seg.kind is Kind.INLINE else "\n"


def clean_line(line: str) -> str:
    """One line of Discord text as a reader sees it: markdown, mentions and custom emoji removed,
    inline code unwrapped, spaces collapsed."""
    return _SPACES.sub(" ", plain_prose(segments(normalize(line)), _inline)).strip()


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, ending on a word boundary with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def _first_readable_line(text: str) -> str:
    for line in text.splitlines():
        # again: inline code put back by plain_prose may hold a mention
        line = _SPACES.sub(" ", drop_discord_tokens(line)).strip()
        if has_word_char(line):
            return line
    return ""


def thread_name_from_message(content: str, fallback: str) -> str:
    """The thread name for a help message: its first readable line, at most 100 characters.

    Multi-line code blocks are skipped (a question that starts with a traceback still gets a
    readable name); when nothing else is readable, the block's error line or first words are used,
    then ``fallback``, then "Help request".
    """
    parts = segments(normalize(content))
    name = _first_readable_line(plain_prose(parts, _inline))
    if not name:
        code = "\n".join(s.text for s in parts if s.kind is Kind.BLOCK)
        name = _first_readable_line("\n".join([*error_lines(code), code]))
    if not name:
        name = clean_line(fallback)
    if not has_word_char(name):
        name = LAST_RESORT
    return truncate(name, THREAD_NAME_LIMIT)


def with_prefix(name: str, prefix: str) -> str:
    """``name`` with ``prefix`` in front (once), still within Discord's 100-character limit."""
    if name.startswith(prefix):
        return name
    return prefix + truncate(name, THREAD_NAME_LIMIT - len(prefix))


def without_prefix(name: str, prefix: str) -> str:
    """``name`` with a leading ``prefix`` removed, if it has one."""
    return name[len(prefix) :] if prefix and name.startswith(prefix) else name
