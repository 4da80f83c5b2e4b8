"""No event is lost to a database hiccup: SQLite refusing writes, PostgreSQL dropping connections.

Discord sends each event once. What arrives while the database refuses it is retried in the
background until the database is back, without a restart; what it keeps refusing is left to the
catch-up, whose markers never move past it. A gateway gap that Discord does not replay is caught up
the same way as a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.domain.lifecycle import ThreadState
from bot.local import BotRunner
from emulator import Emulator
from storage.engine import Database
from storage.models import HelpChannel
from tests.conftest import postgres_url, sqlite_copy
from tests.e2e.conftest import World, configured_ping_roles
from tests.e2e.db_faults import DatabaseOutage, during_outage, postgres_role_url
from tests.e2e.harness import LogGuard, build_community, unexpected_pings

SOLVED = "✅"
WELCOME = "Welcome to your help thread"


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield sqlite_copy(sqlite_template, tmp_path)
        return
    async with postgres_role_url(request.getfixturevalue("postgres_schema")) as url:
        yield url


@pytest.fixture
async def world(emu: Emulator, clock: FakeClock, database_url: str) -> AsyncIterator[World]:
    """The e2e world of conftest.py, on SQLite and on PostgreSQL, with the same checks at the end."""
    community = build_community(emu)
    runner = BotRunner(emu, clock, database_url)
    with LogGuard() as guard:
        await runner.start({community.guild})
        w = World(emu=emu, clock=clock, runner=runner, c=community)
        await w.configure()
        yield w
        allowed = await configured_ping_roles(w) if w.runner.bot else set()
        await w.stop()
    assert emu.problems == [], f"the emulator recorded problems: {emu.problems}"
    assert guard.messages() == [], "errors reached the log"
    assert unexpected_pings(emu, allowed) == [], "the bot pinged someone it was not configured to ping"


@pytest.fixture
def outage(world: World) -> DatabaseOutage:
    return DatabaseOutage(world.bot.services.db.engine, admin_url=postgres_url())


async def channel_marker(db: Database, channel_id: int) -> int | None:
    async with db.reading() as session:
        channel = await session.get(HelpChannel, channel_id)
        return channel.last_seen_message_id if channel else None


async def test_a_question_reply_and_solved_mark_during_outages_are_recorded_without_a_restart(
    world: World, outage: DatabaseOutage
) -> None:
    emu, c, bot = world.emu, world.c, world.bot
    posted: dict[str, int] = {}

    async def ask() -> None:
        posted["question"] = int((await emu.user_says(c.alice, c.text, "Why does my import fail?"))["id"])

    await during_outage(outage, ask)
    thread_id = posted["question"]
    thread = await bot.services.threads.get(thread_id)
    assert thread is not None and thread.state is ThreadState.OPEN and thread.asker_id == c.alice
    assert await channel_marker(bot.services.db, c.text) == thread_id
    await emu.wait_for_bot_message(thread_id, contains=WELCOME)

    async def reply() -> None:
        posted["reply"] = int((await emu.user_says(c.helen, thread_id, "Check sys.path first."))["id"])

    await during_outage(outage, reply)
    thread = await bot.services.threads.get(thread_id)
    assert thread is not None and thread.state is ThreadState.ANSWERED
    assert thread.first_responder_id == c.helen and thread.last_seen_message_id == posted["reply"]

    await during_outage(outage, lambda: emu.user_reacts(c.alice, thread_id, posted["reply"], SOLVED))
    thread = await bot.services.threads.get(thread_id)
    assert thread is not None and thread.state is ThreadState.SOLVED
    await emu.wait_for_bot_message(thread_id, contains="Solved")
    assert bot.services.intake.lanes.failed_attempts >= 3  # each of the three was refused at first


async def test_an_event_the_database_keeps_refusing_is_read_back_by_the_next_catch_up(
    world: World, outage: DatabaseOutage
) -> None:
    emu, c, bot = world.emu, world.c, world.bot
    bot.services.intake.lanes.delays = (0.0,)  # give up after two attempts instead of half a minute
    thread_id = int((await emu.user_posts_in_forum(c.alice, c.forum, "Stuck on asyncio", "help?"))["id"])
    await emu.wait_for_bot_message(thread_id, contains=WELCOME)

    outage.open()
    await outage.drop_connections()
    async with world.handled("message", lambda m: m.author.id == c.helen):
        reply = await emu.user_says(c.helen, thread_id, "Use asyncio.run().")
    outage.close()  # both attempts were refused: the reply is left to the catch-up
    thread = await bot.services.threads.get(thread_id)
    assert thread is not None and thread.state is ThreadState.OPEN
    assert (thread.last_seen_message_id or 0) < int(reply["id"]), "the marker moved past a lost reply"

    # The database is back, but later events of the thread wait for the catch-up, so that none of
    # them moves the marker past the reply it refused.
    async with world.handled("message", lambda m: m.author.id == c.alice):
        later = await emu.user_says(c.alice, thread_id, "Thanks, that was it!")
    thread = await bot.services.threads.get(thread_id)
    assert thread is not None and (thread.last_seen_message_id or 0) < int(reply["id"])

    await bot.run_sweeps()  # the timed catch-up of servers with left-over events
    thread = await bot.services.threads.get(thread_id)
    assert thread is not None and thread.state is ThreadState.ANSWERED
    assert thread.first_responder_id == c.helen and thread.last_seen_message_id == int(later["id"])
    assert bot.services.catch_up.left_over == set()


async def test_a_reply_in_a_gateway_gap_without_replay_is_caught_up_after_the_new_session(
    world: World,
) -> None:
    emu, c, bot = world.emu, world.c, world.bot
    thread_id = int((await emu.user_posts_in_forum(c.alice, c.forum, "Stuck on typing", "help?"))["id"])
    await emu.wait_for_bot_message(thread_id, contains=WELCOME)
    # Helen replies while the bot is disconnected, and Discord replays nothing to the new session.
    async with world.handled("guild_available"), emu.gateway_faults.outage(replay=False):
        reply = await emu.user_says(c.helen, thread_id, "Use typing.Protocol here.")
    thread = await bot.services.threads.get(thread_id)
    assert thread is not None and thread.state is ThreadState.ANSWERED
    assert thread.first_responder_id == c.helen and thread.last_seen_message_id == int(reply["id"])


async def test_a_gateway_gap_during_an_outage_is_caught_up_once_the_database_is_back(
    world: World, outage: DatabaseOutage
) -> None:
    emu, c, bot = world.emu, world.c, world.bot
    bot.services.intake.lanes.delays = (0.0,)
    thread_id = int((await emu.user_posts_in_forum(c.alice, c.forum, "Stuck on pip", "help?"))["id"])
    await emu.wait_for_bot_message(thread_id, contains=WELCOME)
    outage.open()
    await outage.drop_connections()
    # The new session's catch-up meets the database outage.
    async with world.handled("guild_available"), emu.gateway_faults.outage(replay=False):
        reply = await emu.user_says(c.helen, thread_id, "Upgrade pip first.")
    outage.close()
    thread = await bot.services.threads.get(thread_id)
    assert thread is not None and thread.state is ThreadState.OPEN
    assert bot.services.catch_up.left_over == {c.guild}

    await bot.run_sweeps()  # the timed catch-up of servers with left-over work
    thread = await bot.services.threads.get(thread_id)
    assert thread is not None and thread.state is ThreadState.ANSWERED
    assert thread.last_seen_message_id == int(reply["id"]) and bot.services.catch_up.left_over == set()


async def test_a_command_the_database_refuses_is_answered_once_it_is_back(
    world: World, outage: DatabaseOutage
) -> None:
    """The asker closes their thread while the database is away: they get the normal answer once it
    is back (the command ran again), not an error, and the thread is closed exactly once."""
    emu, c, bot = world.emu, world.c, world.bot
    thread_id = int((await emu.user_posts_in_forum(c.alice, c.forum, "Stuck on pip", "help?"))["id"])
    await emu.wait_for_bot_message(thread_id, contains=WELCOME)

    outage.open()
    try:
        await outage.drop_connections()
        with command_refusals() as refused:
            closing = asyncio.ensure_future(
                emu.user_runs_slash(c.alice, thread_id, "close", options={"reason": "solved"}, timeout=60)
            )
            # The outage lasts until the command itself was refused (or it answered meanwhile).
            await asyncio.wait(
                {closing, asyncio.ensure_future(refused.wait())}, timeout=60, return_when="FIRST_COMPLETED"
            )
    finally:
        outage.close()
    reply = await closing
    assert refused.is_set(), f"the command answered during the outage: {reply.content!r}"
    assert "went wrong" not in reply.content
    thread = await bot.services.threads.get(thread_id)
    assert thread is not None and thread.state is ThreadState.CLOSED


@contextlib.contextmanager
def command_refusals() -> Iterator[asyncio.Event]:
    """An event set when the bot logs that the database refused a command it will run again."""
    seen = asyncio.Event()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "running it again" in record.getMessage():
                seen.set()

    handler = Watch(logging.WARNING)
    logging.getLogger("bot.app").addHandler(handler)
    try:
        yield seen
    finally:
        logging.getLogger("bot.app").removeHandler(handler)
