"""A small ingest run: the real bot in its own process keeps up, with no error and no lock error."""

from __future__ import annotations

import asyncio

from benchmarks.ingest import run_load


def test_a_small_load_with_one_and_four_writers_commits_everything_without_errors() -> None:
    for instances, sweeps in ((1, False), (2, True)):
        result = asyncio.run(run_load(300, instances=instances, sweeps=sweeps, seed=3, threads_per_guild=10))
        assert result.messages == 300
        assert result.messages_per_s > 0 and result.handler_p99_ms >= result.handler_p50_ms > 0
        assert (result.errors, result.locked_errors) == (0, 0)
