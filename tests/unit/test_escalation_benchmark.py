"""`python -m benchmarks.escalation` on a small queue prints its table and writes its JSON.

No timing assertions: the numbers depend on the machine. The full-size run (100,000 threads) and
its target are in the README.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "threads",
    "guilds",
    "due",
    "sweep_select_p50_ms",
    "sweep_select_p95_ms",
    "digest_build_p50_ms",
    "digest_build_p95_ms",
    "sweep_full_1000_due_ms",
}


def test_a_small_run_prints_the_table_and_writes_the_json(tmp_path: Path) -> None:
    out = tmp_path / "escalation.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.escalation",
            "--threads",
            "2000",
            "--samples",
            "5",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "select due deliveries" in proc.stdout and "full sweep, 1,000 due" in proc.stdout
    results = json.loads(out.read_text())
    assert results.keys() >= KEYS
    assert results["threads"] == 2000 and results["due"] == 1000 and results["guilds"] == 20
    assert all(isinstance(results[key], int | float) and results[key] >= 0 for key in KEYS)
