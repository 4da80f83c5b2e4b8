"""Discord markdown, recognised only where it is markdown.

Discord renders ``**bold**``, ``_italic_``, ``__underline__``, ``~~strike~~``, ``||spoiler||``,
inline code and fenced code blocks, headings, quotes, list markers and ``-#`` subtext, masked
links, and ``<@id>``-style mentions and custom emoji. People in help channels also write
identifiers full of the same characters (``read_csv``, ``__init__.py``, ``*args``), so an
underscore or an asterisk is removed only when it opens and closes emphasis at word boundaries,
never inside a word, never inside code, and a dunder name such as ``__init__`` stays as written.

Text is first cut into :class:`Segment` s (prose, inline code, fenced block) so that nothing in
code is ever taken for markdown; a fence that opens and closes on one line (```` ```pip install
torch``` ````) is inline code, and a fence that never closes runs to the end of the message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "CUSTOM_EMOJI",
    "MASS_MENTION",
    "ROLE_MENTION",
    "USER_MENTION",
    "Kind",
    "Segment",
    "drop_discord_tokens",
    "plain_prose",
    "segments",
    "strip_line_markup",
    "unwrap_links",
]


class Kind(Enum):
    PROSE = "prose"
    INLINE = "inline"  # inline code, or a fence opened and closed on one line
    BLOCK = "block"  # a fenced code block spanning lines (or left open to the end)


@dataclass(frozen=True, slots=True)
class Segment:
    kind: Kind
    text: str
    lang: str = ""  # a fenced block's language tag, if any


# ```lang\n ... ``` | ``` ... ``` (one line) | `` ... `` | ` ... `; an unclosed fence runs to the end.
_CODE = re.compile(
    r"```(?:(?P<lang>[\w+#.-]*)\n)?(?P<fenced>.*?)(?:```|\Z)"
    r"|``(?P<double>[^\n]+?)``"
    r"|`(?P<single>[^`\n]+)`",
    re.S,
)


def segments(text: str) -> list[Segment]:
    """``text`` cut into prose, inline code and fenced blocks, in order (empty pieces left out)."""
    if "`" not in text:
        return [Segment(Kind.PROSE, text)] if text else []
    out: list[Segment] = []
    pos = 0
    for m in _CODE.finditer(text):
        if m.start() > pos:
            out.append(Segment(Kind.PROSE, text[pos : m.start()]))
        pos = m.end()
        fenced = m.group("fenced")
        if fenced is None:
            out.append(Segment(Kind.INLINE, m.group("double") or m.group("single") or ""))
        elif m.group("lang") is None and "\n" not in fenced:
            out.append(Segment(Kind.INLINE, fenced.strip()))
        else:
            out.append(Segment(Kind.BLOCK, fenced, m.group("lang") or ""))
    if pos < len(text):
        out.append(Segment(Kind.PROSE, text[pos:]))
    return [s for s in out if s.text.strip() or (s.kind is Kind.PROSE and s.text)]


# --- emphasis -----------------------------------------------------------------------------------

# Each pair opens before a non-space and closes after one. ``*``/``_`` must not touch a word
# character on the outside (``2*3*4``, ``user_id``, ``snake_case_name`` are not emphasis), and a
# ``__name__`` made of one identifier is a dunder name, not underlined text.
_EMPHASIS = (
    re.compile(r"(?<!\\)\*\*(?=\S)(.+?)(?<=\S)(?<!\\)\*\*", re.S),
    re.compile(r"(?<![\w\\])__(?=\S)(?!\w+__(?!_))(.+?)(?<=\S)__(?!\w)", re.S),
    re.compile(r"(?<![\w*\\])\*(?=[^\s*])(.+?)(?<=[^\s*\\])\*(?![\w*])", re.S),
    re.compile(r"(?<![\w\\])_(?=[^\s_])(.+?)(?<=[^\s_\\])_(?!\w)", re.S),
    re.compile(r"(?<!\\)~~(?=\S)(.+?)(?<=\S)~~", re.S),
    re.compile(r"(?<!\\)\|\|(.+?)\|\|", re.S),
)
_ESCAPE = re.compile(r"\\([*_~|`>#\-\\\[\]()])")


def _strip_emphasis(text: str) -> str:
    if not any(ch in text for ch in "*_~|"):
        return text
    for pattern in _EMPHASIS:
        previous = None
        while previous != text:  # nested: ***x*** is ** around *x*
            previous, text = text, pattern.sub(r"\1", text)
    return text


# --- lines, links, Discord tokens ---------------------------------------------------------------

_LINE_MARKUP = re.compile(r"^[ \t]*(?:>>> ?|> ?|#{1,3}[ \t]+|-#[ \t]+|[-*+][ \t]+|\d{1,3}[.)][ \t]+)+", re.M)
_MASKED_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?(?:https?://|www\.)[^)\s]*>?(?:\s+\"[^\"]*\")?\s*\)")
USER_MENTION = re.compile(r"<@!?\d+>")
ROLE_MENTION = re.compile(r"<@&\d+>")
MASS_MENTION = re.compile(r"@(everyone|here)", re.I)  # Discord needs no word boundary
CUSTOM_EMOJI = re.compile(r"<a?:\w+:\d+>")
# <#123> channels, </cmd sub:123> slash commands, <t:1700000000:R> timestamps, <id:home> guides
_OTHER_TOKENS = re.compile(r"<(?:#\d+|/[^<>:\n]+:\d+|t:-?\d+(?::[tTdDfFR])?|id:\w+)>")
# ``:pepe_cry:`` typed as text (an emoji the writer's Discord did not turn into an image)
_SHORTCODE = re.compile(r"(?<![\w:]):[a-z0-9_+-]{2,32}:(?![\w:])", re.I)


def strip_line_markup(text: str) -> str:
    """Headings, quotes, list markers and ``-#`` subtext removed from the start of every line."""
    return _LINE_MARKUP.sub("", text)


def unwrap_links(text: str) -> str:
    """``[text](https://…)`` becomes ``text``."""
    return _MASKED_LINK.sub(r"\1", text) if "](" in text else text


def drop_discord_tokens(text: str) -> str:
    """Mentions, ``@everyone``/``@here``, channel links, slash-command mentions, timestamps and
    custom emoji (also as ``:shortcode:``) removed, until none is left (removing one can't make
    another out of its neighbours)."""
    previous = None
    while previous != text:
        previous = text
        text = USER_MENTION.sub(" ", text)
        text = ROLE_MENTION.sub(" ", text)
        text = CUSTOM_EMOJI.sub(" ", text)
        text = _OTHER_TOKENS.sub(" ", text)
        text = MASS_MENTION.sub(" ", text)
        text = _SHORTCODE.sub(" ", text)
    return text


def plain_prose(parts: list[Segment], code: Callable[[Segment], str]) -> str:
    """Readable text of ``parts``: markdown removed from prose, each code segment replaced by
    ``code(segment)`` (kept out of the emphasis rules), mentions and custom emoji dropped.

    Emphasis may span a code segment (``**`x` fails**``), so prose and placeholders for code are
    processed together; placeholders use control characters that :func:`normalize` has removed
    from any input.
    """
    pieces: list[str] = []
    codes: list[str] = []
    for seg in parts:
        if seg.kind is Kind.PROSE:
            pieces.append(seg.text)
        else:
            pieces.append(f"\x02{len(codes)}\x03")
            codes.append(code(seg))
    text = "".join(pieces)
    text = strip_line_markup(text)
    text = unwrap_links(text)
    text = _strip_emphasis(text)
    text = _ESCAPE.sub(r"\1", text)
    text = drop_discord_tokens(text)
    if codes:
        text = re.sub("\x02(\\d+)\x03", lambda m: codes[int(m.group(1))], text)
    return text
