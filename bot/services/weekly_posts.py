"""The weekly leaderboard post: exactly once per server and ISO week, whatever the scheduler does.

Each run looks at the most recent scheduled moment of every server it owns. The (server, week, kind)
row is the claim, and the transaction that writes it also owes the post (:mod:`bot.services.owed`):
the two exist together or not at all, even across a crash. A second run, a restart or a second
process finds the row and does nothing; the delivery worker sends the post while the bot runs,
retrying while Discord fails, with the (server, week, kind) nonce as its key, and looks in the
channel before sending again when it cannot know whether a try went out. A post more than 24 h late
(the bot was down) is recorded as skipped instead of surprising people days later.

A row's status: ``posted`` (the post is owed: the owed action keyed :func:`weekly_nonce` says whether
it reached Discord yet, and its message id), ``skipped`` (``note`` says why), or ``posting``: claimed
by a version of Unstuck from before owed actions and perhaps sent. The next sweep owes such a post
like a new one, looking in the channel first.
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
from bot.services.owed import OwedActions, OwedMessage
from bot.services.points import LeaderboardPage, PointsService
from bot.services.server_config import ServerConfig, ServerConfigService
from storage.engine import Database
from storage.models import Guild
from storage.points_repo import POSTED, SKIPPED, WeeklyPostRepo
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
    nonce: str  # the owed message's key


class WeeklyPostPort(Protocol):
    async def excluded_members(self, guild_id: int, role_ids: Collection[int]) -> set[int]: ...

    def weekly_post(self, view: WeeklyPostView) -> OwedMessage:
        """The post rendered as an owed message, keyed ``view.nonce``, to ``view.channel_id``."""
        ...


def weekly_nonce(guild_id: int, week: str, kind: str = KIND) -> str:
    """A per-(server, week, kind) nonce within Discord's 25 characters: ``l2603`` + the guild id.
    It is also the key of the owed post."""
    return f"{kind[0]}{week[2:4]}{week[-2:]}{guild_id}"[:25]


#: What a claimed week's post is, given the nonce to key it by: the message to owe, or why it is skipped.
Prepare = Callable[[WeeklySlot, str], Awaitable[OwedMessage | str]]
#: Owes one server's weekly post if due, given its settings and when Unstuck joined it; 1 if owed now.
PostFor = Callable[[ServerConfig, datetime], Awaitable[int]]


class WeeklyPostService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        configs: ServerConfigService,
        points: PointsService,
        scope: ShardScope,
        owed: OwedActions | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.configs = configs
        self.points = points
        self.scope = scope
        # Where a claim owes its post (without a delivery worker, as in some tests, it stays owed).
        self.owed = owed or OwedActions(clock)

    async def sweep(self, port: WeeklyPostPort, only_guild: int | None = None) -> int:
        """Owe every weekly leaderboard post that is due; returns how many were owed now."""

        def wanted(config: ServerConfig) -> bool:
            return config.settings.leaderboard.enabled and bool(config.leaderboard_channel_id)

        async def post(config: ServerConfig, since: datetime) -> int:
            return await self._guild(port, config, since)

        return await self.sweep_guilds(Guild.leaderboard_channel_id, wanted, post, only_guild)

    async def sweep_guilds(
        self, channel: Any, wanted: Callable[[ServerConfig], bool], post: PostFor, only_guild: int | None
    ) -> int:
        """Run ``post`` for each server this process owns that sets ``channel`` and wants the post
        (``only_guild``: just that one); returns how many posts were owed. Every weekly post's sweep."""
        async with self.db.reading() as session:
            guilds = await GuildRepo(session).owned_with_channel(
                channel, self.scope.shard_ids, self.scope.shard_count, only_guild
            )
        posted = 0
        for guild in guilds:
            config = await self.configs.get(guild.id)
            if not wanted(config):
                continue
            posted += await post(config, guild.created_at)
        return posted

    def slot(self, config: ServerConfig) -> WeeklySlot:
        board = config.settings.leaderboard
        return latest_weekly_slot(self.clock.now(), config.settings.zone, board.weekday_index, board.time)

    async def _guild(self, port: WeeklyPostPort, config: ServerConfig, since: datetime) -> int:
        async def prepare(slot: WeeklySlot, nonce: str) -> OwedMessage | str:
            page = await self._page(port, config, slot)
            if not page.rows and not config.settings.leaderboard.post_empty_week:
                return "no points that week"
            channel_id = config.leaderboard_channel_id or 0
            return port.weekly_post(WeeklyPostView(config.guild_id, channel_id, slot.week, page, nonce))

        return await self.post_once(config, KIND, config.leaderboard_channel_id or 0, since, prepare)

    async def post_once(
        self, config: ServerConfig, kind: str, channel_id: int, since: datetime, prepare: Prepare
    ) -> int:
        """Owe the server's ``kind`` post of this week's slot exactly once; 1 when it was owed now.

        The (server, week, kind) row is the claim, written in the transaction that owes the post.
        Other weekly posts (the health report) reuse this with their own kind.
        """
        now, slot = self.clock.now(), self.slot(config)
        if slot.due_at < since:
            return 0  # that week ended before Unstuck joined the server
        async with self.db.reading() as session:
            existing = await WeeklyPostRepo(session).get(config.guild_id, slot.week, kind)
        if existing is not None and existing.status in (POSTED, SKIPPED):
            return 0
        nonce = weekly_nonce(config.guild_id, slot.week, kind)
        if existing is None and now - slot.due_at >= LATE_LIMIT:
            outcome: OwedMessage | str = "missed: more than 24 h late"
        else:
            outcome = await prepare(slot, nonce)
        post = outcome if isinstance(outcome, OwedMessage) else None
        if post is not None and post.key != nonce:
            raise ValueError(f"a weekly post must be keyed by its nonce {nonce!r}, not {post.key!r}")
        status, note = (POSTED, "") if post is not None else (SKIPPED, str(outcome))
        async with self.db.session() as session:
            repo = WeeklyPostRepo(session)
            if existing is None:
                values = _claim(config.guild_id, slot, kind, channel_id, status, note, now)
                if not await repo.claim(values):
                    return 0  # another run got there first
                sent_since = None
            else:
                # Claimed by an older version, which may have sent it: look in the channel first.
                if not await repo.settle_legacy(config.guild_id, slot.week, kind, status, note, now):
                    return 0
                sent_since = existing.updated_at
            if post is not None:
                await self.owed.message(session, config.guild_id, post, maybe_sent_since=sent_since)
        return 1 if post is not None else 0

    async def _page(self, port: WeeklyPostPort, config: ServerConfig, slot: WeeklySlot) -> LeaderboardPage:
        excluded = await port.excluded_members(config.guild_id, config.settings.points.excluded_roles)
        return await self.points.leaderboard(config.guild_id, Window.WEEK, excluded=excluded, span=slot.span)


def _claim(
    guild_id: int, slot: WeeklySlot, kind: str, channel_id: int, status: str, note: str, now: datetime
) -> dict[str, Any]:
    return {
        "guild_id": guild_id,
        "week": slot.week,
        "kind": kind,
        "status": status,
        "scheduled_for": slot.due_at,
        "channel_id": channel_id,
        "note": note,
        "updated_at": now,
    }
