"""A short open-loop load run: the real bot in its own process handles every event of the mix."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from benchmarks.load import main


def test_a_short_run_handles_every_event_of_the_mix_without_errors(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    argv = ["--rates", "20", "--seconds", "2", "--databases", "sqlite", "--solved-per-guild", "2"]
    assert main([*argv, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert {"sqlite_max_rate", "postgres_max_rate", "steps"} <= result.keys()
    assert result["postgres_max_rate"] is None  # not measured
    [step] = result["steps"]
    assert step["database"] == "sqlite" and step["offered_rate"] == 20
    assert step["events"] > 0
    assert step["uncommitted"] == 0  # every gateway event's handlers finished
    assert step["errors"] == 0
    assert result["sqlite_max_rate"] in (None, 20)
    [harness] = result["emulator_check"]  # the emulator alone, read by a bare gateway client
    assert harness["offered_rate"] == 20 and harness["events_read"] > 0
    if importlib.util.find_spec("matplotlib") is not None:
        assert out.with_suffix(".png").stat().st_size > 0
