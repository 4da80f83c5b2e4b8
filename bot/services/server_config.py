"""Per-server configuration: defaults from config.toml, overridden by what each server's admins set."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import GuildSettings, QuietHours, Tier, format_validation_error, parse_duration
from bot.config.types import TierChannel, TierRole
from bot.domain.escalation import (
    QuietWindow,
    TierProblem,
    TierRule,
    TierTarget,
    resolve_tier,
    tier_label,
    tier_order_problems,
)
from bot.domain.permissions import ServerRoles
from bot.domain.snowflakes import snowflake_at
from bot.services.errors import UserFacingError
from storage.archive_repo import ArchiveRepo
from storage.engine import Database
from storage.repositories import GuildRepo, HelpChannelRepo, RoleRepo

log = logging.getLogger(__name__)

#: The most escalation tiers a server may have (the settings model allows five).
MAX_TIERS = 5


@dataclass(frozen=True)
class ServerConfig:
    """Everything Unstuck knows about one server's set-up, read in one go."""

    guild_id: int
    settings: GuildSettings
    roles: ServerRoles
    help_channels: dict[int, str] = field(default_factory=dict)  # channel id -> "forum" | "text"
    escalation_channel_id: int | None = None
    leaderboard_channel_id: int | None = None
    archive_channels: frozenset[int] = frozenset()  # help channels whose solved threads are published

    def is_help_channel(self, channel_id: int | None) -> bool:
        return channel_id is not None and channel_id in self.help_channels

    @property
    def tiers(self) -> list[TierRule]:
        """The escalation tiers, as the domain rules take them."""
        return [tier_rule(tier) for tier in self.settings.escalation.tiers]

    @property
    def quiet_hours(self) -> QuietWindow | None:
        """The escalation quiet hours (server time), as the domain rules take them."""
        quiet = self.settings.escalation.quiet_hours
        return None if quiet is None else QuietWindow(quiet.start, quiet.end)

    def tier_target(self, index: int) -> TierTarget | TierProblem:
        """Tier ``index`` (0-based) made concrete: its roles and channel here, or why it can't be."""
        return resolve_tier(index, self.tiers[index], self.roles, self.escalation_channel_id)


def tier_rule(tier: Tier) -> TierRule:
    """A tier setting as the domain rules take it (the domain knows nothing of pydantic)."""
    return TierRule(after=tier.after, role=tier.role, channel=tier.channel)


class TargetChecker(Protocol):
    """Asks Discord whether a tier's roles and channel can be used (the escalation port does)."""

    async def target_problem(self, guild_id: int, target: TierTarget) -> str | None: ...


class InvalidSetting(UserFacingError):
    """A value an admin tried to set does not validate; the message lists every problem."""


def _nested(dotted_key: str, value: Any) -> dict[str, Any]:
    """``"help.dormant_after", "48h"`` -> ``{"help": {"dormant_after": "48h"}}``."""
    result: Any = value
    for part in reversed(dotted_key.split(".")):
        result = {part: result}
    return result


def parse_setting_value(raw: str) -> Any:
    """Read a value typed in Discord: JSON where it parses (numbers, true/false, lists), else the text."""
    text = raw.strip()
    try:
        return json.loads(text)
    except ValueError:
        return text


def shown_key(key: str, limit: int = 60) -> str:
    """A key someone typed, safe to echo: one line, no backticks, at most ``limit`` characters."""
    text = " ".join(key.split()).replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def settable_keys(settings: GuildSettings) -> list[str]:
    """Every dotted setting name an admin may set, for autocomplete and error messages."""
    keys: list[str] = []

    def walk(prefix: str, data: dict[str, Any]) -> None:
        for name, value in data.items():
            key = f"{prefix}{name}"
            if isinstance(value, dict):
                walk(f"{key}.", value)
            else:
                keys.append(key)

    walk("", settings.model_dump(mode="json"))
    return sorted(keys)


class ServerConfigService:
    """Reads and changes a server's configuration; caches it per process.

    The cache is safe with several processes because each server belongs to exactly one process
    (its shard), and every change to a server goes through that process.
    """

    def __init__(self, db: Database, clock: Clock, defaults: GuildSettings) -> None:
        self.db = db
        self.clock = clock
        self.defaults = defaults
        self._cache: dict[int, ServerConfig] = {}
        self._loading: dict[int, asyncio.Future[ServerConfig]] = {}
        self._generation: dict[int, int] = {}  # bumped by every change, so a slow load can't undo it
        # Called with the guild id after its settings changed (e.g. to reschedule dormancy).
        self.listeners: list[Callable[[int], Awaitable[None]]] = []

    async def get(self, guild_id: int, session: AsyncSession | None = None) -> ServerConfig:
        """The server's configuration. Inside a transaction, pass its ``session`` to read through it."""
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        if session is not None:
            generation = self._generation.get(guild_id, 0)
            return self._remember(guild_id, generation, await self._load(guild_id, session))
        # One load per server however many events ask at once (a burst right after start-up).
        loading = self._loading.get(guild_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load_alone(guild_id))
            self._loading[guild_id] = loading
            loading.add_done_callback(lambda done: self._forget_load(guild_id, done))
        return await asyncio.shield(loading)

    async def _load_alone(self, guild_id: int) -> ServerConfig:
        generation = self._generation.get(guild_id, 0)
        async with self.db.reading() as session:
            return self._remember(guild_id, generation, await self._load(guild_id, session))

    def _forget_load(self, guild_id: int, done: asyncio.Future[ServerConfig]) -> None:
        if self._loading.get(guild_id) is done:
            del self._loading[guild_id]

    def _remember(self, guild_id: int, generation: int, config: ServerConfig) -> ServerConfig:
        """Cache ``config`` unless the server changed while it was being read (it would be stale)."""
        if self._generation.get(guild_id, 0) == generation:
            self._cache[guild_id] = config
        return config

    def invalidate(self, guild_id: int) -> None:
        self._generation[guild_id] = self._generation.get(guild_id, 0) + 1
        self._cache.pop(guild_id, None)
        self._loading.pop(guild_id, None)  # a load already running may be stale: the next get reloads

    async def _load(self, guild_id: int, session: AsyncSession) -> ServerConfig:
        guild = await GuildRepo(session).get(guild_id)
        channels = await HelpChannelRepo(session).for_guild(guild_id)
        roles = await RoleRepo(session).for_guild(guild_id)
        # A stored value a newer version no longer accepts is dropped, not fatal for the server.
        settings, problems = self.defaults.merged_lenient(guild.settings if guild else {})
        if problems:
            log.warning("guild %s: ignoring invalid stored settings: %s", guild_id, "; ".join(problems))
        return ServerConfig(
            guild_id=guild_id,
            settings=settings,
            roles=ServerRoles(helper_roles=roles["helper"], staff_roles=roles["staff"]),
            help_channels={c.channel_id: c.kind for c in channels},
            escalation_channel_id=guild.escalation_channel_id if guild else None,
            leaderboard_channel_id=guild.leaderboard_channel_id if guild else None,
            archive_channels=frozenset(await ArchiveRepo(session).channels(guild_id)),
        )

    async def add_help_channel(self, guild_id: int, channel_id: int, kind: str) -> bool:
        async with self.db.session() as session:
            await GuildRepo(session).ensure(guild_id, self.clock.now())
            # Catch-up after downtime starts from the moment the channel became a help channel.
            added = await HelpChannelRepo(session).add(
                guild_id, channel_id, kind, self.clock.now(), snowflake_at(self.clock.now())
            )
        self.invalidate(guild_id)
        return added

    async def remove_help_channel(self, guild_id: int, channel_id: int) -> bool:
        async with self.db.session() as session:
            removed = await HelpChannelRepo(session).remove(guild_id, channel_id)
        self.invalidate(guild_id)
        return removed

    async def add_role(self, guild_id: int, role_id: int, kind: str) -> bool:
        async with self.db.session() as session:
            await GuildRepo(session).ensure(guild_id, self.clock.now())
            added = await RoleRepo(session).add(guild_id, role_id, kind)
        self.invalidate(guild_id)
        return added

    async def remove_role(self, guild_id: int, role_id: int, kind: str) -> bool:
        async with self.db.session() as session:
            removed = await RoleRepo(session).remove(guild_id, role_id, kind)
        self.invalidate(guild_id)
        return removed

    async def set_channel(self, guild_id: int, purpose: str, channel_id: int | None) -> None:
        async with self.db.session() as session:
            await GuildRepo(session).ensure(guild_id, self.clock.now())
            await GuildRepo(session).set_channel(guild_id, purpose, channel_id)
        self.invalidate(guild_id)

    async def set_value(self, guild_id: int, dotted_key: str, raw_value: str) -> ServerConfig:
        """Validate and store one setting; raises :class:`InvalidSetting` naming what is wrong."""
        key = dotted_key.strip()
        if key not in settable_keys(self.defaults):
            raise InvalidSetting(f"`{shown_key(key)}` is not a setting. Pick one from the suggestions.")
        return await self._store(guild_id, key, parse_setting_value(raw_value))

    async def reset_value(self, guild_id: int, dotted_key: str) -> ServerConfig:
        """Forget a server's own value for a setting, so the default applies again."""
        key = dotted_key.strip()
        if key not in settable_keys(self.defaults):
            raise InvalidSetting(f"`{shown_key(key)}` is not a setting.")
        return await self._store(guild_id, key, None)

    async def _store(self, guild_id: int, key: str, value: Any) -> ServerConfig:
        current = await self.get(guild_id)
        overrides = current.settings.override_dict(self.defaults)
        if value is None:
            _drop(overrides, key.split("."))
            settings = self.defaults.merged(overrides)
        else:
            try:
                settings = current.settings.merged(_nested(key, value))
            except ValidationError as error:
                raise InvalidSetting("\n".join(format_validation_error(error))) from None
        async with self.db.session() as session:
            await GuildRepo(session).ensure(guild_id, self.clock.now())
            await GuildRepo(session).save_settings(guild_id, settings.override_dict(self.defaults))
        self.invalidate(guild_id)
        for listener in self.listeners:
            await listener(guild_id)
        return await self.get(guild_id)

    # ---- escalation tiers and quiet hours ---------------------------------------------------------

    async def set_tier(
        self,
        guild_id: int,
        position: int,
        after: str,
        role: TierRole,
        channel: TierChannel,
        checker: TargetChecker,
    ) -> ServerConfig:
        """Replace tier ``position`` (1-based), or add one after the last; explains every problem."""
        config = await self.get(guild_id)
        tiers = list(config.settings.escalation.tiers)
        _check_tier_position(position, len(tiers))
        tier = Tier(after=_tier_wait(after), role=role, channel=channel)
        tiers[position - 1 : position] = [tier]
        problems = tier_order_problems([tier_rule(t) for t in tiers])
        target = resolve_tier(position - 1, tier_rule(tier), config.roles, config.escalation_channel_id)
        if isinstance(target, TierProblem):
            problems.append(target.text)
        elif (problem := await checker.target_problem(guild_id, target)) is not None:
            problems.append(f"{tier_label(position - 1).capitalize()}: {problem}")
        if problems:
            raise InvalidSetting("\n".join(problems))
        return await self._save_tiers(guild_id, tiers)

    async def remove_tier(self, guild_id: int, position: int) -> ServerConfig:
        """Remove tier ``position`` (1-based); the tiers after it move up."""
        config = await self.get(guild_id)
        tiers = list(config.settings.escalation.tiers)
        if not 1 <= position <= len(tiers):
            raise InvalidSetting(f"There is no tier {position}: this server has {len(tiers)}.")
        if len(tiers) == 1:
            raise InvalidSetting(
                "A server keeps at least one tier. To stop escalating, set `escalation.enabled` to false."
            )
        del tiers[position - 1]
        return await self._save_tiers(guild_id, tiers)

    async def _save_tiers(self, guild_id: int, tiers: Sequence[Tier]) -> ServerConfig:
        data = [tier.model_dump(mode="json") for tier in tiers]
        return await self.set_value(guild_id, "escalation.tiers", json.dumps(data))

    async def set_quiet_hours(self, guild_id: int, start: str | None, end: str | None) -> ServerConfig:
        """Set the daily quiet window (server time), or switch it off when neither end is given."""
        if start is None and end is None:
            return await self.reset_value(guild_id, "escalation.quiet_hours")
        if start is None or end is None:
            raise InvalidSetting(
                "Give both `start` and `end` (like 22:00 and 07:00), or neither to turn them off."
            )
        try:
            quiet = QuietHours(start=start, end=end)  # type: ignore[arg-type]
        except ValidationError as error:
            raise InvalidSetting("\n".join(format_validation_error(error))) from None
        return await self.set_value(
            guild_id, "escalation.quiet_hours", json.dumps(quiet.model_dump(mode="json"))
        )


def _check_tier_position(position: int, count: int) -> None:
    """A tier can be set from 1 to one past the last (which adds it), up to :data:`MAX_TIERS`."""
    last = min(count + 1, MAX_TIERS)
    if not 1 <= position <= last:
        extra = f" ({last} adds a new tier)" if count < MAX_TIERS else ""
        raise InvalidSetting(f"There are {count} tiers: pick a tier from 1 to {last}{extra}.")


def _tier_wait(after: str) -> timedelta:
    """A tier's wait typed by an admin, like ``30m``, ``4h`` or ``1d``; longer than zero."""
    try:
        wait = parse_duration(after)
    except ValueError:
        raise InvalidSetting(f"`{after}` is not a duration: write it like 30m, 4h or 1d.") from None
    if wait <= timedelta(0):
        raise InvalidSetting("A tier must wait longer than zero.")
    return wait


def _drop(data: dict[str, Any], path: list[str]) -> None:
    """Remove ``path`` from nested ``data``, pruning sections left empty."""
    head, *rest = path
    if head not in data:
        return
    if rest and isinstance(data[head], dict):
        _drop(data[head], rest)
        if not data[head]:
            del data[head]
    elif not rest:
        del data[head]
