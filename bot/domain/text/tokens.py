"""Index terms for matching: the words of a question as developers write them.

A message becomes plain text (:mod:`bot.domain.text.markdown`), URLs and emoji are removed, and
every token is case-folded and accent-stripped. An identifier is kept whole *and* split into its
words, so the one written in code meets the one written in prose: ``read_csv`` gives ``read_csv``,
``read``, ``csv``; ``useEffect`` gives ``useeffect``, ``use``, ``effect``; ``__init__.py`` gives
``__init__.py``, ``init``, ``py``. Words are stop-word filtered (with the filler of help posts:
"hi guys, thanks in advance") and Snowball-stemmed (``visas``/``visa``, ``applying``/``apply``);
identifiers are not stemmed.

Fenced code blocks are mostly noise for "is this the same question?", except the error names and
the error message of a traceback line (``ModuleNotFoundError: No module named 'discord'``), the
most specific words a help question has: :func:`split_terms` returns those with the prose, and the
block's other identifiers separately, so a caller can weigh them less.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

from bot.domain.text.markdown import Kind, Segment, plain_prose, segments
from bot.domain.text.unicode import normalize

__all__ = [
    "STOPWORDS",
    "SplitTerms",
    "clean_markup",
    "error_lines",
    "normalise",
    "split_terms",
    "stem",
    "terms",
]

# ``XxxError``/``XxxException``/``XxxWarning`` (+ ``KeyboardInterrupt``, ``SystemExit``) with the
# message after the colon; ``error: …``/``error[E0382]: …`` compiler lines; ``npm ERR!`` lines.
_ERROR_LINE = re.compile(
    r"\b((?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Warning|Interrupt|Exit))\b(?::[ \t]*([^\n]*))?"
    r"|^[ \t]*(?:error|fatal|panic|warning)(?:\[\w+\])?:[ \t]*([^\n]*)"
    r"|\b(E[A-Z]{3,}[A-Z_]*|ERR_[A-Z_]+)\b",
    re.M | re.I,
)
_URL = re.compile(r"<?(?:https?://|www\.)[^\s<>]+>?", re.I)
# Unicode emoji and their glue: pictographs, dingbats, misc symbols/arrows, regional indicators,
# skin tones, keycap.
_EMOJI = re.compile(
    "[\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2900-\u297f\u2b00-\u2bff\u20e3\U0001f000-\U0001faff]+"
)
# A token: word characters joined by single dots or hyphens (``pd.read_csv``, ``node-fetch``, ``3.11``).
_TOKEN = re.compile(r"\w+(?:[.\-]\w+)*")
_PIECES = re.compile(r"[.\-]")
# Where an identifier splits into words: ``_`` and case changes (``useEffect``, ``HTTPServer``).
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_]+")


def _code_block_text(seg: Segment) -> str:
    return " " + " ".join(error_lines(seg.text)) + " "


def error_lines(code: str) -> list[str]:
    """The error names and messages in ``code`` (a traceback's last line, a compiler's
    ``error: …``, an errno such as ``EADDRINUSE``), in order."""
    kept: list[str] = []
    for m in _ERROR_LINE.finditer(code):
        name, message, compiler, errno = m.groups()
        if name:
            short = name.rsplit(".", 1)[-1]
            kept.append(f"{short}: {message}" if message else short)
        elif compiler:
            kept.append(compiler)
        elif errno:
            kept.append(errno)
    return kept


def clean_markup(text: str) -> str:
    """Plain text for matching: markdown, URLs, mentions and emoji removed; a fenced code block
    reduced to its error names and error messages; inline code and masked link texts kept."""
    text = normalize(text)
    text = plain_prose(
        segments(text), lambda s: _code_block_text(s) if s.kind is Kind.BLOCK else f" {s.text} "
    )
    if "http" in text or "www." in text or "HTTP" in text:
        text = _URL.sub(" ", text)
    if not text.isascii():
        text = _EMOJI.sub(" ", text)
    return text


def _fold(text: str) -> str:
    """Strip accents (``Café`` -> ``Cafe``), keeping case (identifier splitting needs it)."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in text if not unicodedata.combining(ch)))


def normalise(text: str) -> str:
    """Markup removed, case-folded, accents stripped, punctuation between tokens replaced by single
    spaces (identifiers stay whole; no stemming)."""
    return " ".join(t.casefold() for t in _TOKEN.findall(_fold(clean_markup(text))))


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
MAX_NUMBER_DIGITS = 6  # longer numbers are ids, phone numbers, amounts: never the same twice
MAX_NUMBER_PARTS = 3  # an "identifier" with more runs of digits is a hash or an id

_stemmer = Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def _stem_cached(word: str) -> str:
    return str(_stemmer.stemWord(word))


def stem(word: str) -> str:
    """Snowball (Porter2) stem of one lower-case word."""
    return _stem_cached(word)


def _keep(word: str) -> bool:
    if word.isdigit():
        return len(word) <= MAX_NUMBER_DIGITS
    return len(word) > 1 and word not in STOPWORDS


def _word_terms(piece: str) -> list[str]:
    """Terms of one piece without dots or hyphens: a word stemmed; an identifier (``read_csv``,
    ``useEffect``) whole and split into its words."""
    lower = piece.casefold()
    if lower.isalpha() and (piece.islower() or piece.isupper() or piece.istitle()):
        return [_stem_cached(lower)] if _keep(lower) else []
    parts = _PARTS.findall(piece)
    if len(parts) <= 1:
        word = parts[0].casefold() if parts else lower.strip("_")
        return [_stem_cached(word)] if word and _keep(word) else []
    if sum(p.isdigit() for p in parts) > MAX_NUMBER_PARTS:  # a hash, an object id, a token
        return []
    out = [lower]
    for p in parts:
        p = p.casefold()
        if _keep(p):
            out.append(p if p.isdigit() else _stem_cached(p))
    return out


@lru_cache(maxsize=200_000)
def _token_terms(token: str) -> tuple[str, ...]:
    """Terms of one token: ``pd.read_csv`` gives itself, then the terms of ``pd`` and ``read_csv``
    (``read_csv``, ``read``, ``csv``), so each level meets the same name written another way."""
    pieces = _PIECES.split(token)
    if len(pieces) == 1:
        return tuple(_word_terms(token))
    out: list[str] = []
    for piece in pieces:
        out += _word_terms(piece)
    if len(out) > 1 or (out and out[0] != token.casefold()):
        out.insert(0, token.casefold())
    return tuple(out)


def _terms_of(text: str) -> list[str]:
    out: list[str] = []
    for tok in _TOKEN.findall(_fold(text)):
        out += _token_terms(tok)
    return out


def terms(text: str, *, limit: int | None = None) -> list[str]:
    """Index terms of ``text`` in text order (repeats kept): identifiers whole and split, words
    stop-word filtered and stemmed, long numbers dropped."""
    out = _terms_of(clean_markup(text))
    return out[:limit] if limit is not None else out


@dataclass(frozen=True, slots=True)
class SplitTerms:
    """The terms of a message: what it says (prose, inline code, error lines of code blocks) and
    the other identifiers of its code blocks."""

    prose: list[str]
    code: list[str]


def split_terms(text: str) -> SplitTerms:
    """:func:`terms` of ``text``, plus the terms of its fenced code blocks apart from error lines."""
    text = normalize(text)
    parts = segments(text)
    code = [seg.text for seg in parts if seg.kind is Kind.BLOCK]
    return SplitTerms(terms(text), _terms_of(" ".join(code)) if code else [])
