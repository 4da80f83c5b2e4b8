"""Speed/memory benchmark of the matcher against bm25s and plain rapidfuzz ``process.extract``.

Synthetic solved-thread corpora are made from the SemEval questions with seeded word-level
perturbations (drop, replace by a corpus word drawn by frequency, swap with the neighbour), so the
vocabulary and lengths are realistic. Every (engine, size) runs in its own subprocess
(``python -m benchmarks._speed ENGINE SIZE``) so that the RSS delta of the build is honest.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from benchmarks import _semeval as sem

ENGINES = ("matcher", "bm25s", "rapidfuzz")
N_QUERIES = 200
N_ADDS = 200
# Engines that scan every document per query get fewer queries at 1M (said in the table).
SLOW_QUERY_CAP = {("rapidfuzz", 1_000_000): 20, ("rapidfuzz", 100_000): 100}
GUILD = 1
CHANNEL = 10


@dataclass(frozen=True)
class Synthetic:
    titles: list[str]
    bodies: list[str]
    queries: list[str]


def synthesize(data: sem.Dataset, n: int, *, n_queries: int = N_QUERIES, seed: int = 42) -> Synthetic:
    rng = random.Random(seed)
    base = [(q.title.split(), q.body.split()) for q in data.questions.values()]
    vocab = [w for t, b in base for w in (*t, *b)]

    def perturb(words: list[str]) -> str:
        out: list[str] = []
        for w in words:
            r = rng.random()
            if r < 0.08:
                continue
            if r < 0.16:
                out.append(vocab[rng.randrange(len(vocab))])
            elif r < 0.20 and out:
                out.insert(len(out) - 1, w)
            else:
                out.append(w)
        return " ".join(out)

    titles: list[str] = []
    bodies: list[str] = []
    for _ in range(n):
        t, b = base[rng.randrange(len(base))]
        titles.append(perturb(t))
        bodies.append(perturb(b[:120]))
    queries = []
    for _ in range(n_queries):
        t, b = base[rng.randrange(len(base))]
        queries.append(f"{perturb(t)}\n{perturb(b[:120])}")
    return Synthetic(titles, bodies, queries)


def _rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def _pct(values: list[float], p: float) -> float:
    vs = sorted(values)
    return vs[min(len(vs) - 1, round(p / 100 * (len(vs) - 1)))]


def _time_queries(fn: Callable[[str], object], queries: list[str]) -> dict[str, float]:
    """Wall-clock p50/p95, and the process's CPU time per query (p95_cpu_ms): on a shared machine
    other processes stretch wall time, while CPU time says what a search itself costs."""
    lat: list[float] = []
    cpu: list[float] = []
    for q in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        fn(q)
        lat.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return {"p50_ms": _pct(lat, 50), "p95_ms": _pct(lat, 95), "p95_cpu_ms": _pct(cpu, 95)}


def run_one(engine: str, n: int) -> dict[str, object]:
    data = sem.load()
    syn = synthesize(data, n)
    n_queries = SLOW_QUERY_CAP.get((engine, n), N_QUERIES)
    queries = syn.queries[:n_queries]
    extra = synthesize(data, N_ADDS, n_queries=0, seed=7)
    result: dict[str, object] = {"engine": engine, "n": n, "queries": n_queries}
    if engine == "matcher":
        from bot.domain.matching import SimilarityIndex, SolvedThreadDoc

        docs = [
            SolvedThreadDoc(i + 1, GUILD, CHANNEL, t, b, "")
            for i, (t, b) in enumerate(zip(syn.titles, syn.bodies, strict=True))
        ]
        del syn
        r0 = _rss()
        t0 = time.perf_counter()
        index = SimilarityIndex()
        index.add_many(docs)
        result["build_s"] = time.perf_counter() - t0
        result["rss_mb"] = (_rss() - r0) / 1e6
        del docs
        index.search(GUILD, queries[0], limit=5)
        result.update(_time_queries(lambda q: index.search(GUILD, q, limit=5), queries))
        adds: list[float] = []
        for i, (t, b) in enumerate(zip(extra.titles, extra.bodies, strict=True)):
            doc = SolvedThreadDoc(n + 10 + i, GUILD, CHANNEL, t, b, "")
            t0 = time.perf_counter()
            index.add(doc)
            adds.append((time.perf_counter() - t0) * 1e3)
        t0 = time.perf_counter()
        index.flush()
        result["add_ms"] = statistics.median(adds)
        result["add_mean_ms"] = statistics.fmean(adds)
        result["add_max_ms"] = max(adds)
        result["add_note"] = "median single add; mean incl. a commit every 64 writes"
    elif engine == "bm25s":
        import bm25s
        import Stemmer

        stemmer = Stemmer.Stemmer("english").stemWords
        texts = [f"{t}\n{b}" for t, b in zip(syn.titles, syn.bodies, strict=True)]
        del syn
        r0 = _rss()
        t0 = time.perf_counter()
        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False
        )
        result["build_s"] = time.perf_counter() - t0
        result["rss_mb"] = (_rss() - r0) / 1e6

        def search(q: str) -> object:
            tok = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)
            known = [w for w in tok[0] if w in retriever.vocab_dict]
            if not known:
                return None
            return retriever.retrieve([known], k=5, show_progress=False, n_threads=1)

        search(queries[0])
        result.update(_time_queries(search, queries))
        result["add_ms"] = None
        result["add_note"] = f"no incremental add: re-index = build ({result['build_s']:.1f} s)"
    elif engine == "rapidfuzz":
        from rapidfuzz import fuzz, process, utils

        titles = syn.titles
        del syn
        r0 = _rss()
        t0 = time.perf_counter()
        choices = [utils.default_process(t) for t in titles]
        result["build_s"] = time.perf_counter() - t0
        result["rss_mb"] = (_rss() - r0) / 1e6

        def search(q: str) -> object:
            return process.extract(
                utils.default_process(q.split("\n", 1)[0]), choices, scorer=fuzz.token_set_ratio, limit=5
            )

        result.update(_time_queries(search, queries))
        t0 = time.perf_counter()
        choices.append(utils.default_process(extra.titles[0]))
        result["add_ms"] = (time.perf_counter() - t0) * 1e3
        result["add_note"] = "list append (titles only, query = title)"
    else:
        raise ValueError(engine)
    return result


def run_subprocess(engine: str, n: int, *, timeout: float = 1800) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks._speed", engine, str(n)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        return {"engine": engine, "n": n, "error": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
    out: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


if __name__ == "__main__":
    print(json.dumps(run_one(sys.argv[1], int(sys.argv[2]))))
