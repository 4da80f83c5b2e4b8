"""The escalation sweep (bot.services.escalation_digests) on SQLite and PostgreSQL: one digest per tier,
once, crash retries with the same nonce, each process its own servers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.domain.sharding import ShardScope
from bot.services.delivery import FIRST_RETRY, RetryAfter, Unavailable
from bot.services.escalation import EscalationService
from storage.engine import Database
from storage.escalation_repo import EscalationRepo
from storage.models import EscalationDelivery
from storage.repositories import owned_by_shards
from tests.storage.services.escalation_world import (
    GUILD,
    HELPER,
    OTHER_GUILD,
    World,
)


async def test_due_threads_are_delivered_once_per_tier_in_one_digest(world: World) -> None:
    for thread_id in (1, 2, 3):
        await world.ask(thread_id)
    await world.threads.record_message(
        thread_id=3, message_id=31, author_id=HELPER, author_is_bot=False, created_at=world.clock.now()
    )
    world.clock.advance(timedelta(hours=4))
    assert await world.sweep() == 1
    assert await world.sweep() == 0
    assert world.port.threads() == [1, 2]  # the answered thread left the queue
    assert await world.statuses(3) == {0: "cancelled", 1: "pending"}
    world.clock.advance(timedelta(hours=20))
    assert await world.sweep() == 1
    assert world.port.threads() == [1, 2, 1, 2]
    assert await world.statuses(1) == {0: "sent", 1: "sent"}


async def test_a_crash_between_send_and_record_is_retried_with_the_same_nonce(world: World) -> None:
    await world.ask(1)
    world.clock.advance(timedelta(hours=4))
    world.port.crash_after_send = True
    with pytest.raises(ConnectionError):
        await world.sweep()
    assert await world.statuses(1) == {0: "sending", 1: "pending"}
    world.port.crash_after_send = False
    restarted = EscalationService(world.db, world.clock, world.configs, ShardScope())
    assert await restarted.sweep(world.port) == 1  # the unfinished digest goes out (again)
    assert len(world.port.sent) == 1  # ... as the same message: the nonce matched
    assert await world.statuses(1) == {0: "sent", 1: "pending"}


async def test_a_digest_discord_failed_is_sent_by_a_later_tick_after_a_backoff(world: World) -> None:
    await world.ask(1)
    world.clock.advance(timedelta(hours=4))
    world.port.failures = [Unavailable("503"), "hang"]
    world.escalation.digests.call_timeout = 0.05
    assert await world.sweep() == 0  # Discord answered 503: the bot goes on running
    assert await world.statuses(1) == {0: "sending", 1: "pending"}
    assert await world.sweep() == 0 and world.port.failures == ["hang"]  # backing off: not asked yet
    world.clock.advance(timedelta(seconds=FIRST_RETRY))
    assert await world.sweep() == 0  # no answer in time: the sweep did not wait for it
    world.escalation.digests.call_timeout = 30  # a loaded machine must not time out a call that answers
    world.clock.advance(timedelta(seconds=FIRST_RETRY * 2))
    assert await world.sweep() == 1
    assert world.port.threads() == [1]
    assert await world.statuses(1) == {0: "sent", 1: "pending"}


async def test_a_long_rate_limit_on_a_digest_is_waited_out_exactly(world: World) -> None:
    await world.ask(1)
    world.clock.advance(timedelta(hours=4))
    world.port.failures = [RetryAfter(300)]
    assert await world.sweep() == 0
    world.clock.advance(timedelta(seconds=299))
    assert await world.sweep() == 0 and world.port.sent == []
    world.clock.advance(timedelta(seconds=1))
    assert await world.sweep() == 1


async def test_a_digest_discord_does_not_confirm_in_time_stays_owed_for_the_next_sweep(world: World) -> None:
    await world.ask(1)
    world.clock.advance(timedelta(hours=4))
    world.port.time_out = True
    assert await world.sweep() == 0  # no exception: the sweep goes on with its other digests
    assert await world.statuses(1) == {0: "sending", 1: "pending"}
    world.port.time_out = False
    world.clock.advance(timedelta(seconds=FIRST_RETRY))  # after a short backoff
    assert await world.sweep() == 1
    assert await world.statuses(1) == {0: "sent", 1: "pending"}


async def test_each_process_sweeps_only_the_servers_of_its_shards(db: Database, clock: FakeClock) -> None:
    shard0 = World(db, clock, ShardScope(shard_ids=[0], shard_count=2))
    shard1 = World(db, clock, ShardScope(shard_ids=[1], shard_count=2))
    for guild in (GUILD, OTHER_GUILD):
        await shard0.set_up(guild)
    await shard0.ask(1, GUILD)
    await shard0.ask(2, OTHER_GUILD)
    clock.advance(timedelta(hours=4))
    assert await shard0.sweep() == 1
    assert await shard1.sweep() == 1
    assert await shard0.sweep() == await shard1.sweep() == 0
    assert shard0.port.threads() == [2] and shard1.port.threads() == [1]


async def test_the_due_query_only_returns_owned_due_pending_rows(world: World) -> None:
    await world.ask(1)
    await world.ask(2, at=world.clock.now() - timedelta(hours=5))
    async with world.db.session() as session:
        owned = owned_by_shards(EscalationDelivery.guild_id, [1], 2)
        due = await EscalationRepo(session).due(owned, world.clock.now(), 100)
        elsewhere = owned_by_shards(EscalationDelivery.guild_id, [0], 2)
        assert await EscalationRepo(session).due(elsewhere, world.clock.now(), 100) == []
    assert [(d.thread_id, d.tier) for d in due] == [(2, 0)]
