"""Unicode clean-up shared by matching, naming and rendering.

Text pasted from web pages, PDFs and chat apps carries characters nobody sees: zero-width spaces,
soft hyphens, bidi controls, word joiners, variation selectors, Hangul fillers. Inside a word they
split it in two for a matcher (``avatar\\u200b_url`` is not ``avatar_url``), and a thread name made
only of them looks blank. :func:`normalize` removes them after NFKC, which also folds look-alike
forms (full-width letters, ligatures, mathematical bold) to the letters people type.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["has_word_char", "normalize"]

# Invisible characters: controls other than tab and newline; every format (Cf) character of
# Unicode 15 (soft hyphen, zero-width space/joiners, bidi marks, embeddings and isolates, word
# joiner, invisible operators, BOM, interlinear annotation, tags and the few historic ones);
# variation selectors and the combining grapheme joiner; blank "letters" that render as nothing
# (Hangul fillers, braille blank), often used to make a name look empty.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\U000e0100-\U000e01ef]+"
)
# Line and paragraph separators and the other Unicode spaces become a plain space or newline.
_NEWLINES = re.compile("\r\n?|[\u2028\u2029\x85]")
_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")


def normalize(text: str) -> str:
    """NFKC, invisible and control characters removed, every line break a ``\\n``.

    Idempotent. Removing happens after NFKC because NFKC itself can produce a filler
    (U+3164 becomes U+1160), and again before, so that a soft hyphen can't keep two halves of a
    word apart during composition.
    """
    if text.isascii():
        return _INVISIBLE.sub("", _NEWLINES.sub("\n", text))
    text = _INVISIBLE.sub("", _NEWLINES.sub("\n", text))
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", _NEWLINES.sub("\n", text))
    return _SPACES.sub(" ", text)


def has_word_char(text: str) -> bool:
    """Whether ``text`` has at least one letter or digit (so a reader sees words, not symbols)."""
    return any(ch.isalnum() for ch in text)
