"""Importing solved history on SQLite and PostgreSQL: what counts, never twice, resumable, no points."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.config import GuildSettings
from bot.domain.lifecycle import AskedThread, ThreadState
from bot.domain.permissions import Actor
from bot.services.backfill import BackfillService, BackfillStatus, HistoricThread, MarkedMessage, ThreadStub
from bot.services.server_config import ServerConfigService
from storage.engine import Database
from storage.models import BackfillProgress, HelpThread, OwedAction, PointEntry, Solution

GUILD, FORUM, TEXT = 1 << 22, 50, 60
ASKER, HELPER, STRANGER, HELPER_ROLE = 100, 200, 300, 10
T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


class Interrupted(Exception):
    pass


@dataclass
class FakeHistory:
    """Archived threads per channel; ``fail_after`` reads simulates a crash or a lost connection."""

    threads: dict[int, list[tuple[ThreadStub, HistoricThread]]] = field(default_factory=dict)
    fail_after: int | None = None
    reads: list[int] = field(default_factory=list)
    befores: list[datetime | None] = field(default_factory=list)

    async def archived(self, channel_id: int, kind: str, before: datetime | None) -> list[ThreadStub]:
        self.befores.append(before)
        stubs = [stub for stub, _ in self.threads.get(channel_id, [])]
        stubs = [s for s in stubs if before is None or s.archived_at < before]
        return sorted(stubs, key=lambda s: s.archived_at, reverse=True)

    async def read(self, channel_id: int, kind: str, stub: ThreadStub, emoji: str) -> HistoricThread | None:
        if self.fail_after is not None and len(self.reads) >= self.fail_after:
            raise Interrupted
        self.reads.append(stub.thread_id)
        return next(h for s, h in self.threads[channel_id] if s.thread_id == stub.thread_id)

    def add(
        self, thread_id: int, channel: int, *, tagged: bool = True, marks: tuple[MarkedMessage, ...] = ()
    ) -> None:
        kind = "forum" if channel == FORUM else "text"
        at = T0 + timedelta(hours=thread_id)
        stub = ThreadStub(thread_id, at + timedelta(days=3), candidate=tagged or kind == "text")
        history = HistoricThread(
            thread_id=thread_id,
            guild_id=GUILD,
            channel_id=channel,
            kind=kind,
            asker_id=ASKER,
            title=f"question {thread_id}",
            question=f"details of question {thread_id}",
            created_at=at,
            last_message_id=thread_id * 10 + 9,
            last_activity_at=at + timedelta(hours=1),
            first_reply=(HELPER, at + timedelta(minutes=5)),
            marked=marks,
        )
        self.threads.setdefault(channel, []).append((stub, history))


def mark(message_id: int, *reactors: Actor, author: int = HELPER, bot: bool = False) -> MarkedMessage:
    return MarkedMessage(message_id, author, bot, f"answer {message_id}", T0 + timedelta(days=1), reactors)


@pytest.fixture
async def service(db: Database, clock: FakeClock) -> BackfillService:
    configs = ServerConfigService(db, clock, GuildSettings())
    await configs.add_help_channel(GUILD, FORUM, "forum")
    await configs.add_help_channel(GUILD, TEXT, "text")
    await configs.add_role(GUILD, HELPER_ROLE, "helper")
    return BackfillService(db, clock, configs)


def history() -> FakeHistory:
    h = FakeHistory()
    helper = Actor(HELPER, role_ids=frozenset({HELPER_ROLE}))
    h.add(1, FORUM, marks=(mark(11, Actor(ASKER)),))  # Solved tag + the asker's ✅
    h.add(2, FORUM)  # Solved tag, no marked answer: solved without one
    h.add(3, FORUM, tagged=False, marks=(mark(31, Actor(ASKER)),))  # no Solved tag: not solved history
    h.add(
        4, TEXT, marks=(mark(41, helper), mark(42, Actor(STRANGER)))
    )  # a helper's ✅ counts, a stranger's not
    h.add(5, TEXT, marks=(mark(51, Actor(STRANGER)),))  # only a stranger's ✅: not solved
    h.add(6, TEXT)  # nothing marked
    h.add(7, TEXT, marks=(mark(71, Actor(ASKER), author=999, bot=True),))  # a bot's message never
    return h


async def rows(db: Database) -> dict[int, tuple[str, str, int | None, int | None, int]]:
    async with db.session() as session:
        result = await session.execute(
            select(HelpThread.id, HelpThread.origin, Solution.via, Solution.message_id, Solution.marked_by_id)
            .join(Solution, Solution.thread_id == HelpThread.id)
            .order_by(HelpThread.id)
        )
        return {row[0]: row[1:] for row in result.tuples()}


async def test_imports_solved_history_only_without_points(service: BackfillService, db: Database) -> None:
    told: list[int] = []

    async def listener(thread_id: int) -> None:
        told.append(thread_id)

    service.listeners.append(listener)
    progress: list[BackfillStatus] = []

    async def on_progress(status: BackfillStatus) -> None:
        progress.append(status)

    status = await service.run(GUILD, history(), on_progress)
    assert (status.done, status.total, status.imported, status.finished) == (7, 7, 3, True)
    assert await rows(db) == {
        1: ("backfill", "backfill", 11, ASKER),
        2: ("backfill", "backfill", None, ASKER),
        4: ("backfill", "backfill", 41, HELPER),
    }
    assert sorted(told) == [1, 2, 4]
    assert progress[0] == BackfillStatus(0, 7, 0) and progress[-1].finished
    assert [p.done for p in progress[1:-1]] == list(range(1, 8))
    async with db.session() as session:
        thread = await session.get(HelpThread, 4)
        assert (thread.state, thread.first_responder_id) == ("solved", HELPER)
        assert thread.dormant_due_at is None
        assert await session.scalar(select(func.count()).select_from(PointEntry)) == 0
        assert await session.scalar(select(func.count()).select_from(OwedAction)) == 0  # no welcome
        progress_rows = (await session.scalars(select(BackfillProgress))).all()
    assert {(p.channel_id, p.status, p.scanned, p.imported) for p in progress_rows} == {
        (FORUM, "done", 3, 2),
        (TEXT, "done", 4, 1),
    }


async def test_a_second_run_imports_nothing_twice(service: BackfillService, db: Database) -> None:
    source = history()
    await service.run(GUILD, source)
    first_reads = list(source.reads)
    again = await service.run(GUILD, source)
    assert (again.total, again.imported) == (7, 0)
    assert source.reads[len(first_reads) :] == [7, 6, 5]  # unsolved ones again; imported ones are not read
    assert len(await rows(db)) == 3


async def test_an_interrupted_run_resumes_after_the_last_thread_handled(
    service: BackfillService, db: Database
) -> None:
    source = history()
    source.fail_after = 1  # forum threads come first, newest first: 3 (no tag, not read), 2, then 1 fails
    with pytest.raises(Interrupted):
        await service.run(GUILD, source)
    assert set(await rows(db)) == {2}
    async with db.session() as session:
        forum = await session.get(BackfillProgress, (GUILD, FORUM))
    assert forum.status == "running" and forum.cursor is not None
    source.fail_after = None
    status = await service.run(GUILD, source)
    assert set(await rows(db)) == {1, 2, 4}
    assert status.imported == 2  # 1 and 4, in this run
    resumed_from = source.befores[2]  # the forum listing of the second run
    assert resumed_from is not None and resumed_from > datetime.fromisoformat(forum.cursor)
    assert source.reads.count(2) == 1  # the thread imported before the interruption is not read again


async def test_a_thread_the_bot_already_tracks_is_left_alone(service: BackfillService, db: Database) -> None:
    async with db.session() as session:
        from storage.repositories import GuildRepo, ThreadRepo

        await GuildRepo(session).ensure(GUILD, T0)
        await ThreadRepo(session).insert(
            AskedThread(1, GUILD, FORUM, "forum", ASKER, "live", "", T0),
            state=ThreadState.OPEN,
            last_activity_at=T0,
        )
    status = await service.run(GUILD, history())
    assert status.imported == 2
    async with db.session() as session:
        live = await session.get(HelpThread, 1)
    assert (live.origin, live.state) == ("live", "open")
