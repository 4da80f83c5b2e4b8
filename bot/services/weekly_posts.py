"""The weekly leaderboard post: exactly once per server and ISO week, whatever the scheduler does.

Each run looks at the most recent scheduled moment of every server it owns. The (server, week) row
is the claim: a second run, a restart or a second process finds it and does nothing. A post more
than 24 h late (the bot was down) is recorded as skipped instead of surprising people days later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.domain.sharding import ShardScope
from bot.domain.windows import WeeklySlot, Window, latest_weekly_slot
from bot.services.points import LeaderboardPage, PointsService
from bot.services.server_config import ServerConfig, ServerConfigService
from storage.engine import Database
from storage.models import Guild
from storage.points_repo import WeeklyPostRepo
from storage.repositories import GuildRepo

log = logging.getLogger(__name__)

LATE_LIMIT = timedelta(hours=24)
KIND = "leaderboard"


@dataclass(frozen=True)
class WeeklyPostView:
    guild_id: int
    channel_id: int
    week: str
    page: LeaderboardPage
    nonce: str


class WeeklyPostPort(Protocol):
    async def excluded_members(self, guild_id: int, role_ids: Collection[int]) -> set[int]: ...

    async def post_weekly(self, view: WeeklyPostView) -> int | None:
        """The post's message id, None if it cannot be posted; ``TimeoutError`` if Discord did not
        answer in time (the post stays owed)."""
        ...


def weekly_nonce(guild_id: int, week: str, kind: str = KIND) -> str:
    """A per-(server, week, kind) nonce within Discord's 25 characters: ``l2603`` + the guild id."""
    return f"{kind[0]}{week[2:4]}{week[-2:]}{guild_id}"[:25]


#: Decides whether a claimed week's post goes out: ("posting", "") or ("skipped", why).
Decide = Callable[[WeeklySlot], Awaitable[tuple[str, str]]]
#: Sends the post with the given nonce; returns its message id (None if it could not be sent).
Send = Callable[[WeeklySlot, str], Awaitable[int | None]]
#: Posts one server's weekly post if due, given its settings and when Unstuck joined it; 1 if it went out.
PostFor = Callable[[ServerConfig, datetime], Awaitable[int]]


class WeeklyPostService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        configs: ServerConfigService,
        points: PointsService,
        scope: ShardScope,
    ) -> None:
        self.db = db
        self.clock = clock
        self.configs = configs
        self.points = points
        self.scope = scope

    async def sweep(self, port: WeeklyPostPort, only_guild: int | None = None) -> int:
        """Post every weekly leaderboard that is due; returns how many went out."""

        def wanted(config: ServerConfig) -> bool:
            return config.settings.leaderboard.enabled and bool(config.leaderboard_channel_id)

        async def post(config: ServerConfig, since: datetime) -> int:
            return await self._guild(port, config, since)

        return await self.sweep_guilds(Guild.leaderboard_channel_id, wanted, post, only_guild)

    async def sweep_guilds(
        self, channel: Any, wanted: Callable[[ServerConfig], bool], post: PostFor, only_guild: int | None
    ) -> int:
        """Run ``post`` for each server this process owns that sets ``channel`` and wants the post
        (``only_guild``: just that one); returns how many posts went out. Every weekly post's sweep."""
        async with self.db.reading() as session:
            guilds = await GuildRepo(session).owned_with_channel(
                channel, self.scope.shard_ids, self.scope.shard_count, only_guild
            )
        posted = 0
        for guild in guilds:
            config = await self.configs.get(guild.id)
            if not wanted(config):
                continue
            try:
                posted += await post(config, guild.created_at)
            except TimeoutError:
                # Left `posting`: the next sweep sends it with the same nonce; other servers go on.
                log.warning("guild %s: Discord did not answer a weekly post in time; sent later", guild.id)
        return posted

    def slot(self, config: ServerConfig) -> WeeklySlot:
        board = config.settings.leaderboard
        return latest_weekly_slot(self.clock.now(), config.settings.zone, board.weekday_index, board.time)

    async def _guild(self, port: WeeklyPostPort, config: ServerConfig, since: datetime) -> int:
        async def decide(slot: WeeklySlot) -> tuple[str, str]:
            return await self._decide(port, config, slot)

        async def send(slot: WeeklySlot, nonce: str) -> int | None:
            return await self._send(port, config, slot, nonce)

        return await self.post_once(config, KIND, config.leaderboard_channel_id or 0, since, decide, send)

    async def post_once(
        self, config: ServerConfig, kind: str, channel_id: int, since: datetime, decide: Decide, send: Send
    ) -> int:
        """Post the server's ``kind`` post of this week's slot exactly once; 1 when it went out now.

        The (server, week, kind) row is the claim; a post left ``posting`` by a crash is sent again
        with the same nonce. Other weekly posts (the health report) reuse this with their own kind.
        """
        now, slot = self.clock.now(), self.slot(config)
        if slot.due_at < since:
            return 0  # that week ended before Unstuck joined the server
        async with self.db.reading() as session:
            existing = await WeeklyPostRepo(session).get(config.guild_id, slot.week, kind)
        if existing is not None and existing.status != "posting":
            return 0
        if existing is None:
            late = now - slot.due_at >= LATE_LIMIT
            status, note = ("skipped", "missed: more than 24 h late") if late else await decide(slot)
            claimed = await self._claim(config, slot, kind, channel_id, status, note, now)
            if not claimed or status != "posting":
                return 0
        message_id = await send(slot, weekly_nonce(config.guild_id, slot.week, kind))
        async with self.db.session() as session:
            await WeeklyPostRepo(session).finish(
                config.guild_id, slot.week, kind, message_id, self.clock.now()
            )
        return 1

    async def _decide(self, port: WeeklyPostPort, config: ServerConfig, slot: WeeklySlot) -> tuple[str, str]:
        page = await self._page(port, config, slot)
        if not page.rows and not config.settings.leaderboard.post_empty_week:
            return "skipped", "no points that week"
        return "posting", ""

    async def _claim(
        self,
        config: ServerConfig,
        slot: WeeklySlot,
        kind: str,
        channel_id: int,
        status: str,
        note: str,
        now: datetime,
    ) -> bool:
        async with self.db.session() as session:
            return await WeeklyPostRepo(session).claim(
                {
                    "guild_id": config.guild_id,
                    "week": slot.week,
                    "kind": kind,
                    "status": status,
                    "scheduled_for": slot.due_at,
                    "channel_id": channel_id,
                    "note": note,
                    "updated_at": now,
                }
            )

    async def _page(self, port: WeeklyPostPort, config: ServerConfig, slot: WeeklySlot) -> LeaderboardPage:
        excluded = await port.excluded_members(config.guild_id, config.settings.points.excluded_roles)
        return await self.points.leaderboard(config.guild_id, Window.WEEK, excluded=excluded, span=slot.span)

    async def _send(
        self, port: WeeklyPostPort, config: ServerConfig, slot: WeeklySlot, nonce: str
    ) -> int | None:
        """Send the claimed post (again, after a crash: the nonce keeps it single)."""
        page = await self._page(port, config, slot)
        view = WeeklyPostView(
            guild_id=config.guild_id,
            channel_id=config.leaderboard_channel_id or 0,
            week=slot.week,
            page=page,
            nonce=nonce,
        )
        return await port.post_weekly(view)
