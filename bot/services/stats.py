"""Help-channel health: `/stats` for a period, and the optional weekly health report for maintainers.

The weekly report rides on :class:`WeeklyPostService` with its own kind (``"health"``): the same
(server, week, kind) claim makes it exactly once, at the leaderboard's weekday and time, owed in the
claim's transaction and delivered by the delivery worker to the escalation (maintainers') channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.clock import Clock
from bot.domain.permissions import Actor, is_staff
from bot.domain.stats import HealthStats, Period, ThreadFacts, health
from bot.domain.windows import Span, WeeklySlot
from bot.services.errors import NotAllowed
from bot.services.owed import OwedMessage
from bot.services.server_config import ServerConfig, ServerConfigService
from bot.services.weekly_posts import WeeklyPostService
from storage.engine import Database
from storage.models import Guild
from storage.stats_repo import StatsRepo, questions

HEALTH_KIND = "health"


@dataclass(frozen=True)
class HealthReportView:
    """The weekly health report of one server, ready to render."""

    guild_id: int
    channel_id: int
    span: Span
    stats: HealthStats
    nonce: str  # the owed message's key


class HealthReportPort(Protocol):
    def health_report(self, view: HealthReportView) -> OwedMessage:
        """The report rendered as an owed message, keyed ``view.nonce``, to ``view.channel_id``."""
        ...


class StatsService:
    def __init__(
        self, db: Database, clock: Clock, configs: ServerConfigService, weekly: WeeklyPostService
    ) -> None:
        self.db = db
        self.clock = clock
        self.configs = configs
        self.weekly = weekly  # the weekly-post claim and sweep, shared with the leaderboard post

    async def require_viewer(self, guild_id: int, actor: Actor) -> ServerConfig:
        """`/stats` is for staff, or for everyone when the server's ``stats.visibility`` says so."""
        config = await self.configs.get(guild_id)
        if config.settings.stats.visibility != "everyone" and not is_staff(actor, config.roles):
            raise NotAllowed("Sorry, on this server only staff can see the help-channel stats.")
        return config

    async def stats(
        self, guild_id: int, period: Period, channel_id: int | None = None, span: Span | None = None
    ) -> HealthStats:
        """The figures for questions asked in ``period`` (or in ``span``), optionally in one channel."""
        now = self.clock.now()
        since = span.start if span else period.since(now)
        until = (span.end if span else None) or now
        selection = questions(guild_id, since, until, channel_id)
        async with self.db.reading() as session:
            repo = StatsRepo(session)
            rows = await repo.thread_facts(selection)
            escalated = await repo.escalated_per_tier(selection)
        facts = [
            ThreadFacts(
                asked_at=row.created_at,
                answered_at=row.answered_at,
                first_responder_id=row.first_responder_id,
                solved_at=row.solved_at,
                dormant_at=row.dormant_at,
            )
            for row in rows
        ]
        return health(facts, escalated)

    async def sweep_health_reports(self, port: HealthReportPort, only_guild: int | None = None) -> int:
        """Owe every weekly health report that is due (servers with ``leaderboard.health_report``)."""

        def wanted(config: ServerConfig) -> bool:
            return config.settings.leaderboard.health_report and bool(config.escalation_channel_id)

        async def post(config: ServerConfig, since: datetime) -> int:
            return await self._report(port, config, since)

        return await self.weekly.sweep_guilds(Guild.escalation_channel_id, wanted, post, only_guild)

    async def _report(self, port: HealthReportPort, config: ServerConfig, since: datetime) -> int:
        async def prepare(slot: WeeklySlot, nonce: str) -> OwedMessage | str:
            stats = await self.stats(config.guild_id, Period.WEEK, span=slot.span)
            return port.health_report(
                HealthReportView(config.guild_id, config.escalation_channel_id or 0, slot.span, stats, nonce)
            )

        channel_id = config.escalation_channel_id or 0
        return await self.weekly.post_once(config, HEALTH_KIND, channel_id, since, prepare)
