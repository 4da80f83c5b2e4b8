"""Text normalisation for similar-question matching.

Turns a raw Discord message (markdown, code blocks, URLs, mentions, emoji) into a list of
index terms: case-folded, accent-stripped, punctuation-free, stop-words removed, Snowball-stemmed
(so ``visas``/``visa`` and ``applying``/``apply`` meet, which also makes lemmatised text match
ordinary text).

Code blocks are mostly noise for "is this the same question?", except the error names and the
error message line of a traceback (``ModuleNotFoundError: No module named 'discord'``), which are
the most specific words a help question has: those are kept, the rest of a fenced block is dropped.
Inline code (```pip install x```) is short and usually meaningful, so its words are kept.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

__all__ = [
    "STOPWORDS",
    "clean_markup",
    "normalise",
    "stem",
    "terms",
]

# --- markup -------------------------------------------------------------------------------------

_FENCED = re.compile(r"```(?:[\w+#.-]*\n)?(.*?)(?:```|\Z)", re.S)
_INLINE_CODE = re.compile(r"`([^`\n]*)`")
# ``XxxError``/``XxxException``/``XxxWarning`` (+ ``KeyboardInterrupt``, ``SystemExit``), with the
# message that follows the colon on the same line.
_ERROR_LINE = re.compile(
    r"\b((?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Warning|Interrupt|Exit))\b(?::[ \t]*([^\n]*))?"
)
_MASKED_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?https?://[^)\s]*>?\s*\)")
_URL = re.compile(r"<?(?:https?://|www\.)[^\s<>]+>?", re.I)
# <@123> <@!123> <@&123> <#123> </cmd sub:123> <t:1700000000:R> <:name:123> <a:name:123>
_DISCORD_TOKEN = re.compile(r"<(?:@[!&]?\d+|#\d+|/[^<>:\n]+:\d+|t:-?\d+(?::[tTdDfFR])?|a?:\w+:\d+)>")
_EMOJI_SHORTCODE = re.compile(r"(?<!\w):[a-z0-9_+-]{2,32}:(?!\w)")
_TOKEN = re.compile(r"[^\W_]+(?:_[^\W_]+)*")


# Unicode emoji and their glue: pictographs, dingbats, misc symbols/arrows, regional indicators,
# skin tones, variation selectors, zero-width joiner, tag characters, keycap.
_EMOJI = re.compile(
    "[\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2900-\u297f\u2b00-\u2bff\u3030\u303d\u3297\u3299"
    "\ufe00-\ufe0f\u200d\u20e3\U0001f000-\U0001faff\U000e0020-\U000e007f]+"
)


def _keep_from_code_block(code: str) -> str:
    kept: list[str] = []
    for m in _ERROR_LINE.finditer(code):
        kept.append(m.group(1).rsplit(".", 1)[-1])
        if m.group(2):
            kept.append(m.group(2))
    return " " + " ".join(kept) + " "


def clean_markup(text: str) -> str:
    """Strip Discord/markdown markup, keeping the words a person would read as the question.

    Fenced code blocks are reduced to their error names and error messages; inline code, masked
    link texts and ordinary words are kept; URLs, mentions, channel links, timestamps and emoji are
    removed.
    """
    if "`" in text:
        text = _FENCED.sub(lambda m: _keep_from_code_block(m.group(1)), text)
        text = _INLINE_CODE.sub(lambda m: f" {m.group(1)} ", text)
    if "](" in text:
        text = _MASKED_LINK.sub(lambda m: f" {m.group(1)} ", text)
    if "http" in text or "www." in text or "HTTP" in text:
        text = _URL.sub(" ", text)
    if "<" in text:
        text = _DISCORD_TOKEN.sub(" ", text)
    if ":" in text:
        text = _EMOJI_SHORTCODE.sub(" ", text)
    if not text.isascii():
        text = _EMOJI.sub(" ", text)
    return text


def _fold(text: str) -> str:
    """Case-fold and strip accents (``Café`` -> ``cafe``)."""
    text = text.casefold()
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


def normalise(text: str) -> str:
    """Markup removed, case-folded, punctuation replaced by single spaces (no stemming)."""
    return " ".join(_TOKEN.findall(_fold(clean_markup(text))))


# --- terms --------------------------------------------------------------------------------------

# English function words plus the filler of help-forum posts ("hi guys, can anyone please help,
# thanks in advance"), which says nothing about what the question is.
_STOPWORDS_TEXT = """
a about above after again against all also am an and any are aren as at be because been before being
below between both but by can cannot could couldn d did didn do does doesn doing don down during
each few for from further had hadn has hasn have haven having he her here hers herself him himself
his how i if in into is isn it its itself just ll m me might more most must mustn my myself no nor
not now o of off on once only or other our ours ourselves out over own re s same shall shan she
should shouldn so some such t than that the their theirs them themselves then there these they this
those through to too under until up ve very was wasn we were weren what when where which while who
whom why will with won would wouldn y you your yours yourself yourselves u ur im ive id dont cant
pls plz please thanks thank thx tia advance hi hello hey dear guys guy folks everyone anyone anybody
someone somebody kindly regards cheers hii lol ok okay yes yeah really actually
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORDS_TEXT.split())

_stemmer = Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def _stem_cached(word: str) -> str:
    return str(_stemmer.stemWord(word))


def stem(word: str) -> str:
    """Snowball (Porter2) stem of one lower-case word."""
    return _stem_cached(word)


def terms(text: str, *, limit: int | None = None) -> list[str]:
    """Index terms of ``text``: normalised, stop-words removed, stemmed, in text order (repeats kept).

    Pure digits longer than 4 characters (ids, phone numbers, amounts) are dropped; short numbers
    (years, versions, ports) are kept.
    """
    toks = _TOKEN.findall(_fold(clean_markup(text)))
    out = [
        _stem_cached(t)
        for t in toks
        if t not in STOPWORDS and (len(t) > 1 or t.isdigit()) and not (len(t) > 4 and t.isdigit())
    ]
    return out[:limit] if limit is not None else out
