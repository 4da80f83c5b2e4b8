"""`python -m benchmarks.leaderboard` fills its databases, prints its table and writes its JSON (no
timing assertions: the figures depend on the machine), and its synthetic ledger is the one promised."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import _ledger as ledger
from benchmarks.leaderboard import QUERIES, percentiles
from tests.conftest import POSTGRES_ENV, postgres_url

ROOT = Path(__file__).resolve().parents[2]
KIND = ledger.COLUMNS.index("kind")


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, object], list[str]]:
    """A 20,000-row run on SQLite, and on PostgreSQL too when it is configured (always in CI)."""
    url = postgres_url()
    env = {k: v for k, v in os.environ.items() if k != POSTGRES_ENV} | ({POSTGRES_ENV: url} if url else {})
    out = tmp_path_factory.mktemp("bench") / "leaderboard.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.leaderboard",
            "--rows",
            "20000",
            "--samples",
            "20",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, json.loads(out.read_text()), ["sqlite", "postgres"] if url else ["sqlite"]


def test_prints_a_row_per_database_and_query(small_run: tuple[str, dict[str, object], list[str]]) -> None:
    out, _, databases = small_run
    assert "20,000 ledger rows" in out and "p95 ms" in out
    lines = [line for line in out.splitlines() if line.split()[:1] in ([d] for d in databases)]
    assert len(lines) == len(databases) * len(QUERIES)
    for database in databases:
        for label in QUERIES.values():
            assert any(line.startswith(database) and label.strip() in line for line in lines), label


def test_json_has_the_required_keys_with_positive_numbers(
    small_run: tuple[str, dict[str, object], list[str]],
) -> None:
    _, js, databases = small_run
    assert js["rows"] == 20000
    for database in databases:
        for key in ("week_top10_p95_ms", "all_top10_p95_ms", "member_points_p95_ms"):
            value = js[f"{database}_{key}"]
            assert isinstance(value, float) and value > 0, key
        for key in QUERIES:
            assert 0 < js[f"{database}_{key}_p50_ms"] <= js[f"{database}_{key}_p95_ms"]  # type: ignore[operator]
    assert ("postgres_week_top10_p95_ms" in js) == ("postgres" in databases)


def test_synthetic_ledger_has_the_promised_shape() -> None:
    shape = ledger.LedgerShape(rows=20_000)
    rows = ledger.generate(shape)
    assert len(rows) == 20_000 and rows == ledger.generate(shape)  # exact size, repeatable
    kinds = Counter(row[KIND] for row in rows)
    assert kinds["solution"] > kinds["assist"] > kinds["grant"] > kinds["revoke"] > 0
    assert kinds["solution"] + kinds["assist"] > 0.95 * len(rows)
    revoked = sum(1 for row in rows if row[ledger.REVOKED_AT] is not None)
    assert 0.01 * len(rows) < revoked < 0.05 * len(rows)
    moments = [row[ledger.CREATED_AT] for row in rows]
    assert moments == sorted(moments) and shape.start <= moments[0] and moments[-1] < shape.end
    assert moments[-1] - moments[0] > (shape.end - shape.start) * 0.95  # spread over the whole period
    assert len({row[0] for row in rows}) == shape.guilds
    # The database's "one live award per thread, member and kind" holds, and nobody credits themself.
    live_awards = [(r[6], r[1], r[KIND]) for r in rows if r[6] is not None and r[ledger.REVOKED_AT] is None]
    assert len(live_awards) == len(set(live_awards))
    assert all(row[1] != row[8] for row in rows if row[KIND] in ("solution", "assist"))


def test_percentiles() -> None:
    timing = percentiles([n / 1000 for n in range(1, 101)])  # 1..100 ms
    assert timing.p50_ms == pytest.approx(50.5) and timing.p95_ms == pytest.approx(95.05)
