"""The archive's consent on SQLite and PostgreSQL: what is kept, what is published, forgetting."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.domain.archive_consent import HIDDEN_TEXT, Choice, MembersDefault
from bot.domain.permissions import Actor
from bot.domain.sharding import ShardScope
from bot.services.archive import ArchiveService
from bot.services.errors import NotAllowed, UserFacingError
from bot.services.help_threads import NewThread
from bot.services.similar import SimilarService
from bot.services.solutions import Via
from storage.engine import Database
from storage.models import ArchiveMember, HelpThread, MemberPoints, PointEntry, Solution, ThreadMessage
from tests.storage.services.answers import ASKER, GUILD, HELPER, OTHER, Svc, answering_server
from tests.storage.services.test_help_threads import FakePort

FORUM = 50
ADMIN = Actor(user_id=9, manage_guild=True)


async def archive(db: Database, clock: FakeClock) -> tuple[Svc, ArchiveService, SimilarService]:
    svc = await answering_server(db, clock)
    configs = svc.threads.configs
    await configs.add_help_channel(GUILD, FORUM, "forum")
    service = ArchiveService(db, clock, configs)
    similar = SimilarService(db, clock, configs, svc.points, ShardScope(), titles_only=False)
    service.listeners.append(similar.refresh)
    svc.solutions.listeners.append(similar.refresh)
    return svc, service, similar


async def solved_thread(svc: Svc, thread_id: int, asker: int = ASKER) -> None:
    """A question, a side remark by OTHER and HELPER's accepted answer."""
    question = NewThread(
        thread_id,
        GUILD,
        FORUM,
        "forum",
        asker,
        "pandas csv error",
        "Why does read_csv fail?",
        svc.clock.now(),
    )
    await svc.threads.open_thread(question, FakePort())
    for message_id, author, name, text in (
        (thread_id + 1, OTHER, "olga", "Which pandas version?"),
        (thread_id + 2, HELPER, "helen", "Pass encoding='latin-1' to read_csv."),
    ):
        await svc.threads.record_message(
            thread_id=thread_id,
            message_id=message_id,
            author_id=author,
            author_is_bot=False,
            created_at=svc.clock.now(),
            content=text,
            author_name=name,
        )
    from bot.services.solutions import AnswerRef

    answer = AnswerRef(thread_id + 2, thread_id, HELPER, False, "Pass encoding='latin-1' to read_csv.")
    await svc.solutions.mark(thread_id, answer, Actor(asker), Via.COMMAND)


async def test_only_admins_enable_and_only_help_channels(db: Database, clock: FakeClock) -> None:
    _, service, _ = await archive(db, clock)
    with pytest.raises(NotAllowed):
        await service.enable(GUILD, FORUM, Actor(user_id=5))
    with pytest.raises(UserFacingError):
        await service.enable(GUILD, 999, ADMIN)
    added, preview = await service.enable(GUILD, FORUM, ADMIN)
    assert added and preview.published == 0
    with pytest.raises(NotAllowed):
        await service.disable(GUILD, FORUM, Actor(user_id=5))


async def test_text_is_kept_only_in_published_channels(db: Database, clock: FakeClock) -> None:
    svc, service, _ = await archive(db, clock)
    await solved_thread(svc, 1000)
    await service.enable(GUILD, FORUM, ADMIN)
    await solved_thread(svc, 2000)
    async with db.reading() as session:
        kept = dict((await session.execute(select(ThreadMessage.id, ThreadMessage.content))).tuples().all())
    assert kept[1001] is None and kept[2001] == "Which pandas version?"


async def test_the_preview_and_the_pages_follow_each_members_choice(db: Database, clock: FakeClock) -> None:
    svc, service, _ = await archive(db, clock)
    await service.enable(GUILD, FORUM, ADMIN)
    await solved_thread(svc, 1000)
    await solved_thread(svc, 2000, asker=OTHER)
    await service.choose(GUILD, OTHER, Choice.NEVER)
    preview = await service.preview(GUILD, FORUM)
    assert (preview.published, preview.withheld) == (1, 1)  # OTHER's own question stays private
    (page,) = await service.published_threads(GUILD)
    assert page.accepted is not None and page.accepted.author == "helen"
    assert [(r.author, r.text) for r in page.replies] == [(None, HIDDEN_TEXT)]
    await service.enable(GUILD, FORUM, ADMIN, members_default=MembersDefault.PRIVATE)
    assert await service.published_threads(GUILD) == []  # nobody opted in
    await service.choose(GUILD, ASKER, Choice.ANONYMOUS)
    (page,) = await service.published_threads(GUILD)
    assert page.question.author is None and page.accepted is not None and page.accepted.text == HIDDEN_TEXT


async def test_deleted_messages_threads_leavers_and_removed_channels_vanish(
    db: Database, clock: FakeClock
) -> None:
    svc, service, _ = await archive(db, clock)
    await service.enable(GUILD, FORUM, ADMIN)
    await solved_thread(svc, 1000)
    await solved_thread(svc, 2000)
    assert await service.message_deleted(1001)
    pages = await service.published_threads(GUILD)
    assert [len(p.replies) for p in pages] == [0, 1]
    await service.member_left(GUILD, HELPER)
    assert all(p.accepted and p.accepted.text == HIDDEN_TEXT for p in await service.published_threads(GUILD))
    await svc.threads.thread_deleted(2000)
    assert [p.thread_id for p in await service.published_threads(GUILD)] == [1000]
    await service.disable(GUILD, FORUM, ADMIN)
    assert await service.published_threads(GUILD) == []


async def test_forget_me_removes_words_and_name_and_keeps_points_anonymously(
    db: Database, clock: FakeClock
) -> None:
    svc, service, similar = await archive(db, clock)
    await service.enable(GUILD, FORUM, ADMIN)
    await solved_thread(svc, 1000)  # HELPER's accepted answer
    await solved_thread(svc, 2000, asker=HELPER)  # HELPER's question
    await similar.build()
    assert len(similar.index) == 2
    points_before = (await svc.points.standing(GUILD, HELPER)).total
    assert points_before > 0
    await service.forget(GUILD, HELPER)
    async with db.reading() as session:
        texts = [
            *(await session.scalars(select(ThreadMessage.content).where(ThreadMessage.author_id == HELPER))),
            *(await session.scalars(select(Solution.answer).where(Solution.author_id == HELPER))),
            *(await session.scalars(select(HelpThread.question).where(HelpThread.asker_id == HELPER))),
        ]
        names = (await session.scalars(select(ArchiveMember.display_name))).all()
        ledger = (await session.scalars(select(PointEntry.member_id))).all()
        totals = (await session.scalars(select(MemberPoints.total).where(MemberPoints.member_id < 0))).all()
    assert all(not text for text in texts)
    assert "helen" not in names and "olga" in names
    assert HELPER not in ledger and any(member < 0 for member in ledger) and sum(totals) == points_before
    assert (await svc.points.standing(GUILD, HELPER)).total == 0
    assert len(similar.index) == 1  # HELPER's own question is out of the similar-thread index
    pages = await service.published_threads(GUILD)
    assert [p.thread_id for p in pages] == [1000]
    assert "helen" not in repr(pages) and "latin-1" not in repr(pages)
    await solved_thread(svc, 3000)  # HELPER writes again after "forget me": nothing is kept
    async with db.reading() as session:
        kept = (await session.scalars(select(ThreadMessage.content).where(ThreadMessage.id == 3002))).one()
        names = (await session.scalars(select(ArchiveMember.display_name))).all()
    assert kept is None and "helen" not in names
