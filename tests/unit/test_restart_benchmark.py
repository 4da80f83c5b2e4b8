"""The short restart run: a small server restarted after downtime misses nothing it changed, and
the run reports what the issue asks for (no timing is asserted: only the structure)."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks._restart_seed import Sizes
from benchmarks.restart import flat_json, run_once

ISSUE_KEYS = {"solved_threads", "active_threads", "ready_s_sqlite", "catchup_rest_calls"}


# One bot process start and a small seeded world: well under a minute, stretched by a loaded machine.
@pytest.mark.timeout(300)
def test_a_short_restart_catches_every_change_and_reports_its_cost() -> None:
    sizes = Sizes(solved=300, active=40, changed=10)
    result = asyncio.run(run_once("sqlite", sizes, seed=3, validate=True))
    assert result.missed == []
    assert (result.errors, result.problems) == (0, [])
    assert (result.solved, result.active, result.changed) == (300, 40, 10)
    # Log-in, the active threads in one request, then only the changed threads: far fewer
    # requests than active threads (the reaction comparison of the others is counted apart).
    assert 0 < result.reads < sizes.active
    assert "GET /guilds/{id}/threads/active" in result.routes
    assert "GET /channels/{id}/threads/archived/public" in result.routes
    assert flat_json([result]).keys() >= ISSUE_KEYS
