"""The escalation queue as staff read it: what waits, for how long, what fires next, what is broken.

Each reader sees the threads of the help channels they can view (a staff-only forum's questions
are listed to those who can open it): the others are only counted, without title, link, channel or
time, the way `/similar` leaves them out (:mod:`bot.domain.channel_access`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config import Tier
from bot.domain.channel_access import Viewer, viewable
from bot.domain.escalation import QuietWindow, TierProblem, TierTarget, is_quiet, release_time
from bot.services.escalation_digests import DigestSweep, EscalationPort
from bot.services.server_config import ServerConfig, ServerConfigService
from storage.engine import Database
from storage.escalation_repo import EscalationRepo, ListedThread


@dataclass(frozen=True)
class QueuedThread:
    """A question waiting in the queue and the next tier it will reach."""

    thread: ListedThread
    waited: timedelta
    next_tier: int
    fires_at: datetime


@dataclass(frozen=True)
class TierStatus:
    """One tier as the queue report shows it."""

    index: int
    tier: Tier
    target: TierTarget | None
    problem: str | None
    waiting: int  # questions the reader can view waiting for this tier
    next_fire: datetime | None  # the soonest of those
    hidden: int = 0  # questions waiting for this tier in channels the reader cannot view


@dataclass(frozen=True)
class QueueReport:
    now: datetime
    enabled: bool
    quiet_now: bool
    quiet_until: datetime | None
    tiers: list[TierStatus]
    threads: list[QueuedThread] = field(default_factory=list)  # those the reader can view
    hidden: int = 0  # waiting questions in channels the reader cannot view (only counted)


class EscalationQueue:
    """Reads the queue for staff; changes nothing."""

    def __init__(
        self, db: Database, clock: Clock, configs: ServerConfigService, digests: DigestSweep
    ) -> None:
        self.db = db
        self.clock = clock
        self.configs = configs
        self.digests = digests  # knows whether a tier's target can be used (and logs it once)

    async def report(self, guild_id: int, port: EscalationPort, viewer: Viewer) -> QueueReport:
        """What waits, for how long, what fires next per tier, and what is misconfigured, as
        ``viewer`` may read it: questions from channels they cannot view are only counted."""
        config = await self.configs.get(guild_id)
        quiet, zone = config.quiet_hours, config.settings.zone
        now = self.clock.now()
        async with self.db.reading() as session:
            waiting = await EscalationRepo(session).waiting(guild_id)
        channels = {row.channel_id for row in waiting}
        access = port.guild_access(guild_id, channels)
        allowed = viewable(access, viewer, channels) if access is not None else frozenset()
        shown = [row for row in waiting if row.channel_id in allowed]
        quiet_now = is_quiet(now, quiet, zone)
        threads = _queued_threads(config, shown, now)
        return QueueReport(
            now=now,
            enabled=config.settings.escalation.enabled,
            quiet_now=quiet_now,
            quiet_until=release_time(now, now, quiet, zone) if quiet_now else None,
            tiers=await self._tiers(config, port, shown, waiting, now),
            threads=threads,
            hidden=len(_queued_threads(config, waiting, now)) - len(threads),
        )

    async def _tiers(
        self,
        config: ServerConfig,
        port: EscalationPort,
        shown: list[ListedThread],
        waiting: list[ListedThread],
        now: datetime,
    ) -> list[TierStatus]:
        """Each tier with its target (or problem), how many wait for it and when the next the
        reader can view goes out (``shown``: the rows of ``waiting`` they can view)."""
        quiet, zone = config.quiet_hours, config.settings.zone
        statuses = []
        for index, tier in enumerate(config.settings.escalation.tiers):
            target = await self.digests.usable_target(port, config, index)
            mine = [release_time(r.due_at, now, quiet, zone) for r in shown if r.tier == index]
            statuses.append(
                TierStatus(
                    index=index,
                    tier=tier,
                    target=target if isinstance(target, TierTarget) else None,
                    problem=target.text if isinstance(target, TierProblem) else None,
                    waiting=len(mine),
                    next_fire=min(mine) if mine else None,
                    hidden=sum(1 for r in waiting if r.tier == index) - len(mine),
                )
            )
        return statuses


def _queued_threads(config: ServerConfig, waiting: list[ListedThread], now: datetime) -> list[QueuedThread]:
    """Each waiting thread once, with the next tier it reaches, soonest first."""
    tier_count = len(config.settings.escalation.tiers)
    next_of_thread: dict[int, ListedThread] = {}
    for row in waiting:
        if row.tier < tier_count and (
            row.thread_id not in next_of_thread or row.tier < next_of_thread[row.thread_id].tier
        ):
            next_of_thread[row.thread_id] = row
    quiet: QuietWindow | None = config.quiet_hours
    queued = (
        QueuedThread(
            thread=row,
            waited=now - row.asked_at,
            next_tier=row.tier,
            fires_at=release_time(row.due_at, now, quiet, config.settings.zone),
        )
        for row in next_of_thread.values()
    )
    return sorted(queued, key=lambda q: (q.fires_at, q.thread.thread_id))
