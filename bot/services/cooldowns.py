"""Per-member cooldowns of the commands that cost real work (`/similar`, `/stats`, the leaderboard).

The buckets live in memory: losing them on a restart only forgives a few seconds of waiting.
Helpers and staff are exempt (:func:`bot.domain.permissions.skips_cooldowns`).
"""

from __future__ import annotations

from bot.clock import Clock
from bot.domain.cooldowns import DEFAULT_LIMITS, Bucket, Costly, Limit, is_idle, take, wait_seconds
from bot.domain.permissions import Actor, skips_cooldowns
from bot.services.errors import UserFacingError
from bot.services.server_config import ServerConfigService

#: Buckets kept before the idle ones (refilled completely, so equal to none) are dropped.
PRUNE_AT = 10_000

_NAMES = {Costly.SIMILAR: "`/similar`", Costly.STATS: "`/stats`", Costly.LEADERBOARD: "the leaderboard"}


class OnCooldown(UserFacingError):
    """The member used a costly command too often; ``str(error)`` says how long to wait."""


class Cooldowns:
    """One token bucket per (server, member, command)."""

    def __init__(
        self, clock: Clock, configs: ServerConfigService, limits: dict[Costly, Limit] | None = None
    ) -> None:
        self.clock = clock
        self.configs = configs
        self.limits = limits or DEFAULT_LIMITS
        self._buckets: dict[tuple[int, int, Costly], Bucket] = {}

    async def use(self, guild_id: int, actor: Actor, command: Costly) -> None:
        """Count one use of ``command``; raises :class:`OnCooldown` when the member must wait."""
        if skips_cooldowns(actor, (await self.configs.get(guild_id)).roles):
            return
        now = self.clock.now()
        key = (guild_id, actor.user_id, command)
        verdict = take(self._buckets.get(key), self.limits[command], now)
        self._buckets[key] = verdict.bucket
        if len(self._buckets) > PRUNE_AT:
            self._prune()
        if verdict.retry_after is not None:
            seconds = wait_seconds(verdict.retry_after)
            raise OnCooldown(
                f"You're going a bit fast: please try {_NAMES[command]} again in {seconds} s. "
                "It does real work on the server, so each member gets a few uses a minute."
            )

    def _prune(self) -> None:
        now = self.clock.now()
        for key, bucket in list(self._buckets.items()):
            if is_idle(bucket, self.limits[key[2]], now):
                del self._buckets[key]
