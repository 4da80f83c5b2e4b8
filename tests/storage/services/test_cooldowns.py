"""Cooldowns of costly commands (bot.services.cooldowns) on SQLite and PostgreSQL (roles are config)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.config import GuildSettings
from bot.domain.cooldowns import Costly
from bot.domain.permissions import Actor
from bot.services.cooldowns import Cooldowns, OnCooldown
from bot.services.server_config import ServerConfigService
from storage.engine import Database

GUILD, OTHER_GUILD, HELPERS, STAFF = 1 << 22, 2 << 22, 11, 12
MEMBER, OTHER_MEMBER = 100, 200


@pytest.fixture
async def cooldowns(db: Database, clock: FakeClock) -> Cooldowns:
    configs = ServerConfigService(db, clock, GuildSettings())
    await configs.add_role(GUILD, HELPERS, "helper")
    await configs.add_role(GUILD, STAFF, "staff")
    return Cooldowns(clock, configs)


async def test_a_member_who_keeps_searching_is_asked_to_wait_then_may_again(
    cooldowns: Cooldowns, clock: FakeClock
) -> None:
    member = Actor(MEMBER)
    for _ in range(4):
        await cooldowns.use(GUILD, member, Costly.SIMILAR)
    with pytest.raises(OnCooldown) as refused:
        await cooldowns.use(GUILD, member, Costly.SIMILAR)
    assert "please try `/similar` again in 15 s" in str(refused.value)
    clock.advance(timedelta(seconds=14))
    with pytest.raises(OnCooldown, match="again in 1 s"):
        await cooldowns.use(GUILD, member, Costly.SIMILAR)
    clock.advance(timedelta(seconds=1))
    await cooldowns.use(GUILD, member, Costly.SIMILAR)


async def test_buckets_are_per_member_server_and_command(cooldowns: Cooldowns) -> None:
    member = Actor(MEMBER)
    for _ in range(2):
        await cooldowns.use(GUILD, member, Costly.STATS)
    with pytest.raises(OnCooldown, match="`/stats` again in 30 s"):
        await cooldowns.use(GUILD, member, Costly.STATS)
    await cooldowns.use(GUILD, Actor(OTHER_MEMBER), Costly.STATS)
    await cooldowns.use(OTHER_GUILD, member, Costly.STATS)
    await cooldowns.use(GUILD, member, Costly.SIMILAR)


async def test_helpers_and_staff_are_not_limited(cooldowns: Cooldowns) -> None:
    for actor in (
        Actor(MEMBER, role_ids=frozenset({HELPERS})),
        Actor(MEMBER, role_ids=frozenset({STAFF})),
        Actor(MEMBER, manage_guild=True),
    ):
        for _ in range(20):
            await cooldowns.use(GUILD, actor, Costly.LEADERBOARD)
    with pytest.raises(OnCooldown):  # Manage Threads alone is a moderator, not a helper
        for _ in range(20):
            await cooldowns.use(GUILD, Actor(OTHER_MEMBER, manage_threads=True), Costly.LEADERBOARD)
