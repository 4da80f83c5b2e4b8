"""Escalation storage and service on SQLite and PostgreSQL: scheduling, claims, digests, crash retries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.clock import FakeClock
from bot.config import GuildSettings
from bot.domain.escalation import TierTarget
from bot.domain.permissions import Actor
from bot.domain.sharding import ShardScope
from bot.services.errors import NotAllowed, UserFacingError
from bot.services.escalation import EscalationService
from bot.services.escalation_digests import DigestPart, DigestView
from bot.services.help_threads import HelpThreadService, NewThread
from bot.services.server_config import ServerConfigService
from storage.engine import Database
from storage.escalation_repo import EscalationRepo
from storage.models import EscalationDelivery
from storage.repositories import owned_by_shards
from tests.storage.services.test_help_threads import FakePort as FakeThreadPort

GUILD = 1 << 22  # shard 1 of 2
OTHER_GUILD = 2 << 22  # shard 0 of 2
HELPERS, STAFF, ESCALATIONS = 501, 502, 503
ASKER, HELPER, STRANGER = 100, 200, 300


class FakeEscalationPort:
    """Records digests instead of posting them; can be told to crash before recording a send."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int, str, list[int]]] = []  # digest id, part, nonce, thread ids
        self.by_nonce: dict[str, int] = {}
        self.crash_after_send = False
        self.problem: str | None = None

    async def target_problem(self, guild_id: int, target: TierTarget) -> str | None:
        return self.problem

    async def send_digest_part(self, view: DigestView, part: DigestPart) -> int | None:
        if part.nonce not in self.by_nonce:  # Discord's enforce_nonce: a retry returns the first message
            self.by_nonce[part.nonce] = 9000 + len(self.by_nonce)
            self.sent.append((view.digest_id, part.index, part.nonce, [e.thread_id for e in part.entries]))
        if self.crash_after_send:
            raise ConnectionError("the process died after sending")
        return self.by_nonce[part.nonce]

    async def refresh_digest_message(self, view: DigestView, part: DigestPart, message_id: int) -> None:
        return None

    def threads(self) -> list[int]:
        return [thread for *_, threads in self.sent for thread in threads]


class World:
    def __init__(self, db: Database, clock: FakeClock, scope: ShardScope | None = None) -> None:
        self.db, self.clock = db, clock
        self.configs = ServerConfigService(db, clock, GuildSettings())
        self.threads = HelpThreadService(db, clock, self.configs, scope or ShardScope())
        self.escalation = EscalationService(db, clock, self.configs, scope or ShardScope())
        self.threads.opened.append(self.escalation.schedule_new_thread)
        self.threads.reopened.append(self.escalation.requeue_reopened)
        self.port = FakeEscalationPort()

    async def set_up(self, guild_id: int = GUILD) -> None:
        await self.configs.add_role(guild_id, HELPERS, "helper")
        await self.configs.add_role(guild_id, STAFF, "staff")
        await self.configs.set_channel(guild_id, "escalation", ESCALATIONS)

    async def ask(self, thread_id: int, guild_id: int = GUILD, at: datetime | None = None) -> None:
        new = NewThread(
            thread_id=thread_id,
            guild_id=guild_id,
            channel_id=7,
            kind="forum",
            asker_id=ASKER,
            title=f"question {thread_id}",
            question="?",
            created_at=at or self.clock.now(),
        )
        await self.threads.open_thread(new, FakeThreadPort())

    async def sweep(self) -> int:
        return await self.escalation.sweep(self.port, force=True)

    async def statuses(self, thread_id: int) -> dict[int, str]:
        async with self.db.session() as session:
            return await EscalationRepo(session).tiers_reached(thread_id)


@pytest.fixture
async def world(db: Database, clock: FakeClock) -> World:
    w = World(db, clock)
    await w.set_up()
    return w


async def test_a_new_thread_gets_one_pending_delivery_per_tier(world: World) -> None:
    await world.ask(1)
    async with world.db.session() as session:
        rows = (await session.execute(EscalationDelivery.__table__.select())).all()
    assert sorted((r.tier, r.due_at - world.clock.now()) for r in rows) == [
        (0, timedelta(hours=4)),
        (1, timedelta(hours=24)),
    ]


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


async def test_claims_are_exclusive_and_need_a_helper(world: World) -> None:
    await world.ask(1)
    world.clock.advance(timedelta(hours=4))
    await world.sweep()
    with pytest.raises(NotAllowed):
        await world.escalation.claim(GUILD, 1, Actor(STRANGER))
    result = await world.escalation.claim(GUILD, 1, Actor(HELPER, role_ids=frozenset({HELPERS})))
    assert [message for _, message in result.digest_messages] == [9000]
    with pytest.raises(UserFacingError, match="already claimed"):
        await world.escalation.claim(GUILD, 1, Actor(STRANGER, role_ids=frozenset({STAFF})))
    world.clock.advance(timedelta(days=1))
    assert await world.sweep() == 0
    assert await world.statuses(1) == {0: "sent", 1: "cancelled"}


async def test_escalate_sends_tier_one_now_and_only_once(world: World) -> None:
    await world.ask(1)
    asker = Actor(ASKER)
    with pytest.raises(UserFacingError, match="you can escalate"):
        await world.escalation.escalate(1, asker, world.port)
    world.clock.advance(timedelta(minutes=30))
    result = await world.escalation.escalate(1, asker, world.port)
    assert result.delivered and result.channel_id == ESCALATIONS
    with pytest.raises(UserFacingError, match="once"):
        await world.escalation.escalate(1, asker, world.port)
    world.clock.advance(timedelta(hours=4))
    assert await world.sweep() == 0
    assert world.port.threads() == [1]


async def test_tier_edits_move_pending_due_times(world: World) -> None:
    await world.ask(1)
    await world.configs.set_tier(GUILD, 1, "1h", "helper", "escalation", world.port)
    await world.configs.set_tier(GUILD, 3, "2d", "staff", "escalation", world.port)
    statuses = await world.statuses(1)
    assert statuses == {0: "pending", 1: "pending", 2: "pending"}
    world.clock.advance(timedelta(hours=1))
    assert await world.sweep() == 1
    await world.configs.remove_tier(GUILD, 3)
    assert (await world.statuses(1))[2] == "cancelled"


async def test_held_back_when_the_target_is_unusable_then_delivered(world: World) -> None:
    await world.ask(1)
    world.clock.advance(timedelta(hours=4))
    world.port.problem = "its channel (id 503) no longer exists."
    assert await world.sweep() == 0
    report = await world.escalation.queue.report(GUILD, world.port)
    assert "no longer exists" in (report.tiers[0].problem or "")
    assert [q.thread.thread_id for q in report.threads] == [1]
    world.port.problem = None
    assert await world.sweep() == 1


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


async def due_times_of(world: World, thread_id: int) -> dict[int, tuple[str, timedelta]]:
    """tier -> (status, due time counted from now)."""
    async with world.db.session() as session:
        rows = (await session.execute(EscalationDelivery.__table__.select())).all()
    return {r.tier: (r.status, r.due_at - world.clock.now()) for r in rows if r.thread_id == thread_id}


async def test_a_reopened_unanswered_thread_is_escalated_again_counting_from_the_reopening(
    world: World,
) -> None:
    await world.ask(1)
    await world.threads.close(1, Actor(ASKER), "stale")
    world.clock.advance(timedelta(hours=25))
    await world.sweep()
    assert await world.statuses(1) == {0: "cancelled", 1: "cancelled"}  # closed when they fell due
    await world.threads.reopen(1, Actor(ASKER))
    assert await due_times_of(world, 1) == {
        0: ("pending", timedelta(hours=4)),
        1: ("pending", timedelta(hours=24)),
    }
    world.clock.advance(timedelta(hours=4))
    assert await world.sweep() == 1
    assert world.port.threads() == [1]
    # Closed and reopened once more: the tier already sent is not sent twice.
    await world.threads.close(1, Actor(ASKER), "stale")
    world.clock.advance(timedelta(hours=24))
    await world.sweep()
    await world.threads.reopen(1, Actor(ASKER))
    assert await due_times_of(world, 1) == {
        0: ("sent", -timedelta(hours=24)),
        1: ("pending", timedelta(hours=24)),
    }


async def test_an_answered_thread_reopened_is_not_queued_again(world: World) -> None:
    await world.ask(1)
    await world.threads.record_message(
        thread_id=1, message_id=11, author_id=HELPER, author_is_bot=False, created_at=world.clock.now()
    )
    await world.threads.close(1, Actor(ASKER), "solved")
    world.clock.advance(timedelta(hours=25))
    await world.sweep()
    await world.threads.reopen(1, Actor(ASKER))
    assert await world.statuses(1) == {0: "cancelled", 1: "cancelled"}


async def test_threads_tracked_before_escalation_existed_get_their_tiers_at_start_up(world: World) -> None:
    world.threads.opened.clear()  # as before migration 0004: tracked without delivery rows
    await world.ask(1)
    world.clock.advance(timedelta(hours=1))
    assert await world.statuses(1) == {}
    assert await world.escalation.schedule_unscheduled(GUILD) == 1
    assert await due_times_of(world, 1) == {
        0: ("pending", timedelta(hours=3)),
        1: ("pending", timedelta(hours=23)),
    }
    assert await world.escalation.schedule_unscheduled(GUILD) == 0


async def test_the_asker_waking_a_dormant_unanswered_thread_queues_it_again(world: World) -> None:
    await world.ask(1)
    world.clock.advance(timedelta(days=4))
    await world.threads.sweep_dormant(FakeThreadPort())
    await world.sweep()
    assert await world.statuses(1) == {0: "cancelled", 1: "cancelled"}
    await world.threads.record_message(
        thread_id=1, message_id=11, author_id=ASKER, author_is_bot=False, created_at=world.clock.now()
    )
    assert await due_times_of(world, 1) == {
        0: ("pending", timedelta(hours=4)),
        1: ("pending", timedelta(hours=24)),
    }
