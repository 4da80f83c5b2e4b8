"""APScheduler only ticks: each job calls a service whose work is idempotent and safe to run late."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

if TYPE_CHECKING:
    from bot.app import UnstuckBot

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60
ESCALATION_TICK_SECONDS = 30


def start_scheduler(bot: UnstuckBot) -> AsyncIOScheduler:
    """Start the periodic sweep. ``max_instances=1``/``coalesce`` keep a slow tick from piling up."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    once = {"max_instances": 1, "coalesce": True}
    scheduler.add_job(_tick, "interval", seconds=SWEEP_SECONDS, args=[bot, "sweep"], id="sweep", **once)
    # Escalations tick often; each server is swept once per its own `escalation.sweep_interval`.
    scheduler.add_job(
        _tick, "interval", seconds=ESCALATION_TICK_SECONDS, args=[bot, "escalation"], id="escalation", **once
    )
    # Every minute: each server's weekly post is due at its own weekday, time and
    # zone, so one cron tick checks them all; the database makes each post happen once.
    scheduler.add_job(_tick, "cron", second=5, args=[bot, "weekly"], id="weekly-leaderboard", **once)
    scheduler.start()
    return scheduler


async def _tick(bot: UnstuckBot, job: str) -> None:
    if not bot.is_ready():
        return
    try:
        if job == "weekly":
            await bot.run_weekly_posts()
        elif job == "escalation":
            await bot.run_escalations()
        else:
            await bot.services.threads.sweep_dormant(bot.ports.threads)
    except Exception:
        # One failed tick must not stop the schedule: the next tick picks up what is still due.
        log.exception("scheduled %s job failed", job)
