"""Owed bot messages (bot.services.outbox) on SQLite and PostgreSQL: each goes out exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.services.outbox import Note, NoteLink, OutboxService
from storage.engine import Database
from storage.repositories import GuildRepo

GUILD, THREAD = 1 << 22, 77


class FakeOutboxPort:
    """Posts like Discord with ``enforce_nonce``: a repeated nonce returns the first message."""

    def __init__(self) -> None:
        self.posted: dict[str, tuple[int, str, tuple[NoteLink, ...]]] = {}  # nonce -> channel, text, links
        self.asked: list[str] = []  # nonces, in the order the bot asked to post them
        self.archived: list[int] = []
        self.crash_after_post = False

    async def send(self, channel_id: int, content: str, nonce: str, links: tuple[NoteLink, ...] = ()) -> int:
        self.asked.append(nonce)
        self.posted.setdefault(nonce, (channel_id, content, links))
        if self.crash_after_post:
            raise ConnectionError("the process died after posting")
        return 9000 + list(self.posted).index(nonce)

    async def archive(self, thread_id: int) -> None:
        self.archived.append(thread_id)


@pytest.fixture
async def outbox(db: Database, clock: FakeClock) -> OutboxService:
    async with db.session() as session:
        await GuildRepo(session).ensure(GUILD, clock.now())
    return OutboxService(db, clock)


async def owe(db: Database, outbox: OutboxService, note: Note) -> None:
    async with db.session() as session:  # the transaction of the change that owes the note
        await outbox.add(session, GUILD, note)


async def test_an_owed_note_goes_out_once_with_its_links_however_often_it_is_sent(
    db: Database, outbox: OutboxService
) -> None:
    link = NoteLink("Jump to the answer", "https://discord.com/channels/1/2/3", "✅")
    await owe(db, outbox, Note("close-1", THREAD, "Closed by the asker.", (link,)))
    await owe(db, outbox, Note("close-1", THREAD, "Closed by the asker.", (link,)))  # a repeated event
    port = FakeOutboxPort()
    await outbox.send("close-1", port)
    await outbox.send("close-1", port)
    await outbox.send_owed(GUILD, port)
    assert port.posted == {"close-1": (THREAD, "Closed by the asker.", (link,))}
    assert port.asked == ["close-1"]  # not resent either: Discord forgets nonces after minutes


async def test_a_crash_after_posting_resends_with_the_same_nonce_at_start_up(
    db: Database, outbox: OutboxService, clock: FakeClock
) -> None:
    await owe(db, outbox, Note("reopen-1", THREAD, "Reopened."))
    clock.advance(timedelta(seconds=1))
    await owe(db, outbox, Note("close-2", THREAD, "Closed: stale.", archive_after=True))
    crashing = FakeOutboxPort()
    crashing.crash_after_post = True
    with pytest.raises(ConnectionError):
        await outbox.send("reopen-1", crashing)
    restarted = FakeOutboxPort()
    restarted.posted = dict(crashing.posted)  # what Discord already shows
    await outbox.send_owed(GUILD, restarted)
    assert restarted.asked == ["reopen-1", "close-2"]  # oldest first; the nonce keeps the first single
    assert list(restarted.posted) == ["reopen-1", "close-2"]
    assert restarted.archived == [THREAD]  # a close note is the thread's last word
    await outbox.send_owed(GUILD, restarted)
    assert restarted.asked == ["reopen-1", "close-2"] and restarted.archived == [THREAD]
