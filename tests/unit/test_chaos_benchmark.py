"""The short chaos run: the crash run's community while Discord and the database fail, nothing lost."""

from __future__ import annotations

import asyncio
import os

import pytest

from benchmarks._chaos_plan import fault_plan
from benchmarks._crash_script import GATEWAY_KINDS, make_script
from benchmarks.chaos import run

DATABASES = ["sqlite"] + (["postgres"] if os.environ.get("UNSTUCK_TEST_POSTGRES_URL") else [])


def test_the_fault_plan_is_deterministic_and_drops_fall_on_gateway_events() -> None:
    script = make_script(600, seed=3)
    plan = fault_plan(script, seed=3)
    assert plan == fault_plan(script, seed=3)
    assert plan != fault_plan(script, seed=4)
    assert len(plan.drops) == 20 and sum(plan.drops.values()) == 10
    assert all(script[index].kind in GATEWAY_KINDS for index in plan.drops)
    starts = [*plan.drops, *plan.outages, *plan.hangs, *plan.storms]
    assert len(starts) == len(set(starts)) == 40


# Two plays of 120 events per database, with outages and hangs that take real seconds: a loaded
# 2-core machine stretches it past the 120 s default. A hang still fails on the run's own limits.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("database", DATABASES)
def test_faults_instead_of_kills_lose_double_and_delay_nothing(database: str) -> None:
    report = asyncio.run(run(events=120, seed=5, kind=database, scale=0.2))
    assert report.faults["gateway_gap"] >= 1 and report.faults["gateway_drop_replayed"] >= 1
    assert report.faults["database_outage"] >= 1
    assert report.faults.get("rest_server_error", 0) >= 1
    assert report.divergences == []
    assert (report.duplicates, report.lost, report.late_interactions) == (0, 0, 0), report.problems
    assert report.problems == []
