"""Timed work: each cog registers its jobs when it loads, and the scheduler only runs them.

Like RoboDanny's timer dispatcher, the scheduler knows no feature by name: a job is a name, a schedule
and a coroutine function. APScheduler only ticks. Every job calls a service whose work is idempotent
and safe to run late, so a missed or doubled tick changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


#: The second of each minute at which ``on_the_minute`` jobs run: just after the minute turns, so work
#: due at a time of day (a server's weekly post at 09:00) is found within seconds.
MINUTE_SECOND = 5


@dataclass(frozen=True)
class Job:
    """One piece of timed work: every ``seconds``, or once a minute on the wall clock."""

    name: str
    run: Callable[[], Awaitable[object]]
    seconds: int = 60
    on_the_minute: bool = False

    @property
    def schedule(self) -> tuple[int, bool]:
        """Jobs with the same schedule run together, one after another."""
        return (60, True) if self.on_the_minute else (self.seconds, False)


class Scheduler:
    """The registered jobs, and the APScheduler that ticks them once started."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._ticker: AsyncIOScheduler | None = None

    @property
    def jobs(self) -> list[Job]:
        """In the order they were registered (the order the cogs load)."""
        return list(self._jobs.values())

    def register(self, job: Job) -> None:
        """Add a job (a cog does this when it loads); a job of the same name is replaced."""
        self._jobs[job.name] = job

    async def run_all(self) -> None:
        """Run every job once, in order, letting errors through: what tests and the demo call after
        moving the clock, instead of waiting for ticks."""
        for job in self.jobs:
            await job.run()

    def start(self, is_ready: Callable[[], bool]) -> None:
        """Tick the jobs until :meth:`shutdown`. Jobs on the same schedule run one after another, in
        order, as one APScheduler job; ``max_instances=1`` and ``coalesce`` keep a slow tick from
        piling up, and nothing runs before ``is_ready()`` (the bot connected)."""
        ticker = AsyncIOScheduler(timezone="UTC")
        once = {"max_instances": 1, "coalesce": True}
        schedule = attrgetter("schedule")
        # ``sorted`` is stable: within one schedule, jobs keep their registration order.
        for (seconds, on_the_minute), same in groupby(sorted(self.jobs, key=schedule), key=schedule):
            jobs = list(same)
            trigger = (
                {"trigger": "cron", "second": MINUTE_SECOND}
                if on_the_minute
                else {"trigger": "interval", "seconds": seconds}
            )
            name = "+".join(job.name for job in jobs)
            ticker.add_job(_tick, args=[jobs, is_ready], id=name, name=name, **trigger, **once)
        ticker.start()
        self._ticker = ticker

    def shutdown(self) -> None:
        if self._ticker is not None:
            self._ticker.shutdown(wait=False)
            self._ticker = None


async def _tick(jobs: list[Job], is_ready: Callable[[], bool]) -> None:
    if not is_ready():
        return
    for job in jobs:
        try:
            await job.run()
        except Exception:
            # One failed job must not stop the schedule: the next tick picks up what is still due.
            log.exception("scheduled %s job failed", job.name)
