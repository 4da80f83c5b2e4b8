"""SemEval-2016/2017 Task 3 subtask B data loading and the official re-ranking scorer.

The scorer follows ``MAP_scripts/ev.py`` (default options): candidates sorted by descending score
with a stable sort over the engine order (ties keep engine order); only the top 10 count; a query
without any relevant candidate has AP = 0 (``ignore_noanswer`` off); MRR is 1/rank of the first
relevant candidate (0 if none); P@k = (#relevant in top k)/k averaged over all queries.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SPLITS_TRAIN = ("train_part2", "train_part1_v2.0")
SPLITS_EVAL = ("dev", "test2016", "test2017")
DATA_ENV = "UNSTUCK_SHARED_DATA"
DATASET_DIR = "semeval-task3b"
DATA_ORIGIN = (
    "SemEval-2016/2017 Task 3 subtask B (Qatar Living question-question similarity), prepared as "
    "JSON lines in the project's shared data folder: shared/data/semeval-task3b/ next to the "
    "project checkout (questions.jsonl, dev.jsonl, test2016.jsonl, test2017.jsonl, train_*.jsonl; "
    "see its README.md for the official sources)"
)


class DataMissingError(RuntimeError):
    pass


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    body: str
    split: str
    role: str


@dataclass(frozen=True)
class Query:
    query_id: str
    candidates: tuple[str, ...]  # engine order
    engine_rank: tuple[int, ...]
    relevant: frozenset[str]


@dataclass(frozen=True)
class Dataset:
    root: Path
    questions: dict[str, Question]
    splits: dict[str, list[Query]]


def data_dir() -> Path:
    """``$UNSTUCK_SHARED_DATA/semeval-task3b`` or ``<project root>/../shared/data/semeval-task3b``."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env) / DATASET_DIR
    project_root = Path(__file__).resolve().parent.parent
    return project_root.parent / "shared" / "data" / DATASET_DIR


def load(root: Path | None = None) -> Dataset:
    root = root or data_dir()
    needed = ["questions.jsonl", *(f"{s}.jsonl" for s in (*SPLITS_TRAIN, *SPLITS_EVAL))]
    missing = [n for n in needed if not (root / n).is_file()]
    if missing:
        raise DataMissingError(
            f"benchmark data not found: {root} lacks {', '.join(missing)}.\n"
            f"Expected: {DATA_ORIGIN}.\nSet {DATA_ENV}=<dir containing semeval-task3b/> to point elsewhere."
        )
    questions: dict[str, Question] = {}
    with (root / "questions.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            questions[r["id"]] = Question(r["id"], r["title"] or "", r["body"] or "", r["split"], r["role"])
    splits: dict[str, list[Query]] = {}
    for split in (*SPLITS_TRAIN, *SPLITS_EVAL):
        qs: list[Query] = []
        with (root / f"{split}.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                qs.append(
                    Query(
                        r["query_id"],
                        tuple(r["candidates"]),
                        tuple(r["engine_rank"]),
                        frozenset(r["relevant"]),
                    )
                )
        splits[split] = qs
    return Dataset(root, questions, splits)


@dataclass(frozen=True)
class Scores:
    map: float
    mrr: float
    p1: float
    p5: float

    def as_dict(self) -> dict[str, float]:
        return {"map": self.map, "mrr": self.mrr, "p1": self.p1, "p5": self.p5}


def evaluate_rankings(queries: Sequence[Query], ranked: Mapping[str, Sequence[str]]) -> Scores:
    """Official measures (x100) for already ranked candidate lists (top 10 used)."""
    ap_sum = rr_sum = p1_sum = p5_sum = 0.0
    for q in queries:
        order = list(ranked[q.query_id])[:10]
        hits = 0
        precisions: list[float] = []
        first: int | None = None
        for i, cid in enumerate(order, start=1):
            if cid in q.relevant:
                hits += 1
                precisions.append(hits / i)
                if first is None:
                    first = i
        ap_sum += sum(precisions) / len(precisions) if precisions else 0.0
        rr_sum += 1.0 / first if first else 0.0
        p1_sum += sum(1 for c in order[:1] if c in q.relevant) / 1
        p5_sum += sum(1 for c in order[:5] if c in q.relevant) / 5
    n = len(queries)
    return Scores(100 * ap_sum / n, 100 * rr_sum / n, 100 * p1_sum / n, 100 * p5_sum / n)


def rerank(queries: Sequence[Query], score: Callable[[Query, str], float]) -> dict[str, list[str]]:
    """Sort each query's candidates by descending ``score``; ties keep engine order (stable sort)."""
    out: dict[str, list[str]] = {}
    for q in queries:
        scored = [(score(q, c), c) for c in q.candidates]
        out[q.query_id] = [c for _, c in sorted(scored, key=lambda t: -t[0])]
    return out


def engine_scores(queries: Sequence[Query]) -> dict[str, list[str]]:
    """The IR baseline: the gold file's engine score 1/rank, i.e. the engine order."""
    return rerank(queries, lambda q, c: 1.0 / q.engine_rank[q.candidates.index(c)])


def read_gold(path: Path) -> dict[str, list[tuple[str, float, bool]]]:
    """An official ``.relevancy`` gold file: query -> [(candidate, engine score, relevant)]."""
    gold: dict[str, list[tuple[str, float, bool]]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 5:
                continue
            gold.setdefault(parts[0], []).append((parts[1], float(parts[3]), parts[4] == "true"))
    return gold
