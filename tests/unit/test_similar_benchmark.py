"""`python -m benchmarks.similar --quick` runs, prints its table, writes its JSON, and the quality
numbers are sane (no timing assertions: speed figures depend on the machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import _devhelp as dh
from benchmarks import _semeval as sem

ROOT = Path(__file__).resolve().parents[2]


def _data_or_skip() -> sem.Dataset:
    try:
        return sem.load()
    except sem.DataMissingError as e:
        if os.environ.get("CI"):
            pytest.fail(f"benchmark data missing in CI: {e}")
        pytest.skip(f"SemEval data not available: {e}")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, object]]:
    _data_or_skip()
    out = tmp_path_factory.mktemp("bench") / "similar.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.similar", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, json.loads(out.read_text())


def test_official_scorer_reproduces_published_ir_baseline() -> None:
    data = _data_or_skip()
    for split, published in {"dev": 71.35, "test2016": 74.75, "test2017": 41.85}.items():
        qs = data.splits[split]
        assert round(sem.evaluate_rankings(qs, sem.engine_scores(qs)).map, 2) == published


def test_engine_order_matches_official_gold_files() -> None:
    data = _data_or_skip()
    gold_files = {
        "dev": "SemEval2016-Task3-CQA-QL-dev.xml.subtaskB.relevancy",
        "test2016": "SemEval2016-Task3-CQA-QL-test.xml.subtaskB.relevancy",
        "test2017": "SemEval2017-Task3-CQA-QL-test.xml.subtaskB.relevancy",
    }
    for split, name in gold_files.items():
        gold = sem.read_gold(data.root / "gold" / name)
        for q in data.splits[split]:
            rows = gold[q.query_id]
            assert tuple(c for c, _, _ in rows) == q.candidates
            assert {c for c, _, rel in rows if rel} == q.relevant


def test_scorer_rules() -> None:
    q1 = sem.Query("a", ("x", "y", "z"), (1, 2, 3), frozenset({"y"}))
    q2 = sem.Query("b", ("u", "v"), (1, 2), frozenset())  # no relevant: AP = 0, still counted
    s = sem.evaluate_rankings([q1, q2], {"a": ["x", "y", "z"], "b": ["u", "v"]})
    assert s.map == pytest.approx(25.0) and s.mrr == pytest.approx(25.0)
    assert s.p1 == 0.0 and s.p5 == pytest.approx(10.0)
    # ties keep engine order
    ranked = sem.rerank([q1], lambda q, c: 1.0)
    assert ranked["a"] == ["x", "y", "z"]


def test_missing_data_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    env = {**os.environ, "UNSTUCK_SHARED_DATA": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.similar", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "semeval-task3b" in proc.stderr and "questions.jsonl" in proc.stderr


def test_quick_run_prints_table(quick_run: tuple[str, dict[str, object]]) -> None:
    out, _ = quick_run
    for heading in (
        "Developer help",
        "Re-ranking, official protocol",
        "Full-corpus retrieval",
        "threshold",
        "Speed",
    ):
        assert heading in out
    for row in (
        "search-engine order",
        "bm25s",
        "token_set_ratio",
        "matcher (full text)",
        "titles-only",
        "first stage",
    ):
        assert row in out


def test_quick_run_json_keys_and_sane_quality(quick_run: tuple[str, dict[str, object]]) -> None:
    _, js = quick_run
    for key in (
        "map_test2016",
        "map_test2017",
        "mrr_test2016",
        "mrr_test2017",
        "recall10_test2016",
        "bm25s_map_test2016",
        "bm25s_map_test2017",
        "p95_ms_10k",
        "build_s_10k",
        "rss_mb_10k",
        "add_ms_10k",
        "bm25s_p95_ms_10k",
        "rapidfuzz_extract_p95_ms_10k",
    ):
        assert key in js, key
    assert js["engine_map_test2016"] == 74.75 and js["engine_map_test2017"] == 41.85
    # better than random (46.98 / 29.81) by a margin, within what the data allows (2017 caps at 67.0)
    assert 70.0 < float(js["map_test2016"]) <= 100.0  # type: ignore[arg-type]
    assert 40.0 < float(js["map_test2017"]) <= 67.1  # type: ignore[arg-type]
    assert 60.0 < float(js["map_dev"]) <= 100.0  # type: ignore[arg-type]
    assert 20.0 < float(js["recall10_test2016"]) <= 100.0  # type: ignore[arg-type]
    assert 60.0 < float(js["bm25s_map_test2016"]) <= 100.0  # type: ignore[arg-type]


def test_quick_run_devhelp_keys_and_sane_figures(quick_run: tuple[str, dict[str, object]]) -> None:
    _, js = quick_run
    keys = (
        "devhelp_test_shown_p1",
        "devhelp_test_shown_hit3",
        "devhelp_test_nomatch_suggested",
        "devhelp_test_titles_only_shown_p1",
        "devhelp_test_titles_only_nomatch_suggested",
        "devhelp_test_raw_p1",
        "devhelp_test_bm25s_p1",
        "devhelp_test_rapidfuzz_titles_p1",
    )
    for key in keys:
        assert key in js, key
    figures = {k: float(js[k]) for k in keys}  # type: ignore[arg-type]
    # the README's baselines, reproduced
    assert figures["devhelp_test_bm25s_p1"] == pytest.approx(0.867, abs=0.001)
    assert figures["devhelp_test_rapidfuzz_titles_p1"] == pytest.approx(0.233, abs=0.001)
    assert figures["devhelp_test_shown_p1"] <= figures["devhelp_test_raw_p1"]
    assert 0 <= figures["devhelp_test_nomatch_suggested"] <= 7


def _toy_system(ranked: dict[str, dh.Ranked], threshold: float | None) -> dh.System:
    return dh.System("toy", lambda q: ranked[q.id], threshold)


def test_devhelp_protocol_counts_nothing_shown_as_a_miss() -> None:
    queries = [
        dh.Query("a", "test", "t", "q", frozenset({"x"})),
        dh.Query("b", "test", "t", "q", frozenset({"y"})),
        dh.Query("c", "test", "t", "q", frozenset()),
    ]
    ranked: dict[str, dh.Ranked] = {
        "a": [("x", 0.9), ("z", 0.1)],  # right and shown
        "b": [("z", 0.2), ("y", 0.1)],  # right one second, nothing above 0.5
        "c": [("x", 0.6)],  # a no-match question shown something
    }
    f = dh.evaluate(_toy_system(ranked, 0.5), queries)
    assert (f.n, f.n_nomatch) == (2, 1)
    assert f.shown_p1 == 0.5 and f.shown_hit3 == 0.5 and f.shown_mrr3 == 0.5
    assert f.nomatch_suggested == 1
    assert f.raw_p1 == 0.5 and f.raw_hit3 == 1.0 and f.raw_mrr3 == 0.75
    assert dh.evaluate(_toy_system(ranked, None), queries).shown_hit3 == 1.0


def test_devhelp_protocol_counts_a_follow_up_shown_after_a_confident_first() -> None:
    queries = [dh.Query("a", "test", "t", "q", frozenset({"y"}))]
    ranked: dict[str, dh.Ranked] = {"a": [("x", 0.9), ("y", 0.3), ("z", 0.1)]}
    f = dh.evaluate(_toy_system(ranked, 0.5), queries)
    assert f.shown_p1 == 0.0 and f.shown_hit3 == 1.0 and f.shown_mrr3 == 0.5
