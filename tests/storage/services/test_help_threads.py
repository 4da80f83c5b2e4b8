"""Help-thread storage and use cases, run on SQLite and PostgreSQL (see the ``db`` fixture)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import GuildSettings
from bot.domain.lifecycle import ThreadState
from bot.domain.permissions import Actor
from bot.domain.sharding import ShardScope
from bot.services.errors import NotAllowed, NotFound
from bot.services.help_threads import HelpThreadService, NewThread
from bot.services.owed import OwedMessage
from bot.services.server_config import ServerConfig, ServerConfigService
from bot.services.similar import Suggestion
from storage.engine import Database
from storage.models import HelpThread, OwedAction

GUILD = 1 << 22  # shard 1 of 2


OTHER_GUILD = 2 << 22  # shard 0 of 2


ASKER, HELPER, STRANGER = 100, 200, 300


class FakePort:
    """Records the notes the service owed (rendered by the port, posted later by the worker)."""

    def __init__(self) -> None:
        self.welcomes: list[int] = []
        self.suggested: list[list[int]] = []  # per welcome, the threads it suggested
        self.dormant_notes: list[int] = []

    def welcome_note(
        self, thread: HelpThread, config: ServerConfig, suggestions: Sequence[Suggestion]
    ) -> OwedMessage:
        self.welcomes.append(thread.id)
        self.suggested.append([s.thread_id for s in suggestions])
        return OwedMessage(f"w{thread.id}", thread.id, content="Welcome!")

    def dormant_note(self, thread: HelpThread, config: ServerConfig) -> OwedMessage:
        self.dormant_notes.append(thread.id)
        return OwedMessage(f"d{thread.id}", thread.id, content="Quiet, so archived.")


async def owed(db: Database) -> dict[str, tuple[str, int]]:
    """Key -> (status, version) of every owed action."""
    async with db.reading() as session:
        rows = await session.scalars(select(OwedAction))
        return {row.key: (row.status, row.version) for row in rows}


@pytest.fixture
def services(db: Database, clock: FakeClock) -> tuple[ServerConfigService, HelpThreadService]:
    configs = ServerConfigService(db, clock, GuildSettings())
    return configs, HelpThreadService(db, clock, configs, ShardScope())


def new_thread(thread_id: int, at: datetime, guild_id: int = GUILD) -> NewThread:
    return NewThread(
        thread_id=thread_id,
        guild_id=guild_id,
        channel_id=50,
        kind="forum",
        asker_id=ASKER,
        title="How do I X?",
        question="Details",
        created_at=at,
    )


async def test_opening_a_thread_twice_tracks_and_welcomes_once(
    services, db: Database, clock: FakeClock
) -> None:
    _, threads = services
    port = FakePort()
    assert await threads.open_thread(new_thread(1, clock.now()), port)
    assert not await threads.open_thread(new_thread(1, clock.now()), port)
    assert port.welcomes == [1]
    thread = await threads.get(1)
    assert thread is not None
    assert thread.state == ThreadState.OPEN
    assert thread.created_at == clock.now()
    # Owed with the thread: its welcome note and its look (the Unanswered tag).
    assert await owed(db) == {"w1": ("pending", 0), "a1": ("pending", 0)}


async def test_the_welcome_note_suggests_what_the_service_found(db: Database, clock: FakeClock) -> None:
    """The service asks for the suggestions and hands them to Discord: the port renders, never searches."""
    asked: list[int] = []

    async def suggest(thread: HelpThread, config: ServerConfig) -> list[Suggestion]:
        asked.append(thread.id)
        return [Suggestion(7, GUILD, 50, "Solved before", "", None, "1 day ago", 0, 0.9)]

    configs = ServerConfigService(db, clock, GuildSettings())
    threads = HelpThreadService(db, clock, configs, ShardScope(), suggest=suggest)
    port = FakePort()
    await threads.open_thread(new_thread(1, clock.now()), port)
    assert asked == [1]
    assert port.suggested == [[7]]


async def test_first_reply_by_someone_else_answers_once(services, clock: FakeClock) -> None:
    _, threads = services
    await threads.open_thread(new_thread(1, clock.now()), FakePort())
    asker_reply = await threads.record_message(
        thread_id=1, message_id=2, author_id=ASKER, author_is_bot=False, created_at=clock.now()
    )
    assert asker_reply is not None and asker_reply.state == ThreadState.OPEN
    later = clock.advance(timedelta(minutes=5))
    outcome = await threads.record_message(
        thread_id=1, message_id=3, author_id=HELPER, author_is_bot=False, created_at=later
    )
    assert outcome is not None and outcome.first_response
    duplicate = await threads.record_message(
        thread_id=1, message_id=3, author_id=HELPER, author_is_bot=False, created_at=later
    )
    assert duplicate is None
    await threads.record_message(
        thread_id=1, message_id=4, author_id=STRANGER, author_is_bot=False, created_at=later
    )
    thread = await threads.get(1)
    assert thread is not None
    assert thread.state == ThreadState.ANSWERED
    assert thread.answered_at == later
    assert thread.first_responder_id == HELPER


async def test_bot_messages_and_untracked_threads_change_nothing(services, clock: FakeClock) -> None:
    _, threads = services
    await threads.open_thread(new_thread(1, clock.now()), FakePort())
    assert (
        await threads.record_message(
            thread_id=1, message_id=2, author_id=999, author_is_bot=True, created_at=clock.now()
        )
        is None
    )
    assert (
        await threads.record_message(
            thread_id=77, message_id=2, author_id=HELPER, author_is_bot=False, created_at=clock.now()
        )
        is None
    )
    thread = await threads.get(1)
    assert thread is not None and thread.state == ThreadState.OPEN


async def test_close_and_reopen_check_permissions_and_state(services, clock: FakeClock) -> None:
    configs, threads = services
    await threads.open_thread(new_thread(1, clock.now()), FakePort())
    with pytest.raises(NotAllowed):
        await threads.close(1, Actor(user_id=STRANGER), "stale")
    closed = await threads.close(1, Actor(user_id=ASKER), "solved")
    assert closed.state == ThreadState.CLOSED
    assert closed.close_reason == "solved"
    with pytest.raises(NotAllowed):
        await threads.reopen(1, Actor(user_id=STRANGER))
    await configs.add_role(GUILD, 20, "staff")
    reopened = await threads.reopen(1, Actor(user_id=STRANGER, role_ids=frozenset({20})))
    assert reopened.state == ThreadState.OPEN
    assert reopened.close_reason is None
    with pytest.raises(NotFound):
        await threads.close(999, Actor(user_id=ASKER), "x")


async def test_dormancy_sweep_is_idempotent_and_restart_safe(
    db: Database, services, clock: FakeClock
) -> None:
    _, threads = services
    port = FakePort()
    await threads.open_thread(new_thread(1, clock.now()), port)
    await threads.open_thread(new_thread(2, clock.now() + timedelta(hours=1)), port)
    clock.advance(timedelta(hours=72))
    assert await threads.sweep_dormant(port) == 1
    assert await threads.sweep_dormant(port) == 0
    assert port.dormant_notes == [1]
    owes = await owed(db)
    assert owes["d1"] == ("pending", 0) and owes["a1"] == ("pending", 1)  # the note, then the archive
    clock.advance(timedelta(hours=1))
    # A second process (same database) sweeping at the same moment gets nothing twice.
    other = HelpThreadService(db, clock, threads.configs, ShardScope())
    results = [await threads.sweep_dormant(port), await other.sweep_dormant(port)]
    assert sorted(results) == [0, 1]
    assert port.dormant_notes == [1, 2]


async def test_asker_message_reopens_a_dormant_thread_and_restarts_its_timer(
    services, clock: FakeClock
) -> None:
    _, threads = services
    port = FakePort()
    await threads.open_thread(new_thread(1, clock.now()), port)
    clock.advance(timedelta(hours=73))
    await threads.sweep_dormant(port)
    outcome = await threads.record_message(
        thread_id=1, message_id=5, author_id=ASKER, author_is_bot=False, created_at=clock.now()
    )
    assert outcome is not None and outcome.reopened
    thread = await threads.get(1)
    assert thread is not None
    assert thread.state == ThreadState.OPEN
    assert thread.dormant_due_at == clock.now() + timedelta(hours=72)


async def test_sweep_only_touches_guilds_of_its_own_shards(db: Database, services, clock: FakeClock) -> None:
    configs, _ = services
    port = FakePort()
    shard0 = HelpThreadService(db, clock, configs, ShardScope(shard_ids=[0], shard_count=2))
    shard1 = HelpThreadService(db, clock, configs, ShardScope(shard_ids=[1], shard_count=2))
    await shard1.open_thread(new_thread(1, clock.now(), guild_id=GUILD), port)
    await shard0.open_thread(new_thread(2, clock.now(), guild_id=OTHER_GUILD), port)
    clock.advance(timedelta(days=4))
    assert await shard0.sweep_dormant(port) == 1
    assert port.dormant_notes == [2]
    assert await shard1.sweep_dormant(port) == 1
    assert port.dormant_notes == [2, 1]


async def test_changing_the_idle_time_reschedules_live_threads(services, clock: FakeClock) -> None:
    configs, threads = services
    await threads.open_thread(new_thread(1, clock.now()), FakePort())
    await configs.set_value(GUILD, "help.dormant_after", "24h")
    thread = await threads.get(1)
    assert thread is not None
    assert thread.dormant_due_at == thread.last_activity_at + timedelta(hours=24)


async def test_the_earliest_reply_is_the_first_response_whatever_the_processing_order(
    services: tuple[ServerConfigService, HelpThreadService], clock: FakeClock
) -> None:
    _, threads = services
    start = clock.now()
    await threads.open_thread(new_thread(1, start), FakePort())
    later, earlier = start + timedelta(minutes=10), start + timedelta(minutes=5)
    await threads.record_message(
        thread_id=1, message_id=3, author_id=HELPER, author_is_bot=False, created_at=later
    )
    await threads.record_message(
        thread_id=1, message_id=2, author_id=STRANGER, author_is_bot=False, created_at=earlier
    )
    thread = await threads.get(1)
    assert thread is not None
    assert (thread.first_responder_id, thread.answered_at) == (STRANGER, earlier)
