"""Health-stats queries on SQLite and PostgreSQL: periods, channels, deleted threads, escalations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.config import GuildSettings
from bot.domain.lifecycle import AskedThread, ThreadState
from bot.domain.permissions import Actor
from bot.domain.sharding import ShardScope
from bot.domain.stats import Period
from bot.services.errors import NotAllowed
from bot.services.points import PointsService
from bot.services.server_config import ServerConfigService
from bot.services.stats import StatsService
from bot.services.weekly_posts import WeeklyPostService
from storage.engine import Database
from storage.escalation_repo import EscalationRepo
from storage.repositories import GuildRepo, ThreadRepo

GUILD = 1 << 22
FORUM, TEXT = 10, 11
HELEN, SAM = 200, 201


def service(db: Database, clock: FakeClock) -> StatsService:
    configs = ServerConfigService(db, clock, GuildSettings())
    weekly = WeeklyPostService(db, clock, configs, PointsService(db, clock, configs), ShardScope())
    return StatsService(db, clock, configs, weekly)


async def add_thread(db: Database, thread_id: int, asked: datetime, **facts: Any) -> None:
    thread = AskedThread(thread_id, GUILD, FORUM, "forum", 100, f"q{thread_id}", "", asked)
    columns = {"state": ThreadState.OPEN, "last_activity_at": asked, **facts}
    async with db.session() as session:
        await GuildRepo(session).ensure(GUILD, asked)
        await ThreadRepo(session).insert(thread, **columns)


async def test_stats_count_the_questions_of_the_period_and_channel(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    day = timedelta(days=1)
    await add_thread(
        db, 1, now - 2 * day, answered_at=now - 2 * day + timedelta(minutes=20), first_responder_id=HELEN
    )
    await add_thread(
        db,
        2,
        now - 3 * day,
        answered_at=now - 3 * day + timedelta(hours=1),
        first_responder_id=SAM,
        solved_at=now - 2 * day,
        state=ThreadState.SOLVED,
    )
    await add_thread(db, 3, now - 4 * day, dormant_at=now - day, state=ThreadState.DORMANT)
    await add_thread(db, 4, now - 20 * day, channel_id=TEXT, kind="text")
    await add_thread(db, 5, now - 60 * day)
    await add_thread(db, 6, now - day, deleted=True)
    async with db.session() as session:
        repo = EscalationRepo(session)
        await repo.schedule(3, GUILD, [now - 3 * day, now], now)
        digest = await repo.open_digest(GUILD, 0, 99, [1], now)
        await repo.claim_deliveries(0, [3], digest, now)
        await repo.finish_digest(digest, {3: 1234}, now)
    stats = service(db, clock)
    week = await stats.stats(GUILD, Period.WEEK)
    assert (week.asked, week.answered, week.solved, week.dormant_unanswered) == (3, 2, 1, 1)
    assert week.median_first_response == timedelta(minutes=40)
    assert week.escalated == {0: 1}
    assert week.top_helpers == [(HELEN, 1), (SAM, 1)]
    month = await stats.stats(GUILD, Period.MONTH)
    assert month.asked == 4
    assert (await stats.stats(GUILD, Period.ALL)).asked == 5
    text_only = await stats.stats(GUILD, Period.ALL, channel_id=TEXT)
    assert text_only.asked == 1 and text_only.answered == 0


async def test_stats_visibility_follows_the_server_setting(db: Database, clock: FakeClock) -> None:
    stats = service(db, clock)
    member = Actor(300)
    with pytest.raises(NotAllowed, match="only staff"):
        await stats.require_viewer(GUILD, member)
    await stats.require_viewer(GUILD, Actor(301, manage_guild=True))
    await stats.configs.set_value(GUILD, "stats.visibility", "everyone")
    await stats.require_viewer(GUILD, member)
