"""Re-ranking runs (official protocol) for the project's matcher and the baselines, and weight tuning.

``python -m benchmarks._rerank tune`` re-derives the weights of ``bot.domain.similarity_scoring``
from train_part2 + train_part1_v2.0 + dev only (test2016/test2017 are never looked at).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Mapping, Sequence

import bm25s
import Stemmer
from rapidfuzz import fuzz

from benchmarks import _semeval as sem
from bot.domain.matching import doc_terms, query_terms
from bot.domain.similarity_scoring import FEATURES, WEIGHTS, DocTerms, TermStats, combine, features

_STEMMER = Stemmer.Stemmer("english")
TUNE_SPLITS = ("train_part2", "train_part1_v2.0", "dev")

FeatureTable = dict[tuple[str, str], dict[str, float]]


class Corpus:
    """Index terms of every question of questions.jsonl and their document frequencies."""

    def __init__(self, data: sem.Dataset, *, titles_only: bool = False) -> None:
        self.data = data
        self.titles_only = titles_only
        self.docs: dict[str, DocTerms] = {}
        self.queries: dict[str, list[str]] = {}
        for qid, q in data.questions.items():
            body = "" if titles_only else q.body
            self.docs[qid] = doc_terms(q.title, body)
            self.queries[qid] = query_terms(q.title if titles_only else f"{q.title}\n{q.body}")
        self.stats = TermStats.from_documents(d.title + d.body for d in self.docs.values())

    def feature_table(self, splits: Sequence[str]) -> FeatureTable:
        table: FeatureTable = {}
        for split in splits:
            for q in self.data.splits[split]:
                fs = features(self.queries[q.query_id], [self.docs[c] for c in q.candidates], self.stats)
                for c, f in zip(q.candidates, fs, strict=True):
                    table[(q.query_id, c)] = f
        return table


def matcher_rankings(
    data: sem.Dataset, table: FeatureTable, split: str, weights: Mapping[str, float] = WEIGHTS
) -> dict[str, list[str]]:
    return sem.rerank(data.splits[split], lambda q, c: combine(table[(q.query_id, c)], weights))


def token_set_rankings(data: sem.Dataset, split: str) -> dict[str, list[str]]:
    """rapidfuzz token_set_ratio on the raw titles (lower-cased), nothing else."""
    qs = data.questions
    return sem.rerank(
        data.splits[split],
        lambda q, c: fuzz.token_set_ratio(qs[q.query_id].title.lower(), qs[c].title.lower()),
    )


def _bm25s_tokenize(texts: list[str]) -> list[list[str]]:
    tokens: list[list[str]] = bm25s.tokenize(
        texts, stopwords="en", stemmer=_STEMMER.stemWords, return_ids=False, show_progress=False
    )
    return tokens


def bm25s_rankings(data: sem.Dataset, split: str) -> dict[str, list[str]]:
    """bm25s as its README sets it up (its tokenizer, English stop-words, PyStemmer), over title + body;
    the query's title + body is the query; IDF from the whole questions corpus."""
    ids = list(data.questions)
    texts = [f"{data.questions[i].title}\n{data.questions[i].body}" for i in ids]
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER.stemWords, show_progress=False),
        show_progress=False,
    )
    row = {qid: i for i, qid in enumerate(ids)}
    out: dict[str, list[str]] = {}
    for q in data.splits[split]:
        qtok = _bm25s_tokenize([texts[row[q.query_id]]])[0]
        scores = retriever.get_scores(qtok) if qtok else None
        sc = {c: float(scores[row[c]]) if scores is not None else 0.0 for c in q.candidates}
        out[q.query_id] = sorted(q.candidates, key=lambda c: -sc[c])
    return out


def _objective(data: sem.Dataset, table: FeatureTable, weights: Mapping[str, float]) -> float:
    total = n = 0.0
    for split in TUNE_SPLITS:
        queries = data.splits[split]
        rankings = matcher_rankings(data, table, split, weights)
        total += sem.evaluate_rankings(queries, rankings).map * len(queries)
        n += len(queries)
    return total / n


def tune(data: sem.Dataset, *, titles_only: bool, iterations: int = 600, seed: int = 0) -> dict[str, float]:
    """Random search + local perturbation of simplex weights, maximising query-weighted MAP."""
    table = Corpus(data, titles_only=titles_only).feature_table(TUNE_SPLITS)
    rng = random.Random(seed)
    best_w: dict[str, float] = {k: 1 / len(FEATURES) for k in FEATURES}
    best = _objective(data, table, best_w)
    for _ in range(iterations):
        if rng.random() < 0.3:
            w = {k: rng.random() for k in FEATURES}
        else:
            w = {k: max(0.0, best_w[k] + rng.gauss(0, 0.1)) for k in FEATURES}
        total = sum(w.values()) or 1.0
        w = {k: v / total for k, v in w.items()}
        o = _objective(data, table, w)
        if o > best:
            best, best_w = o, w
    rounded = {k: round(v, 3) for k, v in best_w.items()}
    print(f"titles_only={titles_only}: tune MAP {best:.2f}", rounded)
    for split in TUNE_SPLITS:
        s = sem.evaluate_rankings(data.splits[split], matcher_rankings(data, table, split, best_w))
        print(f"  {split}: MAP {s.map:.2f} MRR {s.mrr:.2f}")
    return rounded


if __name__ == "__main__":
    if sys.argv[1:] == ["tune"]:
        d = sem.load()
        tune(d, titles_only=False)
        tune(d, titles_only=True)
    else:
        print("usage: python -m benchmarks._rerank tune")
        sys.exit(2)
