"""APScheduler only ticks: each job calls a service whose work is idempotent and safe to run late."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

if TYPE_CHECKING:
    from bot.app import UnstuckBot

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60


def start_scheduler(bot: UnstuckBot) -> AsyncIOScheduler:
    """Start the periodic sweep. ``max_instances=1``/``coalesce`` keep a slow tick from piling up."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        _sweep, "interval", seconds=SWEEP_SECONDS, args=[bot], id="sweep", max_instances=1, coalesce=True
    )
    scheduler.start()
    return scheduler


async def _sweep(bot: UnstuckBot) -> None:
    if not bot.is_ready():
        return
    try:
        await bot.run_sweeps()
    except Exception:
        # One failed tick must not stop the schedule: the next tick picks up what is still due.
        log.exception("scheduled sweep failed")
