"""How a similar solved thread is presented: a one-line answer excerpt, "how long ago", the threshold.

Pure functions, free of Discord types: the cog turns their output into embeds and buttons.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.matching import DEFAULT_MIN_SCORE_TITLES_ONLY
from bot.domain.text.markdown import (
    MASS_MENTION,
    ROLE_MENTION,
    USER_MENTION,
    Kind,
    Segment,
    segments,
    strip_line_markup,
    unwrap_links,
)
from bot.domain.text.unicode import normalize

EXCERPT_LENGTH = 140


def _shown(seg: Segment) -> str:
    if seg.kind is Kind.PROSE:
        return seg.text
    return f"`{seg.text}`" if seg.kind is Kind.INLINE else f" {seg.text} "


def answer_excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """One line of an accepted answer, safe to show anywhere.

    Code fences are unwrapped, masked links keep their text, lines are joined, and nothing can
    ping: user and role mentions become plain ``@member``/``@role`` and ``@everyone``/``@here`` are
    broken with a zero-width space, so even a copy-paste of the excerpt pings nobody. Cut at a word
    boundary with an ellipsis; an inline-code span cut in half loses its backticks.
    """
    text = "".join(_shown(seg) for seg in segments(normalize(text)))
    text = unwrap_links(strip_line_markup(text))
    text = USER_MENTION.sub("@member", text)
    text = ROLE_MENTION.sub("@role", text)
    text = MASS_MENTION.sub(lambda m: "@\u200b" + m.group(1), text)
    text = " ".join(text.split())
    if len(text) > limit:
        cut = text[: limit - 1]
        space = cut.rfind(" ")
        text = (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:.-") + "…"
    if text.count("`") % 2:
        text = text.replace("`", "")
    return text


def time_ago(delta: timedelta) -> str:
    """A coarse "how long ago": ``"just now"``, ``"3 h ago"``, ``"2 weeks ago"``, ``"1 year ago"``."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((365 * 86_400, "year"), (30 * 86_400, "month"), (7 * 86_400, "week"), (86_400, "day")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    if seconds >= 3_600:
        return f"{seconds // 3_600} h ago"
    return f"{seconds // 60} min ago"


def effective_threshold(configured: float, *, titles_only: bool) -> float:
    """The score a suggestion needs.

    Without the message-content intent a server can't go below the titles-only default: matching
    on titles alone is weaker, and a lower setting chosen for full text would let guesses through.
    """
    return max(configured, DEFAULT_MIN_SCORE_TITLES_ONLY) if titles_only else configured
