"""`python -m benchmarks.archive` on a small archive prints its table, writes its JSON and leaves the site.

No timing assertions: the numbers depend on the machine. The targets are in the benchmark's docstring.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"threads", "build_s", "incremental_ms", "thread_page_kb", "first_load_kb", "search_ms", "site_dir"}


def test_a_small_run_prints_the_table_writes_the_json_and_leaves_the_site(tmp_path: Path) -> None:
    out, site = tmp_path / "archive.json", tmp_path / "site"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.archive",
            "--threads",
            "200",
            "--json",
            str(out),
            "--site-dir",
            str(site),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "rebuild after one solve (ms)" in proc.stdout
    result = json.loads(out.read_text())
    assert set(result) >= KEYS and result["threads"] == 200
    assert (
        result["incremental_written"] == 4
    )  # the new thread's page, its channel, the home page, the sitemap
    assert result["site_dir"] == str(site) and len(list((site / "t").glob("*.html"))) == 201
