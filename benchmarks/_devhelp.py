"""The developer-help benchmark: suggestions for new questions of a programming community.

Data: ``$UNSTUCK_SHARED_DATA/devhelp`` or ``<project root>/../shared/data/devhelp`` (its README
gives the protocol): 240 solved threads (title, question, accepted answer, channel) and 110 later
questions, 90 answered by one or two of the threads and 20 by none, split train/dev/test.

Measured the way the bot shows suggestions: up to 3 shown when the first clears the threshold (the
next ones need a share of it, ``bot.domain.matching.shown_count``), a question shown nothing counts
as a miss; the no-match questions count how many got a suggestion anyway. The same
figures without the threshold say how good the ranking is on its own.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process, utils

from bot.config.guild import SimilarSettings
from bot.domain.matching import FOLLOW_UP_SHARE, SimilarityIndex, SolvedThreadDoc, shown_count
from bot.domain.suggestions import effective_threshold

DATASET_DIR = "devhelp"
SPLITS = ("train", "dev", "test")
SHOWN = 3  # the bot shows at most 3 suggestions
GUILD = 1


class DataMissingError(RuntimeError):
    pass


@dataclass(frozen=True)
class Thread:
    id: str
    title: str
    question: str
    answer: str
    channel: str


@dataclass(frozen=True)
class Query:
    id: str
    split: str
    title: str
    question: str
    relevant: frozenset[str]


@dataclass(frozen=True)
class Dataset:
    threads: list[Thread]
    queries: list[Query]

    def split(self, *names: str) -> list[Query]:
        return [q for q in self.queries if q.split in names]


def data_dir() -> Path:
    env = os.environ.get("UNSTUCK_SHARED_DATA")
    if env:
        return Path(env) / DATASET_DIR
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data" / DATASET_DIR


def load(root: Path | None = None) -> Dataset:
    root = root or data_dir()
    missing = [n for n in ("threads.jsonl", "queries.jsonl") if not (root / n).is_file()]
    if missing:
        raise DataMissingError(
            f"benchmark data not found: {root} lacks {', '.join(missing)}.\n"
            "Expected: the devhelp set in the project's shared data folder (shared/data/devhelp/ next "
            "to the project checkout). Set UNSTUCK_SHARED_DATA=<dir containing devhelp/> to point elsewhere."
        )
    with (root / "threads.jsonl").open(encoding="utf-8") as fh:
        threads = [
            Thread(**{k: r[k] for k in ("id", "title", "question", "answer", "channel")})
            for r in map(json.loads, fh)
        ]
    with (root / "queries.jsonl").open(encoding="utf-8") as fh:
        queries = [
            Query(r["id"], r["split"], r["title"], r["question"], frozenset(r["relevant"]))
            for r in map(json.loads, fh)
        ]
    return Dataset(threads, queries)


# A system answers a query with its ranked (thread id, score) list, best first, and says which of
# them it would show.
Ranked = list[tuple[str, float]]


@dataclass(frozen=True)
class System:
    name: str
    rank: Callable[[Query], Ranked]
    threshold: float | None  # None: no threshold (a baseline's raw ranking only)


@dataclass(frozen=True)
class Figures:
    n: int  # questions with a relevant thread
    n_nomatch: int
    shown_p1: float
    shown_hit3: float
    shown_mrr3: float
    nomatch_suggested: int  # no-match questions that got a suggestion anyway
    raw_p1: float
    raw_hit3: float
    raw_mrr3: float

    @property
    def nomatch_rate(self) -> float:
        return self.nomatch_suggested / self.n_nomatch if self.n_nomatch else 0.0


def _rr(ids: Sequence[str], relevant: frozenset[str]) -> float:
    return next((1.0 / i for i, t in enumerate(ids[:SHOWN], start=1) if t in relevant), 0.0)


def evaluate(system: System, queries: Sequence[Query]) -> Figures:
    answerable = [q for q in queries if q.relevant]
    sums = dict.fromkeys(("sp1", "shit", "smrr", "rp1", "rhit", "rmrr"), 0.0)
    suggested = 0
    for q in queries:
        ranked = system.rank(q)[:SHOWN]
        raw = [t for t, _ in ranked]
        shown = raw
        if system.threshold is not None:
            shown = raw[: shown_count([s for _, s in ranked], system.threshold)]
        if not q.relevant:
            suggested += bool(shown)
            continue
        for prefix, ids in (("s", shown), ("r", raw)):
            sums[prefix + "p1"] += bool(ids) and ids[0] in q.relevant
            sums[prefix + "hit"] += any(t in q.relevant for t in ids)
            sums[prefix + "mrr"] += _rr(ids, q.relevant)
    n = len(answerable) or 1
    return Figures(
        len(answerable),
        len(queries) - len(answerable),
        sums["sp1"] / n,
        sums["shit"] / n,
        sums["smrr"] / n,
        suggested,
        sums["rp1"] / n,
        sums["rhit"] / n,
        sums["rmrr"] / n,
    )


# --- systems ------------------------------------------------------------------------------------


def matcher(data: Dataset, *, titles_only: bool, threshold: float | None = None) -> System:
    """The bot's matcher, as the bot runs it: one server, the thread's title + question as the
    query (title only without the message-content intent), the bot's default threshold."""
    index = SimilarityIndex(titles_only=titles_only)
    num = {t.id: i + 1 for i, t in enumerate(data.threads)}
    ids = {v: k for k, v in num.items()}
    index.add_many(
        SolvedThreadDoc(
            num[t.id], GUILD, 1, t.title, "" if titles_only else t.question, "" if titles_only else t.answer
        )
        for t in data.threads
    )

    def rank(q: Query) -> Ranked:
        text = q.title if titles_only else f"{q.title}\n{q.question}"
        return [(ids[m.thread_id], m.score) for m in index.search(GUILD, text, limit=SHOWN)]

    if threshold is None:
        threshold = effective_threshold(SimilarSettings().threshold, titles_only=titles_only)
    name = "matcher, titles-only mode" if titles_only else "matcher (full text)"
    return System(name, rank, threshold)


def first_stage(data: Dataset) -> System:
    """The matcher's own first stage: its candidates in BM25F order, before the model's score."""
    index = SimilarityIndex()
    num = {t.id: i + 1 for i, t in enumerate(data.threads)}
    ids = {v: k for k, v in num.items()}
    index.add_many(SolvedThreadDoc(num[t.id], GUILD, 1, t.title, t.question, t.answer) for t in data.threads)

    def rank(q: Query) -> Ranked:
        got = index.explain(GUILD, f"{q.title}\n{q.question}")
        return sorted(((ids[tid], f["bm25"]) for tid, f in got), key=lambda r: -r[1])[:SHOWN]

    return System("matcher's first stage (BM25F order)", rank, None)


def bm25s_plain(data: Dataset) -> System:
    """The README's baseline (a): default bm25s over title + question + answer, ``\\w+`` tokens."""
    import bm25s

    def tok(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    retriever = bm25s.BM25()
    retriever.index([tok(f"{t.title}\n{t.question}\n{t.answer}") for t in data.threads], show_progress=False)
    vocab = retriever.vocab_dict

    def rank(q: Query) -> Ranked:
        words = [w for w in tok(f"{q.title}\n{q.question}") if w in vocab]
        if not words:
            return []
        scores = retriever.get_scores(words)
        order = sorted(range(len(data.threads)), key=lambda i: -float(scores[i]))[:SHOWN]
        return [(data.threads[i].id, float(scores[i])) for i in order]

    return System("bm25s (title+question+answer)", rank, None)


def rapidfuzz_titles(data: Dataset) -> System:
    """The README's baseline (b): token_set_ratio of the query's title against the titles."""
    titles = [t.title for t in data.threads]

    def rank(q: Query) -> Ranked:
        got = process.extract(
            q.title, titles, scorer=fuzz.token_set_ratio, processor=utils.default_process, limit=SHOWN
        )
        return [(data.threads[i].id, float(s)) for _, s, i in got]

    return System("rapidfuzz token_set_ratio (titles)", rank, None)


def systems(data: Dataset) -> list[System]:
    return [
        matcher(data, titles_only=False),
        matcher(data, titles_only=True),
        first_stage(data),
        bm25s_plain(data),
        rapidfuzz_titles(data),
    ]


# JSON key prefix of each system (``devhelp_<split>_<prefix><measure>``).
KEYS = {
    "matcher (full text)": "",
    "matcher, titles-only mode": "titles_only_",
    "matcher's first stage (BM25F order)": "first_stage_",
    "bm25s (title+question+answer)": "bm25s_",
    "rapidfuzz token_set_ratio (titles)": "rapidfuzz_titles_",
}


def run(data: Dataset) -> dict[str, dict[str, Figures]]:
    """Figures of every system on every split (the test split read only here, to report)."""
    return {s.name: {split: evaluate(s, data.split(split)) for split in SPLITS} for s in systems(data)}


def render(results: dict[str, dict[str, Figures]]) -> list[str]:
    lines = [
        "== Developer help (devhelp: 240 solved threads, one server; as shown = up to 3, the first above the "
        f"threshold, the next above {FOLLOW_UP_SHARE:.0%} of it; nothing shown = a miss) ==",
        f"{'system':38s} {'split':5s} {'n':>3s} {'shown P@1':>9s} {'Hit@3':>6s} {'MRR@3':>6s} "
        f"{'no-match shown':>14s} {'raw P@1':>8s} {'Hit@3':>6s} {'MRR@3':>6s}",
    ]
    for name, per in results.items():
        for split, f in per.items():
            if name in THRESHOLDED:
                nomatch = f"{f.nomatch_suggested} of {f.n_nomatch}"
                shown = f"{f.shown_p1:9.3f} {f.shown_hit3:6.3f} {f.shown_mrr3:6.3f} {nomatch:>14s}"
            else:
                shown = f"{'-':>9s} {'-':>6s} {'-':>6s} {'-':>14s}"
            lines.append(
                f"{name:38s} {split:5s} {f.n:3d} {shown} {f.raw_p1:8.3f} {f.raw_hit3:6.3f} {f.raw_mrr3:6.3f}"
            )
    return lines


THRESHOLDED = ("matcher (full text)", "matcher, titles-only mode")


def flat(results: dict[str, dict[str, Figures]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, per in results.items():
        p = KEYS[name]
        for split, f in per.items():
            k = f"devhelp_{split}_{p}"
            out[k + "raw_p1"] = round(f.raw_p1, 4)
            out[k + "raw_hit3"] = round(f.raw_hit3, 4)
            out[k + "raw_mrr3"] = round(f.raw_mrr3, 4)
            if name in THRESHOLDED:
                out[k + "shown_p1"] = round(f.shown_p1, 4)
                out[k + "shown_hit3"] = round(f.shown_hit3, 4)
                out[k + "shown_mrr3"] = round(f.shown_mrr3, 4)
                out[k + "nomatch_suggested"] = f.nomatch_suggested
                out[k + "nomatch_rate"] = round(f.nomatch_rate, 4)
            else:  # a baseline's figures are its raw ranking
                out[k + "p1"] = round(f.raw_p1, 4)
                out[k + "hit3"] = round(f.raw_hit3, 4)
                out[k + "mrr3"] = round(f.raw_mrr3, 4)
    return out
