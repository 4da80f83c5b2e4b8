"""A weekly post is owed in its claim's transaction: once per server, week and kind, whatever runs."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from bot.clock import FakeClock
from bot.config import GuildSettings
from bot.domain.sharding import ShardScope
from bot.services.owed import OwedMessage
from bot.services.points import PointsService
from bot.services.server_config import ServerConfigService
from bot.services.weekly_posts import WeeklyPostService, WeeklyPostView, weekly_nonce
from storage.engine import Database
from storage.owed_repo import OwedRepo
from storage.points_repo import WeeklyPostRepo
from storage.repositories import GuildRepo

GUILD = 1 << 22
CHANNEL = 77
WEEK = "2026-W02"  # reported on Monday 12 January 2026, 09:00 UTC (the default slot)
DUE = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


class Port:
    """Renders the post; counts how often (each owed post is rendered once)."""

    def __init__(self) -> None:
        self.rendered: list[str] = []

    async def excluded_members(self, guild_id: int, role_ids: Collection[int]) -> set[int]:
        return set()

    def weekly_post(self, view: WeeklyPostView) -> OwedMessage:
        self.rendered.append(view.week)
        return OwedMessage(view.nonce, view.channel_id, content=f"Top helpers of {view.week}")


async def weekly_service(db: Database, clock: FakeClock) -> WeeklyPostService:
    configs = ServerConfigService(db, clock, GuildSettings())
    async with db.session() as session:
        await GuildRepo(session).ensure(GUILD, clock.now())
    await configs.set_channel(GUILD, "leaderboard", CHANNEL)
    return WeeklyPostService(db, clock, configs, PointsService(db, clock, configs), ShardScope())


async def owed_post(db: Database) -> tuple[str | None, str | None, bool, datetime | None]:
    """(row status, owed status, owed uncertain, owed since) of the week's leaderboard post."""
    async with db.reading() as session:
        row = await WeeklyPostRepo(session).get(GUILD, WEEK, "leaderboard")
        owed = await OwedRepo(session).get(weekly_nonce(GUILD, WEEK))
    return (
        row.status if row else None,
        owed.status if owed else None,
        bool(owed and owed.uncertain),
        owed.created_at if owed else None,
    )


async def test_the_claim_owes_the_post_once_however_often_the_sweep_runs(
    db: Database, clock: FakeClock
) -> None:
    service, port = await weekly_service(db, clock), Port()
    clock.set(DUE)
    assert await service.sweep(port) == 1
    assert await service.sweep(port) == 0
    clock.advance(timedelta(hours=3))
    assert await service.sweep(port) == 0
    assert port.rendered == [WEEK]
    assert await owed_post(db) == ("posted", "pending", False, DUE)
    async with db.reading() as session:
        owed = await OwedRepo(session).get(weekly_nonce(GUILD, WEEK))
    assert owed is not None and owed.channel_id == CHANNEL and owed.kind == "send"
    assert owed.payload["content"] == f"Top helpers of {WEEK}"


async def test_a_post_an_older_version_left_posting_is_owed_once_and_looked_for_first(
    db: Database, clock: FakeClock
) -> None:
    service, port = await weekly_service(db, clock), Port()
    claimed_at = DUE + timedelta(seconds=5)
    async with db.session() as session:
        await WeeklyPostRepo(session).claim(
            {
                "guild_id": GUILD,
                "week": WEEK,
                "kind": "leaderboard",
                "status": "posting",  # claimed, perhaps sent, by a version without owed actions
                "scheduled_for": DUE,
                "channel_id": CHANNEL,
                "note": "",
                "updated_at": claimed_at,
            }
        )
    clock.set(DUE + timedelta(hours=30))  # the upgrade came late: it is owed all the same
    assert await service.sweep(port) == 1
    assert await service.sweep(port) == 0
    assert port.rendered == [WEEK]
    # The worker looks in the channel for a post since the old claim before it sends one.
    assert await owed_post(db) == ("posted", "pending", True, claimed_at)
