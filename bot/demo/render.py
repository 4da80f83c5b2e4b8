"""Discord message markup turned into the plain text a member reads, for the demo's transcript.

A Discord client never shows ``**bold**``, ``[a link](https://…)``, ``<@123…>`` or ``<t:…:R>``: it
shows bold text, the link's title, ``@helen`` and "in 20 minutes". The transcript does the same, so
that a newcomer reads what a member would see, with no markup and no raw ids. Times are rendered
against the demo's fake clock, like a member's client would at that moment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

LINK_MARK = " ↗"
FIELD_ON_ONE_LINE = 72  # a longer embed field shows its name above its value, as Discord does

_FENCED = re.compile(r"```(?:[\w+#.-]*\n)?(.*?)```", re.S)
_INLINE_CODE = re.compile(r"(``?)([^\n]+?)\1")
_MASKED_LINK = re.compile(r"\[([^\]\n]+)\]\(\s*<?(https?://[^)\s>]+)>?\s*\)")
_CHANNEL_URL = re.compile(r"<?https://(?:\w+\.)?discord(?:app)?\.com/channels/\d+/(\d+)(?:/\d+)?>?")
_MENTION = re.compile(r"<(@!?|@&|#)(\d+)>")
_COMMAND = re.compile(r"</([^<>:\n]+):\d+>")
_CUSTOM_EMOJI = re.compile(r"<a?:(\w+):\d+>")
_TIMESTAMP = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>")
_HEADING = re.compile(r"^(?:#{1,3}|-#) +", re.M)
_BULLET = re.compile(r"^( *)[*-] +", re.M)
_QUOTE = re.compile(r"^>>?>? ?", re.M)
_EMPHASIS = [
    re.compile(r"\*\*\*(.+?)\*\*\*", re.S),
    re.compile(r"\*\*(.+?)\*\*", re.S),
    re.compile(r"__(.+?)__", re.S),
    re.compile(r"~~(.+?)~~", re.S),
    re.compile(r"\|\|(.+?)\|\|", re.S),
    re.compile(r"(?<![\w*\\])\*(?![\s*])(.+?)(?<![\s\\])\*(?![\w*])"),
    re.compile(r"(?<![\w\\])_(?![\s_])(.+?)(?<![\s\\])_(?!\w)"),
]
_ESCAPE = re.compile(r"\\([*_`~|>#\[\]()\\-])")

_STAMP_FORMATS = {
    "t": "%H:%M",
    "T": "%H:%M:%S",
    "d": "%d/%m/%Y",
    "D": "%-d %B %Y",
    "f": "%-d %B %Y %H:%M",
    "F": "%A, %-d %B %Y %H:%M",
}


_UNITS = ((365 * 86_400, "year"), (30 * 86_400, "month"), (86_400, "day"), (3_600, "hour"), (60, "minute"))


@dataclass(frozen=True)
class Names:
    """What a member's client knows: the names behind ids, and the time it is now."""

    users: Mapping[int, str]
    roles: Mapping[int, str]
    channel: Callable[[int], str]
    now: Callable[[], datetime]


def plain(text: str, names: Names) -> str:
    """``text`` as a member reads it: markup applied (so removed), ids shown as names."""
    pieces = _FENCED.split(text)
    # split() alternates prose and the insides of fenced code blocks; code is shown as it is.
    return "".join(_prose(piece, names) if index % 2 == 0 else piece for index, piece in enumerate(pieces))


def _prose(text: str, names: Names) -> str:
    """Prose outside code blocks: inline code is protected from the emphasis rules, like Discord does."""
    shown: list[str] = []
    start = 0
    for code in _INLINE_CODE.finditer(text):
        shown += [_inline(text[start : code.start()], names), code.group(2)]
        start = code.end()
    return "".join([*shown, _inline(text[start:], names)])


def _inline(text: str, names: Names) -> str:
    text = _MASKED_LINK.sub(lambda m: m.group(1) + LINK_MARK, text)
    text = _CHANNEL_URL.sub(lambda m: names.channel(int(m.group(1))) + LINK_MARK, text)
    text = _MENTION.sub(lambda m: _mention(m.group(1), int(m.group(2)), names), text)
    text = _COMMAND.sub(lambda m: "/" + m.group(1), text)
    text = _CUSTOM_EMOJI.sub(lambda m: f":{m.group(1)}:", text)
    text = _TIMESTAMP.sub(lambda m: timestamp(int(m.group(1)), m.group(2) or "f", names.now()), text)
    text = _HEADING.sub("", text)
    text = _BULLET.sub(r"\1• ", text)
    text = _QUOTE.sub("│ ", text)
    for pattern in _EMPHASIS:
        text = pattern.sub(r"\1", text)
    return _ESCAPE.sub(r"\1", text)


def _mention(kind: str, ident: int, names: Names) -> str:
    if kind == "#":
        return names.channel(ident)
    if kind == "@&":
        return "@" + names.roles.get(ident, "deleted-role")
    return "@" + names.users.get(ident, "unknown-user")


def timestamp(seconds: int, style: str, now: datetime) -> str:
    """A ``<t:…>`` timestamp as a client shows it (in UTC here); ``R`` is relative to ``now``."""
    moment = datetime.fromtimestamp(seconds, UTC)
    if style == "R":
        return relative(moment - now)
    return moment.strftime(_STAMP_FORMATS[style])


def relative(delta: timedelta) -> str:
    """Discord's relative time: one rounded unit, ``"in 20 minutes"`` or ``"3 days ago"``."""
    seconds = abs(delta.total_seconds())
    size, unit = next(((size, unit) for size, unit in _UNITS if seconds >= size), _UNITS[-1])
    amount = max(1, round(seconds / size))
    words = f"{amount} {unit}{'' if amount == 1 else 's'}"
    return f"in {words}" if delta.total_seconds() > 0 else f"{words} ago"


def message_text(content: str, embeds: list[dict[str, Any]], names: Names) -> list[str]:
    """A message's lines: its content, then each embed (see :func:`embed_lines`)."""
    lines = plain(content, names).splitlines() if content else []
    for embed in embeds:
        lines += embed_lines(embed, names)
    return lines


def embed_lines(embed: dict[str, Any], names: Names) -> list[str]:
    """An embed as lines: author, title, description, fields ("name: value", or the name over its
    indented value when that is long or has several lines), footer in brackets."""
    lines = [embed["author"]["name"]] if embed.get("author", {}).get("name") else []
    for part in (embed.get("title"), embed.get("description")):
        if part:
            lines += plain(part, names).splitlines()
    for field in embed.get("fields", []):
        name, value = plain(field["name"], names), plain(field["value"], names).splitlines()
        if len(value) == 1 and len(name) + len(value[0]) <= FIELD_ON_ONE_LINE:
            lines.append(f"{name}: {value[0]}")
        else:
            lines += [f"{name}:", *("  " + line for line in value)]
    if embed.get("footer", {}).get("text"):
        lines.append(f"({plain(embed['footer']['text'], names)})")
    return lines


def buttons(components: list[dict[str, Any]]) -> list[str]:
    """Each row of buttons as ``[🧵 Open thread] [✅ This solved it]``."""
    rows = []
    for row in components:
        labels = [_button(item) for item in row.get("components", [])]
        if labels:
            rows.append(" ".join(labels))
    return rows


def _button(item: dict[str, Any]) -> str:
    emoji = (item.get("emoji") or {}).get("name")
    text = " ".join(part for part in (emoji, item.get("label") or item.get("placeholder")) if part)
    return f"[{text}]"
