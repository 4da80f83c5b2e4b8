"""The scheduler runs the jobs the cogs register, in their order, and one failing job stops no other."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.scheduler import MINUTE_SECOND, Job, Scheduler, _tick


def recorder(log: list[str], name: str, fail: bool = False) -> Job:
    async def run() -> None:
        log.append(name)
        if fail:
            raise RuntimeError(f"{name} failed")

    return Job(name, run)


async def test_run_all_runs_every_job_once_in_registration_order() -> None:
    ran: list[str] = []
    scheduler = Scheduler()
    for name in ("dormancy", "escalation", "weekly"):
        scheduler.register(recorder(ran, name))
    await scheduler.run_all()
    assert ran == ["dormancy", "escalation", "weekly"]


async def test_a_job_registered_again_replaces_the_first_and_keeps_its_place() -> None:
    ran: list[str] = []
    scheduler = Scheduler()
    scheduler.register(recorder(ran, "a"))
    scheduler.register(recorder(ran, "b"))
    scheduler.register(Job("a", recorder(ran, "a again").run))  # a cog loaded twice
    await scheduler.run_all()
    assert ran == ["a again", "b"]


async def test_run_all_lets_an_error_through() -> None:
    """What tests call: a failing job must fail them, not vanish into a log."""
    scheduler = Scheduler()
    scheduler.register(recorder([], "broken", fail=True))
    with pytest.raises(RuntimeError, match="broken failed"):
        await scheduler.run_all()


async def test_jobs_on_one_schedule_tick_together_in_order() -> None:
    nothing = recorder([], "").run
    scheduler = Scheduler()
    scheduler.register(Job("dormancy", nothing, seconds=60))
    scheduler.register(Job("weekly", nothing, on_the_minute=True))
    scheduler.register(Job("escalation", nothing, seconds=30))
    scheduler.register(Job("health", nothing, on_the_minute=True))
    scheduler.start(is_ready=lambda: True)
    try:
        ticker = scheduler._ticker
        assert ticker is not None
        jobs = {job.id: str(job.trigger) for job in ticker.get_jobs()}
    finally:
        scheduler.shutdown()
    assert set(jobs) == {"dormancy", "escalation", "weekly+health"}
    assert "0:01:00" in jobs["dormancy"] and "0:00:30" in jobs["escalation"]
    assert f"second='{MINUTE_SECOND}'" in jobs["weekly+health"]


async def test_a_tick_waits_for_the_bot_and_survives_a_failing_job(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []
    ready = asyncio.Event()
    scheduler = Scheduler()
    scheduler.register(recorder(ran, "first", fail=True))
    scheduler.register(recorder(ran, "second"))
    jobs = scheduler.jobs
    await _tick(jobs, ready.is_set)
    assert ran == []  # not connected yet: nothing runs
    ready.set()
    with caplog.at_level(logging.ERROR, logger="bot.scheduler"):
        await _tick(jobs, ready.is_set)
    assert ran == ["first", "second"]
    assert "scheduled first job failed" in caplog.text
