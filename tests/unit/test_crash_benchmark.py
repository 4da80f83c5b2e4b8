"""The short crash-consistency run: 10 SIGKILLs in 1,000 events, and nothing lost or doubled."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks._crash_script import GATEWAY_KINDS, make_script
from benchmarks.crash import run


def test_the_script_is_deterministic_and_varied() -> None:
    script = make_script(1000, seed=7)
    assert script == make_script(1000, seed=7)
    assert script != make_script(1000, seed=8)
    kinds = {event.kind for event in script}
    assert kinds >= GATEWAY_KINDS
    assert {"menu_mark", "solved", "unsolve", "close", "reopen", "grant", "clock_small", "clock_big"} <= kinds


# It starts the bot process eleven times and plays 1,000 events: nearly a minute of CPU, which a loaded
# 2-core machine stretches past the 120 s default. A hang still fails fast on the run's own
# limits (60 s for a bot process to get ready, 30 s to catch up).
@pytest.mark.timeout(600)
def test_ten_kills_in_a_thousand_events_lose_and_double_nothing() -> None:
    report = asyncio.run(run(kills=10, events=1000, seed=2))
    assert report.kills == 10
    assert report.restarts >= 10
    assert report.divergences == []
    assert (report.duplicates, report.lost) == (0, 0)
