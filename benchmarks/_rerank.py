"""Fitting the matcher's model, and the SemEval re-ranking runs of the matcher and the baselines.

``python -m benchmarks._rerank tune`` fits the logistic models of
``bot.domain.similarity_scoring`` on the devhelp **train and dev** splits only: the ranking models
(``FULL_MODEL``, ``TITLES_MODEL``; every candidate the index scores for a question is an example,
labelled by whether it answers the question) and the show models (``FULL_SHOW_MODEL``,
``TITLES_SHOW_MODEL``; the best candidate of each question, labelled by whether the answer is among
the suggestions). It then picks the operating point on 5-fold cross-validated scores of the same
splits (the most questions whose first shown suggestion is right, with at most one no-match
question in eight shown anything) and moves the show model's intercept so that the shipped default
threshold (``DEFAULT_MIN_SCORE``) sits at that point. It prints the SemEval train and dev MAP of
the ranking model as a check that it holds on long forum posts. The test splits are never read here.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer
from rapidfuzz import fuzz

from benchmarks import _devhelp as dh
from benchmarks import _semeval as sem
from bot.domain.matching import (
    CANDIDATES,
    DEFAULT_MIN_SCORE,
    SimilarityIndex,
    SolvedThreadDoc,
    doc_terms,
    query_terms,
    shown_count,
)
from bot.domain.similarity_scoring import (
    FEATURES,
    FIELD_WEIGHTS,
    FULL_MODEL,
    DocTerms,
    Model,
    TermStats,
    features,
)
from bot.domain.text import terms

_STEMMER = Stemmer.Stemmer("english")
TUNE_SPLITS = ("train_part2", "train_part1_v2.0", "dev")
DEVHELP_TUNE = ("train", "dev")
MAX_NOMATCH_SHOWN = 1 / 8  # share of no-match questions allowed a suggestion at the operating point
FIT_CANDIDATES = 20  # candidates per question used as examples (the search scores 15: more negatives)
L2 = 0.001  # light: the features are few and standardised
L2_SHOW = 0.01  # the show model learns from one example per question: a little more
CV_FOLDS = 5
OUTSIDE_QUESTIONS = 60  # SemEval train questions used as "nothing here answers it" examples

FeatureTable = dict[tuple[str, str], dict[str, float]]


# --- SemEval ------------------------------------------------------------------------------------


class Corpus:
    """Index terms of every question of questions.jsonl and their statistics (one "server")."""

    def __init__(self, data: sem.Dataset, *, titles_only: bool = False) -> None:
        self.data = data
        self.titles_only = titles_only
        self.fields = {"title": 1.0} if titles_only else FIELD_WEIGHTS
        self.docs: dict[str, DocTerms] = {}
        self.queries: dict[str, list[str]] = {}
        for qid, q in data.questions.items():
            self.docs[qid] = doc_terms(q.title, "" if titles_only else q.body)
            self.queries[qid] = terms(q.title) if titles_only else query_terms(f"{q.title}\n{q.body}")
        self.stats = TermStats.from_documents(self.docs.values())

    def feature_table(self, splits: Sequence[str]) -> FeatureTable:
        """The signals of each query's labelled candidates (the engine's 10 are the candidates)."""
        table: FeatureTable = {}
        for split in splits:
            for q in self.data.splits[split]:
                docs = [self.docs[c] for c in q.candidates]
                fs = features(self.queries[q.query_id], docs, self.stats, self.fields)
                for c, f in zip(q.candidates, fs, strict=True):
                    table[(q.query_id, c)] = f
        return table


def matcher_rankings(
    data: sem.Dataset, table: FeatureTable, split: str, model: Model = FULL_MODEL
) -> dict[str, list[str]]:
    return sem.rerank(data.splits[split], lambda q, c: model.score(table[(q.query_id, c)]))


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


# --- devhelp: the examples the model is fitted on --------------------------------------------------


def devhelp_index(data: dh.Dataset, *, titles_only: bool) -> tuple[SimilarityIndex, dict[int, str]]:
    """All threads as one server, as the bot indexes them."""
    index = SimilarityIndex(titles_only=titles_only)
    num = {t.id: i + 1 for i, t in enumerate(data.threads)}
    index.add_many(
        SolvedThreadDoc(num[t.id], dh.GUILD, 1, t.title, t.question, t.answer) for t in data.threads
    )
    return index, {v: k for k, v in num.items()}


def devhelp_examples(
    data: dh.Dataset, splits: Sequence[str], *, titles_only: bool
) -> list[tuple[dh.Query, list[tuple[str, dict[str, float]]]]]:
    """For each question of ``splits``: the candidates the index scores and their signals."""
    index, ids = devhelp_index(data, titles_only=titles_only)
    out = []
    for q in data.split(*splits):
        text = q.title if titles_only else f"{q.title}\n{q.question}"
        got = index.explain(dh.GUILD, text, candidates=FIT_CANDIDATES)
        out.append((q, [(ids[tid], f) for tid, f in got]))
    return out


def fit_logistic(
    x: np.ndarray, y: np.ndarray, *, l2: float = L2, steps: int = 4000
) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by gradient descent on standardised features; returns the
    weights and intercept on the original scale."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mu) / sd
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        w -= 0.5 * (z.T @ (p - y) / len(y) + l2 * w)
        b -= 0.5 * float((p - y).mean())
    return w / sd, b - float((w * mu / sd).sum())


Examples = list[tuple[dh.Query, list[tuple[str, dict[str, float]]]]]
Scored = list[tuple[dh.Query, list[tuple[float, str]]]]


Candidates = list[tuple[str, dict[str, float]]]


def ranked(cands: Candidates, rank: Model) -> list[tuple[float, str, dict[str, float]]]:
    """The candidates the search scores (its first ``CANDIDATES``), best first by the ranking model."""
    got = [(rank.score(f), t, f) for t, f in cands[:CANDIDATES]]
    return sorted(got, key=lambda r: -r[0])


def scored(examples: Examples, rank: Model, show: Model) -> Scored:
    """Each question's suggestions (best first) with the scores the bot gives them
    (:func:`bot.domain.similarity_scoring.score_many`)."""
    out: Scored = []
    for q, cands in examples:
        r = ranked(cands, rank)[: dh.SHOWN]
        p = show.score(r[0][2]) if r and r[0][0] > 0 else 0.0
        out.append((q, [(p * s / r[0][0], t) for s, t, _ in r] if p else []))
    return out


def shown_figures(items: Scored, threshold: float) -> tuple[float, float]:
    """(shown P@1 over answerable questions, share of no-match questions shown something)."""
    right = answerable = shown_nomatch = nomatch = 0
    for q, r in items:
        shown = [t for _, t in r][: shown_count([s for s, _ in r], threshold)]
        if q.relevant:
            answerable += 1
            right += bool(shown) and shown[0] in q.relevant
        else:
            nomatch += 1
            shown_nomatch += bool(shown)
    return right / max(1, answerable), shown_nomatch / max(1, nomatch)


def operating_point(items: Scored) -> tuple[float, float]:
    """(shown P@1, threshold): the most questions whose first shown suggestion is right with at most
    ``MAX_NOMATCH_SHOWN`` no-match questions shown anything; the middle of the run of thresholds
    that reach it, so that neither the last answer kept nor the first no-match question kept out
    sits on the edge."""
    grid = [round(float(t), 3) for t in np.arange(0.02, 0.981, 0.005)]
    figures = [shown_figures(items, t) for t in grid]
    best = max(p1 for p1, false_rate in figures if false_rate <= MAX_NOMATCH_SHOWN)
    ok = [t for t, (p1, fr) in zip(grid, figures, strict=True) if p1 == best and fr <= MAX_NOMATCH_SHOWN]
    run = [ok[0]]
    for t in ok[1:]:  # the first contiguous run of best thresholds
        if round(t - run[-1], 3) > 0.005:
            break
        run.append(t)
    return best, (run[0] + run[-1]) / 2


def _fit(rows: list[tuple[dict[str, float], bool]], used: Sequence[str], l2: float) -> Model:
    x = np.array([[f[k] for k in used] for f, _ in rows])
    y = np.array([float(r) for _, r in rows])
    w, b = fit_logistic(x, y, l2=l2)
    return Model({k: round(float(v), 4) for k, v in zip(used, w, strict=True)}, round(b, 4))


def outside_examples(data: dh.Dataset, *, titles_only: bool) -> Examples:
    """Questions from another community (SemEval train: Qatar Living forum posts, long and chatty)
    searched against the devhelp threads: nothing answers them. They teach the show model that a
    long post sharing a few common words is no match, which devhelp's short questions cannot."""
    index, ids = devhelp_index(data, titles_only=titles_only)
    semeval = sem.load()
    out: Examples = []
    for q in semeval.splits[sem.SPLITS_TRAIN[1]][:OUTSIDE_QUESTIONS]:
        post = semeval.questions[q.query_id]
        text = post.title if titles_only else f"{post.title}\n{post.body}"
        got = index.explain(dh.GUILD, text, candidates=FIT_CANDIDATES)
        out.append(
            (
                dh.Query(q.query_id, "outside", post.title, post.body, frozenset()),
                [(ids[t], f) for t, f in got],
            )
        )
    return out


def fit_models(
    examples: Examples, used: Sequence[str], show_used: Sequence[str], outside: Examples = ()
) -> tuple[Model, Model]:
    """The ranking model (every candidate: does it answer the question?) and the show model (the
    best candidate's signals: is the answer among the suggestions?; ``outside`` questions add
    examples of "no")."""
    rank = _fit([(f, t in q.relevant) for q, cands in examples for t, f in cands], used, L2)
    rows = []
    for q, cands in [*examples, *outside]:
        r = ranked(cands, rank)[: dh.SHOWN]
        if r:
            rows.append((r[0][2], any(t in q.relevant for _, t, _ in r)))
    return rank, _fit(rows, show_used, L2_SHOW)


def cross_validated(
    examples: Examples, used: Sequence[str], show_used: Sequence[str], outside: Examples = ()
) -> Scored:
    """Every question scored by models fitted on the other folds (stratified: questions with and
    without an answer spread evenly), so the threshold is chosen on scores like those of new questions."""
    order = [i for i, (q, _) in enumerate(examples) if q.relevant]
    order += [i for i, (q, _) in enumerate(examples) if not q.relevant]
    fold = {i: k % CV_FOLDS for k, i in enumerate(order)}
    out: dict[int, tuple[dh.Query, list[tuple[float, str]]]] = {}
    for f in range(CV_FOLDS):
        rank, show = fit_models([e for i, e in enumerate(examples) if fold[i] != f], used, show_used, outside)
        held = [i for i in range(len(examples)) if fold[i] == f]
        for i, item in zip(held, scored([examples[i] for i in held], rank, show), strict=True):
            out[i] = item
    return [out[i] for i in range(len(examples))]


def tune_model(
    data: dh.Dataset, *, titles_only: bool, used: Sequence[str], show_used: Sequence[str]
) -> tuple[Model, Model]:
    """Fit both models on devhelp train+dev, then shift the show model's intercept to put
    ``DEFAULT_MIN_SCORE`` at the operating point chosen on the cross-validated scores."""
    examples = devhelp_examples(data, DEVHELP_TUNE, titles_only=titles_only)
    outside = outside_examples(data, titles_only=titles_only)
    rank, show = fit_models(examples, used, show_used, outside)
    p1, tau = operating_point(cross_validated(examples, used, show_used, outside))
    shift = math.log(DEFAULT_MIN_SCORE / (1 - DEFAULT_MIN_SCORE)) - math.log(tau / (1 - tau))
    show = Model(show.weights, round(show.intercept + shift, 4))
    in_p1, in_nm = shown_figures(scored(examples, rank, show), DEFAULT_MIN_SCORE)
    print(
        f"titles_only={titles_only}: cross-validated operating point {tau:.3f} -> shown P@1 {p1:.3f}; "
        f"fitted on all of train+dev at {DEFAULT_MIN_SCORE}: shown P@1 {in_p1:.3f}, "
        f"no-match shown {in_nm:.3f}"
    )
    print(f"  rank Model({dict(rank.weights)}, {rank.intercept})")
    print(f"  show Model({dict(show.weights)}, {show.intercept})")
    return rank, show


def semeval_check(model: Model, *, titles_only: bool) -> None:
    data = sem.load()
    table = Corpus(data, titles_only=titles_only).feature_table(TUNE_SPLITS)
    for split in TUNE_SPLITS:
        s = sem.evaluate_rankings(data.splits[split], matcher_rankings(data, table, split, model))
        e = sem.evaluate_rankings(data.splits[split], sem.engine_scores(data.splits[split]))
        print(f"  SemEval {split}: MAP {s.map:.2f} (engine {e.map:.2f})")


# The full-text ranking model uses the signals it was designed with; titles-only mode the title
# ones. The show models: how strong the best candidate is, how far it stands out, how much of both
# posts it covers, how much the question says (chosen by nested cross-validation on train+dev).
FULL_FEATURES = tuple(f for f in FEATURES if f not in ("cos_question", "shared_rare"))
TITLE_FEATURES = ("bm25", "best_ratio", "margin", "cos_title", "fuzzy_title", "token_set", "query_size")
FULL_SHOW_FEATURES = (
    "bm25",
    "margin",
    "cover_question",
    "cover_all",
    "cos_question",
    "vs_mean",
    "shared_rare",
    "query_size",
)
TITLE_SHOW_FEATURES = ("bm25", "margin", "cos_title", "token_set", "vs_mean", "query_size")

if __name__ == "__main__":
    if sys.argv[1:] != ["tune"]:
        print("usage: python -m benchmarks._rerank tune")
        sys.exit(2)
    assert set(TITLE_FEATURES) <= set(FEATURES)
    d = dh.load()
    full, _ = tune_model(d, titles_only=False, used=FULL_FEATURES, show_used=FULL_SHOW_FEATURES)
    semeval_check(full, titles_only=False)
    titles, _ = tune_model(d, titles_only=True, used=TITLE_FEATURES, show_used=TITLE_SHOW_FEATURES)
    semeval_check(titles, titles_only=True)
