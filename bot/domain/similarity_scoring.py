"""How likely a solved thread answers a new question: a score in [0, 1] for every candidate.

The score is a logistic model over signals that each mean the same thing on a three-line
developer question and on a long forum post, because each is relative to the query itself or to
the other candidates, never an absolute number of one corpus:

``bm25``          BM25F of the query against the thread (title, question, code, accepted answer,
                  weighted by ``FIELD_WEIGHTS``), divided by the most the query could score: the
                  share of the query's IDF mass the thread covers, with term-frequency saturation.
``best_ratio``    the thread's BM25F over the best candidate's (1.0 for the best).
``margin``        how far the best candidate stands out from the second: (s1 - s2) / s1. A
                  question nothing answers gets several equally weak candidates.
``vs_mean``       the thread's BM25F over the mean of the top candidates (the server's own score
                  distribution for this query).
``cos_title``     IDF-weighted cosine of the query and the thread's title.
``cos_question``  IDF-weighted cosine of the query's words and the thread's title, question and
                  code words: the two posts asking the same thing, in both directions (a thread
                  whose own question is mostly absent from the new one asks something else).
``cover_question`` share of the query's IDF mass found in the title, question or code.
``cover_all``     the same, the accepted answer included.
``fuzzy_title``   share of the title's IDF mass found in the query, a title word absent from the
                  query still counting by its best rapidfuzz ``ratio`` (>= 80, squared) against a
                  query word: typo-tolerant (``accoount`` ~ ``account``).
``token_set``     rapidfuzz ``token_set_ratio`` of the query and the title terms.
``shared_rare``   log(1 + the IDF mass of the query words found in the thread's title, question or
                  code, counted in units of the IDF of a word no thread has): about how many rare
                  words the two posts share, an amount of evidence rather than a share.
``query_size``    log(1 + distinct query terms), counted up to ``QUERY_SIZE_CAP``: a short question
                  says less, but past a typical question's length more words are no more evidence
                  (a long forum post must not be trusted more for being long).

Two logistic models, both fitted by ``python -m benchmarks._rerank tune`` on the devhelp train and
dev splits only:

* the **ranking** model (``FULL_MODEL``, ``TITLES_MODEL``) over every candidate of a question,
  labelled by whether it answers it: it orders the candidates; SemEval-2016/17 train and dev check
  that this order also holds on long forum posts;
* the **show** model (``FULL_SHOW_MODEL``, ``TITLES_SHOW_MODEL``) over the signals of the *best*
  candidate only, labelled by whether the question has its answer among the suggestions: "is there
  an answer here at all?". Questions nothing answers share words with some thread too; what gives
  them away is a weak best candidate that barely stands out and covers little of either post.

A candidate's score is the show probability times its ranking score relative to the best one's, so
the first suggestion's score is the show model's estimate and the per-server threshold applies to
it; the next suggestions keep their order and their distance to the first.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

__all__ = [
    "FEATURES",
    "FIELD_WEIGHTS",
    "FULL_MODEL",
    "FULL_SHOW_MODEL",
    "QUERY_SIZE_CAP",
    "TITLES_MODEL",
    "TITLES_SHOW_MODEL",
    "DocTerms",
    "Model",
    "TermStats",
    "features",
    "score_many",
]

FEATURES: tuple[str, ...] = (
    "bm25",
    "best_ratio",
    "margin",
    "vs_mean",
    "cos_title",
    "cos_question",
    "cover_question",
    "cover_all",
    "fuzzy_title",
    "token_set",
    "shared_rare",
    "query_size",
)
FIELDS = ("title", "body", "code", "answer")
# BM25F field weights: a title word says most about the problem; the identifiers of pasted code
# count like prose (people paste the same code), the accepted answer half (it describes the fix,
# but names the same library, function and error). Chosen on devhelp train+dev ranking (P@1).
FIELD_WEIGHTS: Mapping[str, float] = {"title": 2.0, "body": 1.0, "code": 1.0, "answer": 0.5}
K1, B = 1.2, 0.75
QUERY_SIZE_CAP = 32  # distinct query terms (about the longest devhelp question; longer posts: no more)
TOP_FOR_MEAN = 10  # candidates whose mean BM25F is the "vs_mean" reference
FUZZY_CUTOFF = 80.0  # rapidfuzz ratio (0..100) below which two words do not count as the same
FUZZY_MIN_LEN = 5  # shorter words only match exactly


@dataclass(frozen=True)
class Model:
    """A logistic model: score = 1 / (1 + exp(-(intercept + sum of weight x feature)))."""

    weights: Mapping[str, float]
    intercept: float

    def score(self, feats: Mapping[str, float]) -> float:
        z = self.intercept + sum(w * feats[k] for k, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


# Fitted by ``python -m benchmarks._rerank tune`` (devhelp train+dev; test never used).
FULL_MODEL = Model(
    {
        "bm25": -6.6403,
        "best_ratio": 7.7566,
        "margin": 2.5278,
        "vs_mean": 1.5822,
        "cos_title": 1.9418,
        "cover_question": 5.8239,
        "cover_all": 4.5167,
        "fuzzy_title": 2.3363,
        "token_set": 0.485,
        "query_size": 3.4471,
    },
    -24.0429,
)
TITLES_MODEL = Model(
    {
        "bm25": -10.9939,
        "best_ratio": 3.6541,
        "margin": 1.0108,
        "cos_title": 10.0737,
        "fuzzy_title": -0.9247,
        "token_set": 3.6007,
        "query_size": 0.4568,
    },
    -8.7728,
)
# The show models: the best candidate's signals -> "the answer is among the suggestions".
FULL_SHOW_MODEL = Model(
    {
        "bm25": 10.2578,
        "margin": 2.4636,
        "cover_question": 3.8671,
        "cover_all": 4.0317,
        "cos_question": 3.1816,
        "vs_mean": 0.1397,
        "shared_rare": 1.9565,
        "query_size": 3.2243,
    },
    -17.3862,
)
TITLES_SHOW_MODEL = Model(
    {
        "bm25": 7.223,
        "margin": -0.8715,
        "cos_title": 5.9116,
        "token_set": -2.9661,
        "vs_mean": 0.3434,
        "query_size": 4.2417,
    },
    -9.9523,
)


@dataclass(frozen=True, slots=True)
class DocTerms:
    """Index terms of a solved thread, by field (``code``: identifiers of its code blocks)."""

    title: tuple[str, ...]
    body: tuple[str, ...]
    code: tuple[str, ...] = ()
    answer: tuple[str, ...] = ()

    def all(self) -> tuple[str, ...]:
        return self.title + self.body + self.code + self.answer


class TermStats:
    """Document frequencies and field lengths of one corpus (one server): IDF and BM25 norms."""

    __slots__ = ("_cache", "df", "lengths", "n_docs")

    def __init__(self) -> None:
        self.df: dict[str, int] = {}
        self.n_docs = 0
        self.lengths: dict[str, int] = dict.fromkeys(FIELDS, 0)
        self._cache: dict[str, float] = {}

    @classmethod
    def from_documents(cls, docs: Iterable[DocTerms]) -> TermStats:
        stats = cls()
        for doc in docs:
            stats.add(doc)
        return stats

    def add(self, doc: DocTerms) -> None:
        self._count(doc, 1)

    def discard(self, doc: DocTerms) -> None:
        self._count(doc, -1)

    def _count(self, doc: DocTerms, sign: int) -> None:
        df = self.df
        for w in set(doc.all()):
            c = df.get(w, 0) + sign
            if c > 0:
                df[w] = c
            else:
                df.pop(w, None)
        for f in FIELDS:
            self.lengths[f] = max(0, self.lengths[f] + sign * len(getattr(doc, f)))
        self.n_docs = max(0, self.n_docs + sign)
        self._cache.clear()

    def avg_length(self, field: str) -> float:
        return max(1.0, self.lengths[field] / self.n_docs) if self.n_docs else 1.0

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


def _bm25f(
    q_weights: Mapping[str, float], doc: DocTerms, stats: TermStats, fields: Mapping[str, float]
) -> float:
    """Sum over query words of weight x saturated field-weighted term frequency (not normalised)."""
    tf: dict[str, float] = {}
    for f, fw in fields.items():
        terms = getattr(doc, f)
        if not terms or not fw:
            continue
        norm = fw / (1.0 - B + B * len(terms) / stats.avg_length(f))
        for w in terms:
            if w in q_weights:
                tf[w] = tf.get(w, 0.0) + norm
    return sum(q_weights[w] * t / (K1 + t) for w, t in tf.items())


def _cosine(q: Mapping[str, float], d: Iterable[str], idf: Mapping[str, float], q_norm: float) -> float:
    d_set = set(d)
    d_norm = math.sqrt(sum(idf[w] ** 2 for w in d_set))
    if not d_norm or not q_norm:
        return 0.0
    return sum(idf[w] ** 2 for w in q if w in d_set) / (q_norm * d_norm)


def _fuzzy_neighbours(q_set: Iterable[str], others: list[str]) -> dict[str, float]:
    """Best rapidfuzz similarity (squared, >= the cutoff) of each of ``others`` to a query word."""
    q_long = [w for w in q_set if len(w) >= FUZZY_MIN_LEN]
    near: dict[str, float] = {}
    if q_long and others:
        m = process.cdist(q_long, others, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, dtype="uint8")
        rows, cols = m.nonzero()
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            sim = (int(m[r, c]) / 100.0) ** 2
            if sim > near.get(others[c], 0.0):
                near[others[c]] = sim
    return near


def features(
    query: Sequence[str],
    docs: Sequence[DocTerms],
    stats: TermStats,
    fields: Mapping[str, float] = FIELD_WEIGHTS,
) -> list[dict[str, float]]:
    """The signals of ``FEATURES`` for one query (its index terms) against each candidate."""
    counts = Counter(query)
    if not counts or not docs:
        return [dict.fromkeys(FEATURES, 0.0) for _ in docs]
    idf: dict[str, float] = {w: stats.idf(w) for w in counts}
    q_weights = {w: idf[w] * (1.0 + math.log(c)) for w, c in counts.items()}
    q_max = sum(q_weights.values())
    raw = [_bm25f(q_weights, d, stats, fields) for d in docs]
    ordered = sorted(raw, reverse=True)
    best, second = ordered[0], ordered[1] if len(ordered) > 1 else 0.0
    top = ordered[:TOP_FOR_MEAN]
    mean = sum(top) / len(top)
    for d in docs:
        for w in d.title:
            if w not in idf:
                idf[w] = stats.idf(w)
    q_norm = math.sqrt(sum(idf[w] ** 2 for w in counts))
    q_mass = sum(idf[w] for w in counts)
    unseen_idf = math.log(1.0 + (stats.n_docs + 0.5) / 0.5)  # the IDF of a word no thread has
    q_size = math.log1p(min(len(counts), QUERY_SIZE_CAP))
    q_str = " ".join(counts)
    near = _fuzzy_neighbours(counts, sorted({w for d in docs for w in d.title if w not in counts}))
    out: list[dict[str, float]] = []
    for d, s in zip(docs, raw, strict=True):
        asked = set(d.title) | set(d.body) | set(d.code)
        for w in asked:
            if w not in idf:
                idf[w] = stats.idf(w)
        found = sum(idf[w] for w in counts if w in asked)
        found_all = found + sum(idf[w] for w in counts if w not in asked and w in d.answer)
        t_set = set(d.title)
        t_mass = sum(idf[w] for w in t_set)
        fuzzy_t = sum(idf[w] * (1.0 if w in counts else near.get(w, 0.0)) for w in t_set)
        out.append(
            {
                "bm25": s / q_max if q_max else 0.0,
                "best_ratio": s / best if best else 0.0,
                "margin": (best - second) / best if best else 0.0,
                "vs_mean": s / mean if mean else 0.0,
                "cos_title": _cosine(counts, t_set, idf, q_norm),
                "cos_question": _cosine(counts, asked, idf, q_norm),
                "cover_question": found / q_mass if q_mass else 0.0,
                "cover_all": found_all / q_mass if q_mass else 0.0,
                "fuzzy_title": fuzzy_t / t_mass if t_mass else 0.0,
                "token_set": fuzz.token_set_ratio(q_str, " ".join(d.title)) / 100.0 if d.title else 0.0,
                "shared_rare": math.log1p(found / unseen_idf),
                "query_size": q_size,
            }
        )
    return out


def score_many(
    query: Sequence[str],
    docs: Sequence[DocTerms],
    stats: TermStats,
    model: Model = FULL_MODEL,
    fields: Mapping[str, float] = FIELD_WEIGHTS,
    show: Model | None = FULL_SHOW_MODEL,
) -> list[float]:
    """The score in [0, 1] of each of ``docs`` for ``query`` (index terms): the ranking ``model``'s
    score, or with a ``show`` model the show model's estimate for the best candidate times each
    candidate's ranking score relative to the best one's (same order, calibrated first score)."""
    feats = features(query, docs, stats, fields)
    ranks = [model.score(f) for f in feats]
    if show is None or not ranks:
        return ranks
    best = max(range(len(ranks)), key=ranks.__getitem__)
    top = ranks[best]
    if top <= 0.0:
        return [0.0] * len(ranks)
    p = show.score(feats[best])
    return [p * r / top for r in ranks]
