"""Text as developers write it, in one place: Unicode clean-up, Discord markdown, index terms.

* :mod:`~bot.domain.text.unicode`: NFKC and invisible characters (matching, naming, rendering).
* :mod:`~bot.domain.text.markdown`: markdown recognised only where it is markdown; code segments.
* :mod:`~bot.domain.text.tokens`: index terms for matching (identifiers whole and split).

Thread names (:mod:`bot.domain.naming`) and answer excerpts (:mod:`bot.domain.suggestions`) are
built from these pieces.
"""

from bot.domain.text.tokens import STOPWORDS, SplitTerms, clean_markup, normalise, split_terms, stem, terms
from bot.domain.text.unicode import has_word_char, normalize

__all__ = [
    "STOPWORDS",
    "SplitTerms",
    "clean_markup",
    "has_word_char",
    "normalise",
    "normalize",
    "split_terms",
    "stem",
    "terms",
]
