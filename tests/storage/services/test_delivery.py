"""Owed Discord actions and their delivery worker, on SQLite and PostgreSQL.

The fake port behaves like Discord with ``enforce_nonce`` and can be told to fail: these tests show
backoff, ``retry_after``, refusals settling once, coalesced thread looks and the look before a resend.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import GuildSettings
from bot.domain.sharding import ShardScope
from bot.services.delivery import (
    FIRST_RETRY,
    NONCE_MEMORY,
    DeliveryWorker,
    Refused,
    RetryAfter,
    ThreadLook,
    Unavailable,
)
from bot.services.help_threads import HelpThreadService
from bot.services.owed import OwedActions, OwedMessage, appearance_key
from bot.services.server_config import ServerConfigService
from storage.engine import Database
from storage.models import OwedAction
from tests.storage.services.test_help_threads import GUILD, FakePort, new_thread

A, B = 501, 502  # two channels


class FakeDiscord:
    """Posts like Discord: a repeated nonce within its memory returns the first message.

    ``failures[channel]`` lists what the next calls there raise (``"hang"`` never answers);
    ``lose_answer`` posts the message but loses the answer, as a reset connection does.
    """

    def __init__(self) -> None:
        self.posted: dict[str, tuple[int, int]] = {}  # nonce -> channel, message id
        self.sends: list[str] = []  # every send call, in order
        self.looks: list[ThreadLook] = []
        self.notes: list[int] = []  # threads whose "Solved" note was posted or edited
        self.since: list[datetime] = []  # where each look for a sent message started
        self.found: list[str] = []  # sends that were found already posted
        self.failures: dict[int, list[Exception | str]] = defaultdict(list)
        self.lose_answer: set[str] = set()
        self.forget_nonces = False
        self.hanging = asyncio.Event()

    async def _fail(self, channel_id: int) -> None:
        if self.failures[channel_id]:
            failure = self.failures[channel_id].pop(0)
            if failure == "hang":
                await asyncio.Event().wait()
            assert isinstance(failure, Exception)
            raise failure

    async def send(self, message: OwedMessage) -> int:
        self.sends.append(message.key)
        await self._fail(message.channel_id)
        if message.key not in self.posted or self.forget_nonces:
            self.posted[message.key + "+" * (message.key in self.posted)] = (
                message.channel_id,
                9000 + len(self.posted),
            )
        if message.key in self.lose_answer:
            self.lose_answer.discard(message.key)
            raise Unavailable("connection reset", unknown=True)
        return self.posted[message.key][1]

    async def find_sent(self, message: OwedMessage, since: datetime) -> int | None:
        self.since.append(since)
        found = self.posted.get(message.key)
        if found is not None:
            self.found.append(message.key)
        return found[1] if found else None

    async def show_note(self, look: ThreadLook) -> int | None:
        self.notes.append(look.thread.id)
        await self._fail(look.thread.id)
        self.posted.setdefault(f"s{look.thread.id}", (look.thread.id, 9000 + len(self.posted)))
        return self.posted[f"s{look.thread.id}"][1]

    async def show_look(self, look: ThreadLook) -> None:
        self.looks.append(look)
        await self._fail(look.thread.id)


@pytest.fixture
def configs(db: Database, clock: FakeClock) -> ServerConfigService:
    return ServerConfigService(db, clock, GuildSettings())


@pytest.fixture
def owed(clock: FakeClock) -> OwedActions:
    return OwedActions(clock)


@pytest.fixture
def worker(db: Database, clock: FakeClock, configs: ServerConfigService, owed: OwedActions) -> DeliveryWorker:
    # A generous deadline: a loaded machine must not time out a call that answers. The hang test
    # shortens it.
    worker = DeliveryWorker(db, clock, configs, ShardScope(), owed, call_timeout=30, jitter=lambda: 1.0)
    worker.port = FakeDiscord()
    return worker


def discord_of(worker: DeliveryWorker) -> FakeDiscord:
    assert isinstance(worker.port, FakeDiscord)
    return worker.port


async def owe(db: Database, owed: OwedActions, *messages: OwedMessage) -> None:
    async with db.session() as session:  # the transaction of the change that owes them
        for message in messages:
            await owed.message(session, GUILD, message)


async def row(db: Database, key: str) -> OwedAction:
    async with db.reading() as session:
        found = await session.scalar(select(OwedAction).where(OwedAction.key == key))
    assert found is not None
    return found


async def test_a_message_owed_twice_goes_out_once_as_soon_as_its_change_commits(
    db: Database, owed: OwedActions, worker: DeliveryWorker
) -> None:
    discord = discord_of(worker)
    await owe(db, owed, OwedMessage("c1", A, "Closed."), OwedMessage("c1", A, "Closed."))
    await worker.deliver_due()  # waits for the delivery the commit started
    await worker.deliver_due()
    assert discord.sends == ["c1"]
    done = await row(db, "c1")
    assert (done.status, done.result) == ("done", 9000)


async def test_a_change_rolled_back_owes_nothing(
    db: Database, owed: OwedActions, worker: DeliveryWorker
) -> None:
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            await owed.message(session, GUILD, OwedMessage("c1", A, "Closed."))
            raise RuntimeError("the change failed")
    await worker.deliver_due()
    assert discord_of(worker).sends == []


async def test_failures_back_off_exponentially_and_the_bot_delivers_without_a_restart(
    db: Database, owed: OwedActions, worker: DeliveryWorker, clock: FakeClock
) -> None:
    discord = discord_of(worker)
    discord.failures[A] = [Unavailable("503"), Unavailable("503"), Unavailable("502")]
    await owe(db, owed, OwedMessage("w1", A, "Welcome!"))
    waits = []
    for _ in range(3):
        await worker.deliver_due()
        pending = await row(db, "w1")
        waits.append((pending.next_attempt_at - clock.now()).total_seconds())
        await worker.deliver_due()  # not due yet: no call
        clock.advance(timedelta(seconds=waits[-1]))
    assert waits == [FIRST_RETRY, FIRST_RETRY * 2, FIRST_RETRY * 4]
    await worker.deliver_due()
    assert discord.sends == ["w1"] * 4
    assert (await row(db, "w1")).status == "done"


async def test_retry_after_reschedules_that_action_while_other_channels_go_on(
    db: Database, owed: OwedActions, worker: DeliveryWorker, clock: FakeClock
) -> None:
    discord = discord_of(worker)
    discord.failures[A] = [RetryAfter(600)]
    await owe(db, owed, OwedMessage("x1", A, "Renamed."), OwedMessage("x2", A, "Later."))
    await owe(db, owed, OwedMessage("s1", B, "Solved!"))
    await worker.deliver_due()
    assert "s1" in discord.posted and "x2" not in discord.posted  # A's later message keeps its place
    limited = await row(db, "x1")
    assert limited.next_attempt_at == clock.now() + timedelta(seconds=600)
    clock.advance(timedelta(seconds=599))
    await worker.deliver_due()
    assert discord.sends.count("x1") == 1
    clock.advance(timedelta(seconds=1))
    await worker.deliver_due()
    assert list(discord.posted) == ["s1", "x1", "x2"]


async def test_a_final_refusal_settles_once_is_logged_once_and_is_listed_for_staff(
    db: Database,
    owed: OwedActions,
    worker: DeliveryWorker,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    discord = discord_of(worker)
    discord.failures[A] = [Refused("missing permission"), Refused("missing permission")]
    await owe(db, owed, OwedMessage("n1", A, "One."), OwedMessage("n2", A, "Two."))
    with caplog.at_level(logging.WARNING, logger="bot.services.delivery"):
        for _ in range(3):
            await worker.deliver_due()
            clock.advance(timedelta(hours=1))
            worker.wake()
    assert discord.sends == ["n1", "n2"]  # each tried once, never again
    assert (await row(db, "n1")).status == "refused"
    assert len([r for r in caplog.records if "refused" in r.getMessage()]) == 2
    assert await worker.refused_summary(GUILD) == [(A, "missing permission", 2)]
    clock.advance(timedelta(days=7))  # shown to staff for a week, then forgotten
    assert await worker.refused_summary(GUILD) == []


async def test_an_unexpected_error_is_logged_and_retried_later_not_in_a_loop(
    db: Database,
    owed: OwedActions,
    worker: DeliveryWorker,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    discord = discord_of(worker)
    discord.failures[A] = [TypeError("a bug")]
    await owe(db, owed, OwedMessage("b1", A, "Buggy."))
    await worker.deliver_due()
    await worker.deliver_due()
    assert discord.sends == ["b1"]
    assert [r.levelname for r in caplog.records if "failed unexpectedly" in r.getMessage()] == ["ERROR"]
    caplog.clear()
    clock.advance(timedelta(seconds=FIRST_RETRY))
    await worker.deliver_due()
    assert (await row(db, "b1")).status == "done"


async def test_a_send_whose_answer_was_lost_is_looked_for_before_it_is_sent_again(
    db: Database, owed: OwedActions, worker: DeliveryWorker, clock: FakeClock
) -> None:
    discord = discord_of(worker)
    discord.forget_nonces = True  # as after Discord's few minutes of nonce memory
    discord.lose_answer.add("w1")
    owed_at = clock.now()
    await owe(db, owed, OwedMessage("w1", A, "Welcome!"))
    await worker.deliver_due()
    assert (await row(db, "w1")).uncertain
    clock.advance(timedelta(minutes=10))
    await worker.deliver_due()
    assert discord.found == ["w1"] and discord.sends == ["w1"]  # found, not sent twice
    assert discord.since == [owed_at]  # only what was posted after it was owed can be it
    assert list(discord.posted) == ["w1"]
    assert (await row(db, "w1")).status == "done"


async def test_a_send_older_than_the_nonce_memory_is_looked_for_first(
    db: Database, owed: OwedActions, worker: DeliveryWorker, clock: FakeClock
) -> None:
    discord = discord_of(worker)
    discord.failures[A] = [Unavailable("503")]
    await owe(db, owed, OwedMessage("w1", A, "Welcome!"))
    await worker.deliver_due()
    clock.advance(NONCE_MEMORY + timedelta(seconds=1))  # a long outage
    await worker.deliver_due()
    assert discord.sends == ["w1", "w1"] and discord.found == []  # looked, found nothing, sent once
    assert list(discord.posted) == ["w1"]


async def test_a_hanging_call_times_out_without_holding_up_another_channel(
    db: Database, owed: OwedActions, worker: DeliveryWorker, clock: FakeClock
) -> None:
    discord = discord_of(worker)
    worker.call_timeout = 0.2
    discord.failures[A] = ["hang"]
    await owe(db, owed, OwedMessage("h1", A, "Hangs."))
    await owe(db, owed, OwedMessage("s1", B, "Solved!"))
    await worker.deliver_due()
    assert list(discord.posted) == ["s1"]
    hung = await row(db, "h1")
    assert (hung.status, hung.uncertain, hung.attempts) == ("pending", True, 1)
    clock.advance(timedelta(seconds=FIRST_RETRY))
    await worker.deliver_due()
    assert list(discord.posted) == ["s1", "h1"]


async def test_quick_changes_to_a_thread_cost_one_look_read_when_it_is_delivered(
    db: Database, clock: FakeClock, configs: ServerConfigService, owed: OwedActions, worker: DeliveryWorker
) -> None:
    discord = discord_of(worker)
    port = worker.port
    worker.port = None  # owed while the bot is not connected yet
    threads = HelpThreadService(db, clock, configs, ShardScope(), owed)
    await threads.open_thread(new_thread(1, clock.now()), FakePort())
    for _ in range(4):
        async with db.session() as session:
            await owed.appearance(session, GUILD, 1, note=True)
    worker.port = port
    await worker.deliver_due()
    assert len(discord.looks) == 1
    look = discord.looks[0]
    assert (look.thread.id, look.show_note, look.unarchive) == (1, True, False)
    assert discord.notes == [1]
    shown = await row(db, appearance_key(1))
    assert (shown.status, shown.result) == ("done", discord.posted["s1"][1])


async def test_a_note_shown_before_the_look_failed_is_not_shown_again(
    db: Database, clock: FakeClock, configs: ServerConfigService, owed: OwedActions, worker: DeliveryWorker
) -> None:
    discord = discord_of(worker)
    threads = HelpThreadService(db, clock, configs, ShardScope(), owed)
    await threads.open_thread(new_thread(1, clock.now()), FakePort())
    await worker.deliver_due()
    failing = discord.show_look

    async def rename_limited(look: ThreadLook) -> None:
        if len(discord.looks) == 1:
            discord.looks.append(look)
            raise RetryAfter(600)  # Discord's 2 renames per 10 minutes
        await failing(look)

    discord.show_look = rename_limited  # type: ignore[method-assign]
    async with db.session() as session:  # marked solved
        await owed.appearance(session, GUILD, 1, note=True)
    await worker.deliver_due()
    clock.advance(timedelta(seconds=600))
    await worker.deliver_due()
    assert discord.notes == [1] and len(discord.looks) == 3
    assert (await row(db, appearance_key(1))).status == "done"


async def test_a_change_during_a_delivery_is_delivered_after_it(
    db: Database, clock: FakeClock, configs: ServerConfigService, owed: OwedActions, worker: DeliveryWorker
) -> None:
    discord = discord_of(worker)
    threads = HelpThreadService(db, clock, configs, ShardScope(), owed)
    shown = discord.show_look

    async def show_while_it_changes(look: ThreadLook) -> None:
        if not discord.looks:  # the thread changes while Discord is being told
            async with db.session() as session:
                await owed.appearance(session, GUILD, 1, unarchive=True)
        return await shown(look)

    discord.show_look = show_while_it_changes  # type: ignore[method-assign]
    await threads.open_thread(new_thread(1, clock.now()), FakePort())
    await worker.deliver_due()
    assert [look.unarchive for look in discord.looks] == [False, True]
    assert (await row(db, appearance_key(1))).status == "done"
