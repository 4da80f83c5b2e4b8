"""The similarity score between a new question and a solved thread, in [0, 1].

The score is a weighted sum of signals that are each in [0, 1], with non-negative weights that sum
to 1, so 1.0 means "same words" and the value is comparable across queries and servers (the bot
shows suggestions only above a per-server threshold).

Signals, for a query ``q`` (its index terms) and a document with title terms ``t`` and question
terms ``b`` (``a`` = ``t`` + ``b``), words weighted by their IDF in the server's corpus:

``cos_all``      IDF-weighted cosine of the term sets of ``q`` and ``a``.
``cos_title``    IDF-weighted cosine of ``q`` and ``t`` (the title says what the thread is about).
``cover_query``  share of the query's IDF mass found in ``a`` (exact terms).
``fuzzy_title``  share of the title's IDF mass found in ``q``, where a title word absent from ``q``
                 still counts by its best rapidfuzz ``ratio`` (>= 80, squared) against a query word:
                 typo-tolerant (``accoount`` ~ ``account``).
``fuzzy_query``  the same, for the query's words against ``a``.
``token_set``    rapidfuzz ``token_set_ratio`` of the query and the title terms.

Weights were tuned on the SemEval-2016/2017 Task 3B train and dev splits only (``python -m
benchmarks.similar`` shows the figures); see ``WEIGHTS`` and ``TITLE_WEIGHTS``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

__all__ = [
    "FEATURES",
    "TITLE_WEIGHTS",
    "WEIGHTS",
    "DocTerms",
    "TermStats",
    "features",
    "score_many",
]

FEATURES: tuple[str, ...] = (
    "cos_all",
    "cos_title",
    "cover_query",
    "fuzzy_title",
    "fuzzy_query",
    "token_set",
)

# Tuned by ``python -m benchmarks._rerank tune`` (random search over the simplex, maximising MAP of the
# official re-ranking protocol over train_part2 + train_part1_v2.0 + dev; test sets never used).
# Full text (query = title + body): train_part2 75.57 / train_part1_v2.0 67.98 / dev 71.90 MAP
# (dev MRR 78.17; the search engine's own order: 71.35 dev MAP).
WEIGHTS: Mapping[str, float] = {
    "cos_all": 0.236,
    "cos_title": 0.288,
    "cover_query": 0.0,
    "fuzzy_title": 0.112,
    "fuzzy_query": 0.364,
    "token_set": 0.0,
}
# Titles only on both sides (``titles_only`` mode): train_part2 69.07 / train_part1_v2.0 63.91 /
# dev 66.40 MAP (dev MRR 75.92).
TITLE_WEIGHTS: Mapping[str, float] = {
    "cos_all": 0.034,
    "cos_title": 0.087,
    "cover_query": 0.18,
    "fuzzy_title": 0.109,
    "fuzzy_query": 0.145,
    "token_set": 0.446,
}

FUZZY_CUTOFF = 80.0  # rapidfuzz ratio (0..100) below which two words do not count as the same
FUZZY_MIN_LEN = 5  # shorter words only match exactly


class TermStats:
    """Document frequencies of one corpus (one server), giving IDF weights."""

    __slots__ = ("_cache", "df", "n_docs")

    def __init__(self, df: Mapping[str, int] | None = None, n_docs: int = 0) -> None:
        self.df: dict[str, int] = dict(df or {})
        self.n_docs = n_docs
        self._cache: dict[str, float] = {}

    @classmethod
    def from_documents(cls, docs: Iterable[Iterable[str]]) -> TermStats:
        stats = cls()
        for terms in docs:
            stats.add(terms)
        return stats

    def add(self, terms: Iterable[str]) -> None:
        df = self.df
        for w in set(terms):
            df[w] = df.get(w, 0) + 1
        self.n_docs += 1
        self._cache.clear()

    def discard(self, terms: Iterable[str]) -> None:
        df = self.df
        for w in set(terms):
            c = df.get(w, 0) - 1
            if c > 0:
                df[w] = c
            else:
                df.pop(w, None)
        self.n_docs = max(0, self.n_docs - 1)
        self._cache.clear()

    def idf(self, word: str) -> float:
        """BM25's IDF with +1 inside the log, so it is always > 0."""
        v = self._cache.get(word)
        if v is None:
            n = self.df.get(word, 0)
            v = math.log(1.0 + (self.n_docs - n + 0.5) / (n + 0.5))
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[word] = v
        return v


@dataclass(frozen=True, slots=True)
class DocTerms:
    title: tuple[str, ...]
    body: tuple[str, ...]


def _norm(words: Iterable[str], idf: Mapping[str, float]) -> float:
    return math.sqrt(sum(idf[w] ** 2 for w in words))


def features(query: Sequence[str], docs: Sequence[DocTerms], stats: TermStats) -> list[dict[str, float]]:
    """The signals of ``FEATURES`` for one query against each document."""
    q_set = dict.fromkeys(query)
    out: list[dict[str, float]] = []
    if not q_set:
        return [dict.fromkeys(FEATURES, 0.0) for _ in docs]
    # IDF of every word involved, once.
    idf: dict[str, float] = {w: stats.idf(w) for w in q_set}
    doc_sets: list[tuple[dict[str, None], dict[str, None]]] = []
    for d in docs:
        t_set = dict.fromkeys(d.title)
        a_set = dict.fromkeys(d.title + d.body)
        for w in a_set:
            if w not in idf:
                idf[w] = stats.idf(w)
        doc_sets.append((t_set, a_set))

    # Fuzzy neighbours: one rapidfuzz cdist between the query's long words and the candidates' long
    # words that are not query words.
    q_long = [w for w in q_set if len(w) >= FUZZY_MIN_LEN]
    others = [w for w in idf if w not in q_set and len(w) >= FUZZY_MIN_LEN]
    near_q: dict[str, dict[str, float]] = {}  # query word -> {doc word: sim}
    near_d: dict[str, float] = {}  # doc word -> best sim to a query word
    if q_long and others:
        m = process.cdist(q_long, others, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, dtype="uint8")
        rows, cols = m.nonzero()
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            sim = (int(m[r, c]) / 100.0) ** 2
            qw, dw = q_long[r], others[c]
            near_q.setdefault(qw, {})[dw] = sim
            if sim > near_d.get(dw, 0.0):
                near_d[dw] = sim

    q_norm = _norm(q_set, idf)
    q_mass = sum(idf[w] for w in q_set)
    q_str = " ".join(q_set)
    for t_set, a_set in doc_sets:
        inter_a = [w for w in q_set if w in a_set]
        a_norm = _norm(a_set, idf)
        t_norm = _norm(t_set, idf)
        dot_a = sum(idf[w] ** 2 for w in inter_a)
        dot_t = sum(idf[w] ** 2 for w in q_set if w in t_set)
        cover_q = sum(idf[w] for w in inter_a)
        fuzzy_q = cover_q
        for w, nb in near_q.items():
            if w not in a_set:
                best = max((s for dw, s in nb.items() if dw in a_set), default=0.0)
                fuzzy_q += idf[w] * best
        t_mass = sum(idf[w] for w in t_set)
        fuzzy_t = sum(idf[w] * (1.0 if w in q_set else near_d.get(w, 0.0)) for w in t_set)
        out.append(
            {
                "cos_all": dot_a / (q_norm * a_norm) if a_norm else 0.0,
                "cos_title": dot_t / (q_norm * t_norm) if t_norm else 0.0,
                "cover_query": cover_q / q_mass if q_mass else 0.0,
                "fuzzy_title": fuzzy_t / t_mass if t_mass else 0.0,
                "fuzzy_query": fuzzy_q / q_mass if q_mass else 0.0,
                "token_set": fuzz.token_set_ratio(q_str, " ".join(t_set)) / 100.0 if t_set else 0.0,
            }
        )
    return out


def combine(feats: Mapping[str, float], weights: Mapping[str, float]) -> float:
    s = sum(weights[k] * feats[k] for k in weights)
    return min(1.0, max(0.0, s))


def score_many(
    query: Sequence[str],
    docs: Sequence[DocTerms],
    stats: TermStats,
    weights: Mapping[str, float] = WEIGHTS,
) -> list[float]:
    """Similarity in [0, 1] of ``query`` (index terms) to each of ``docs``."""
    return [combine(f, weights) for f in features(query, docs, stats)]
