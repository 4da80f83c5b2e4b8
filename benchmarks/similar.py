"""Quality and speed benchmark of the similar-question matcher.

    python -m benchmarks.similar [--json PATH] [--quick]

Quality: the devhelp set (solved threads of a programming community's help channels; suggestions
measured as the bot shows them, see ``benchmarks._devhelp``) beside the matcher's first stage, bm25s
and rapidfuzz; SemEval-2016/2017 Task 3 subtask B (Qatar Living question-question similarity),
official re-ranking protocol (MAP/MRR/P@1/P@5 on dev, test2016, test2017) for the search engine's
order (the published IR baseline), bm25s, rapidfuzz token_set_ratio on titles and the matcher;
full-corpus retrieval Recall@10 of the labelled relevant questions; what the score thresholds mean
on SemEval's labelled pairs. Speed: synthetic corpora of 10k/100k/1M threads (``--quick``: 10k
only), one subprocess per engine and size.

The data is looked up in ``<project root>/../shared/data/{devhelp,semeval-task3b}`` or
``$UNSTUCK_SHARED_DATA/{devhelp,semeval-task3b}``; when it is missing the command says so and exits
with 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import _devhelp as dh
from benchmarks import _rerank as rr
from benchmarks import _semeval as sem
from benchmarks import _speed as sp
from bot.domain.matching import (
    DEFAULT_MIN_SCORE,
    DEFAULT_MIN_SCORE_TITLES_ONLY,
    SimilarityIndex,
    SolvedThreadDoc,
)
from bot.domain.similarity_scoring import FULL_MODEL, FULL_SHOW_MODEL, TITLES_MODEL, TITLES_SHOW_MODEL, Model

PUBLISHED_IR_MAP = {"dev": 71.35, "test2016": 74.75, "test2017": 41.85}
STRETCH_MAP = {"test2016": 76.70, "test2017": 47.22}
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
SIZES_FULL = (10_000, 100_000, 1_000_000)
SIZES_QUICK = (10_000,)
TEST_SPLITS = ("test2016", "test2017")


def size_label(n: int) -> str:
    return f"{n // 1_000_000}m" if n >= 1_000_000 else f"{n // 1000}k"


# --- quality ------------------------------------------------------------------------------------


def quality(data: sem.Dataset) -> dict[str, Any]:
    splits = sem.SPLITS_EVAL
    full = rr.Corpus(data)
    titles = rr.Corpus(data, titles_only=True)
    table_full = full.feature_table((*splits, *rr.TUNE_SPLITS))
    table_titles = titles.feature_table((*splits, *rr.TUNE_SPLITS))
    systems: dict[str, dict[str, sem.Scores]] = {
        "engine": {},
        "bm25s": {},
        "token_set_titles": {},
        "first_stage": {},
        "matcher": {},
        "matcher_titles_only": {},
    }
    for split in splits:
        qs = data.splits[split]
        systems["engine"][split] = sem.evaluate_rankings(qs, sem.engine_scores(qs))
        systems["bm25s"][split] = sem.evaluate_rankings(qs, rr.bm25s_rankings(data, split))
        systems["token_set_titles"][split] = sem.evaluate_rankings(qs, rr.token_set_rankings(data, split))
        systems["first_stage"][split] = sem.evaluate_rankings(
            qs, sem.rerank(qs, lambda qq, c: table_full[(qq.query_id, c)]["bm25"])
        )
        systems["matcher"][split] = sem.evaluate_rankings(
            qs, rr.matcher_rankings(data, table_full, split, FULL_MODEL)
        )
        systems["matcher_titles_only"][split] = sem.evaluate_rankings(
            qs, rr.matcher_rankings(data, table_titles, split, TITLES_MODEL)
        )
    return {
        "systems": systems,
        "thresholds": {
            **thresholds(data, table_full, FULL_MODEL, FULL_SHOW_MODEL, ""),
            **thresholds(data, table_titles, TITLES_MODEL, TITLES_SHOW_MODEL, "titles:"),
        },
        "retrieval": retrieval(data),
    }


def thresholds(
    data: sem.Dataset, table: rr.FeatureTable, model: Model, show: Model, prefix: str
) -> dict[str, list[dict[str, float]]]:
    """Dev-set (and train, for a bigger sample) precision of "score >= t" over the labelled pairs,
    and of the top-1 suggestion per query when it clears t (the bot's first suggestion)."""
    out: dict[str, list[dict[str, float]]] = {}
    for name, split_names in (("dev", ("dev",)), ("train", rr.TUNE_SPLITS[:2])):
        pairs: list[tuple[float, bool]] = []
        tops: list[tuple[float, bool]] = []
        n_queries = 0
        for split in split_names:
            for q in data.splits[split]:
                n_queries += 1
                ranks = [model.score(table[(q.query_id, c)]) for c in q.candidates]
                best = max(range(len(ranks)), key=ranks.__getitem__)
                p = show.score(table[(q.query_id, q.candidates[best])]) / ranks[best]
                scored = [(p * r, c in q.relevant) for r, c in zip(ranks, q.candidates, strict=True)]
                pairs.extend(scored)
                tops.append(max(scored, key=lambda t: t[0]))
        rows: list[dict[str, float]] = []
        total_rel = sum(1 for _, r in pairs if r)
        for t in THRESHOLDS:
            sel = [r for s, r in pairs if s >= t]
            top_sel = [r for s, r in tops if s >= t]
            rows.append(
                {
                    "threshold": t,
                    "pair_precision": 100 * sum(sel) / len(sel) if sel else float("nan"),
                    "pair_recall": 100 * sum(sel) / total_rel if total_rel else 0.0,
                    "top1_precision": 100 * sum(top_sel) / len(top_sel) if top_sel else float("nan"),
                    "queries_with_suggestion": 100 * len(top_sel) / n_queries,
                }
            )
        out[prefix + name] = rows
    return out


def retrieval(data: sem.Dataset, *, k: int = 10) -> dict[str, dict[str, float]]:
    """Each test query searches all questions (itself excluded); Recall@k of its labelled relevant
    candidates (micro: found / labelled, over the split)."""
    import bm25s
    import Stemmer

    ids = list(data.questions)
    num = {qid: i + 1 for i, qid in enumerate(ids)}
    index = SimilarityIndex()
    t0 = time.perf_counter()
    index.add_many(SolvedThreadDoc(num[qid], 1, 1, q.title, q.body, "") for qid, q in data.questions.items())
    build_s = time.perf_counter() - t0
    stemmer = Stemmer.Stemmer("english").stemWords
    texts = [f"{data.questions[i].title}\n{data.questions[i].body}" for i in ids]
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False
    )
    out: dict[str, dict[str, float]] = {}
    for split in ("dev", *TEST_SPLITS):
        found_m = found_b = total = 0
        for q in data.splits[split]:
            qq = data.questions[q.query_id]
            text = f"{qq.title}\n{qq.body}"
            got = {m.thread_id for m in index.search(1, text, limit=k, exclude=(num[q.query_id],))}
            tok = bm25s.tokenize(
                [text], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
            )
            res, _ = retriever.retrieve(tok, k=k + 1, show_progress=False, n_threads=1)
            got_b = [ids[int(i)] for i in res[0] if ids[int(i)] != q.query_id][:k]
            total += len(q.relevant)
            found_m += sum(1 for c in q.relevant if num[c] in got)
            found_b += sum(1 for c in q.relevant if c in got_b)
        out[split] = {
            "matcher": 100 * found_m / total if total else 0.0,
            "bm25s": 100 * found_b / total if total else 0.0,
            "relevant": float(total),
        }
    out["_build_s"] = {"matcher": build_s}
    return out


# --- speed --------------------------------------------------------------------------------------


def speed(sizes: Sequence[int], *, log: bool = True) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for n in sizes:
        for engine in sp.ENGINES:
            if log:
                print(f"  speed: {engine} @ {size_label(n)} ...", file=sys.stderr, flush=True)
            results.append(sp.run_subprocess(engine, n))
    return results


# --- report -------------------------------------------------------------------------------------


def _f(v: Any, fmt: str = "{:.2f}") -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float) and v != v:
        return "-"
    return fmt.format(v)


def render(q: dict[str, Any], speeds: list[dict[str, Any]]) -> str:
    lines: list[str] = dh.render(q["devhelp"])
    lines.append(
        f"thresholds: full text {DEFAULT_MIN_SCORE:.2f}, titles-only {DEFAULT_MIN_SCORE_TITLES_ONLY:.2f}; "
        "model fitted and operating point chosen on devhelp train+dev only"
    )
    lines.append("")
    names = {
        "engine": "search-engine order (IR baseline)",
        "bm25s": "bm25s (title+body, stemmed)",
        "token_set_titles": "rapidfuzz token_set_ratio (titles)",
        "first_stage": "matcher's BM25F alone (no model)",
        "matcher": "matcher (full text)",
        "matcher_titles_only": "matcher, titles_only mode",
    }
    lines.append("== Re-ranking, official protocol (SemEval-2016/17 Task 3B), x100 ==")
    head = f"{'system':38s}" + "".join(f" | {s:^27s}" for s in sem.SPLITS_EVAL)
    lines.append(head)
    lines.append(f"{'':38s}" + " | {:>6s} {:>6s} {:>6s} {:>6s}".format("MAP", "MRR", "P@1", "P@5") * 3)
    for key, label in names.items():
        row = f"{label:38s}"
        for split in sem.SPLITS_EVAL:
            s: sem.Scores = q["systems"][key][split]
            row += f" | {s.map:6.2f} {s.mrr:6.2f} {s.p1:6.2f} {s.p5:6.2f}"
        lines.append(row)
    lines.append(
        "published IR baseline MAP: "
        + ", ".join(f"{k} {v:.2f}" for k, v in PUBLISHED_IR_MAP.items())
        + "; best published primary runs: "
        + ", ".join(f"{k} {v:.2f}" for k, v in STRETCH_MAP.items())
    )
    lines.append("")
    lines.append("== Full-corpus retrieval: each query searches all 3,741 questions (itself excluded) ==")
    lines.append(f"{'split':10s} {'relevant':>8s} {'matcher R@10':>13s} {'bm25s R@10':>11s}")
    for split in ("dev", *TEST_SPLITS):
        r = q["retrieval"][split]
        lines.append(f"{split:10s} {int(r['relevant']):8d} {r['matcher']:13.2f} {r['bm25s']:11.2f}")
    lines.append("")
    lines.append(
        "== SemEval: the threshold on Match.score (labelled candidate pairs, all topically close) =="
    )
    lines.append(
        f"{'set':12s} {'min_score':>9s} {'pair prec':>9s} {'pair rec':>9s} "
        f"{'top-1 prec':>10s} {'queries w/ sugg':>15s}"
    )
    for name, rows in q["thresholds"].items():
        for r in rows:
            lines.append(
                f"{name:12s} {r['threshold']:9.2f} {_f(r['pair_precision'], '{:9.1f}')} "
                f"{_f(r['pair_recall'], '{:9.1f}')} {_f(r['top1_precision'], '{:10.1f}')} "
                f"{_f(r['queries_with_suggestion'], '{:15.1f}')}"
            )
    lines.append("")
    lines.append("== Speed (synthetic perturbed corpora; top-5 search; one subprocess per cell) ==")
    lines.append(
        f"{'engine':10s} {'size':>5s} {'build s':>8s} {'RSS MB':>8s} {'p50 ms':>8s} {'p95 ms':>8s} "
        f"{'p95 CPU':>8s} {'add ms':>8s} {'queries':>7s}  note"
    )
    for r in speeds:
        if "error" in r:
            lines.append(f"{r['engine']:10s} {size_label(r['n']):>5s} ERROR {r['error']}")
            continue
        note = str(r.get("add_note", ""))
        if r["engine"] == "matcher":
            note = f"add mean {r['add_mean_ms']:.2f} / max {r['add_max_ms']:.2f} ms ({note})"
        if r["queries"] < sp.N_QUERIES:
            note += f"; only {r['queries']} queries (full scan per query)"
        lines.append(
            f"{r['engine']:10s} {size_label(r['n']):>5s} "
            f"{_f(r['build_s'], '{:8.2f}')} {_f(r['rss_mb'], '{:8.1f}')} "
            f"{_f(r['p50_ms'], '{:8.2f}')} {_f(r['p95_ms'], '{:8.2f}')} {_f(r.get('p95_cpu_ms'), '{:8.2f}')} "
            f"{_f(r['add_ms'], '{:8.3f}')} "
            f"{r['queries']:7d}  {note}"
        )
    return "\n".join(lines)


def flat_json(q: dict[str, Any], speeds: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = dict(dh.flat(q["devhelp"]))
    prefixes = {
        "matcher": "",
        "bm25s": "bm25s_",
        "engine": "engine_",
        "token_set_titles": "token_set_",
        "first_stage": "first_stage_",
        "matcher_titles_only": "titles_only_",
    }
    for key, prefix in prefixes.items():
        for split, s in q["systems"][key].items():
            for m, v in s.as_dict().items():
                out[f"{prefix}{m}_{split}"] = round(v, 2)
    for split in ("dev", *TEST_SPLITS):
        out[f"recall10_{split}"] = round(q["retrieval"][split]["matcher"], 2)
        out[f"bm25s_recall10_{split}"] = round(q["retrieval"][split]["bm25s"], 2)
    out["thresholds"] = q["thresholds"]
    eprefix = {"matcher": "", "bm25s": "bm25s_", "rapidfuzz": "rapidfuzz_extract_"}
    for r in speeds:
        if "error" in r:
            continue
        lab = size_label(r["n"])
        p = eprefix[r["engine"]]
        for m in ("p50_ms", "p95_ms", "p95_cpu_ms", "build_s", "rss_mb", "add_ms"):
            v = r.get(m)
            out[f"{p}{m}_{lab}"] = round(v, 4) if isinstance(v, float) else v
        if r["engine"] == "matcher":
            out[f"add_mean_ms_{lab}"] = round(r["add_mean_ms"], 4)
            out[f"add_max_ms_{lab}"] = round(r["add_max_ms"], 4)
        out[f"{p}queries_{lab}"] = r["queries"]
    out["speed"] = speeds
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.similar", description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", type=Path, help="write the results as JSON to this path")
    ap.add_argument("--quick", action="store_true", help="small run (speed at 10k only), under a minute")
    args = ap.parse_args(argv)
    try:
        data = sem.load()
        devhelp = dh.load()
    except (sem.DataMissingError, dh.DataMissingError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print("quality ...", file=sys.stderr, flush=True)
    q = quality(data)
    q["devhelp"] = dh.run(devhelp)
    speeds = speed(SIZES_QUICK if args.quick else SIZES_FULL)
    print(render(q, speeds))
    if args.json:
        args.json.write_text(json.dumps(flat_json(q, speeds), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
