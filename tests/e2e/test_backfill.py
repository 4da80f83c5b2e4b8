"""Importing solved history end to end: `/unstuck backfill`, `unstuck backfill`, resuming, never twice."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.cli.running import backfill_from_command_line
from bot.services.backfill import BackfillStatus
from cogs.backfill import DiscordHistory
from storage.models import HelpThread, Solution
from tests.e2e.conftest import World
from tests.e2e.test_help_threads import WELCOME
from tests.e2e.test_similar import BACKGROUND
from tests.e2e.test_solutions import CHECK, points_of

PANDAS = ("pandas read_csv FileNotFoundError", "pd.read_csv('data.csv') raises FileNotFoundError")
PANDAS_ANSWER = "The path is relative to where you run Python: use Path(__file__).parent"


@dataclass
class History:
    """Channels with a past, seeded while the bot was not running, then made help channels."""

    forum: int
    text: int
    solved_forum: int  # Solved tag, the asker's ✅ on Helen's answer
    answer: int
    solved_text: int  # a text-channel thread whose answer the asker marked ✅
    text_answer: int
    unsolved: list[int]


async def archived_forum_post(
    w: World, forum: int, text: tuple[str, str], *, tagged: bool, answer: str = "", marker: int = 0
) -> tuple[int, int | None]:
    thread = await w.emu.user_posts_in_forum(w.c.alice, forum, *text, tags=["Solved"] if tagged else [])
    thread_id, answer_id = int(thread["id"]), None
    if answer:
        answer_id = int((await w.emu.user_says(w.c.helen, thread_id, answer))["id"])
        if marker:
            await w.emu.user_reacts(marker, thread_id, answer_id, CHECK)
    await w.emu.archive_thread(thread_id)
    w.clock.advance(timedelta(minutes=10))  # archived one after the other, as in real life
    return thread_id, answer_id


async def archived_text_thread(
    w: World, channel: int, question: str, answer: str, marker: int
) -> tuple[int, int]:
    message = await w.emu.user_says(w.c.bob, channel, question)
    thread_id = int(message["id"])  # a thread started from a message shares its id
    w.emu.create_thread_record(w.emu.world.channels[channel], question[:90], w.c.bob, [], thread_id=thread_id)
    answer_id = int((await w.emu.user_says(w.c.helen, thread_id, answer))["id"])
    await w.emu.user_says(w.c.bob, thread_id, "thanks!")
    await w.emu.user_reacts(marker, thread_id, answer_id, CHECK)
    await w.emu.archive_thread(thread_id)
    w.clock.advance(timedelta(minutes=10))
    return thread_id, answer_id


async def seed_history(w: World, extra_solved: int = 0) -> History:
    await w.stop()
    forum = w.emu.create_forum_channel(w.c.guild, "old-forum", tags=["Solved", "Unanswered"])
    text = w.emu.create_text_channel(w.c.guild, "old-help")
    for title, question in BACKGROUND:  # other solved questions: word statistics need a corpus
        await archived_forum_post(
            w, forum, (title, question), tagged=True, answer="See the docs", marker=w.c.mallory
        )
    solved_forum, answer = await archived_forum_post(
        w, forum, PANDAS, tagged=True, answer=PANDAS_ANSWER, marker=w.c.alice
    )
    untagged, _ = await archived_forum_post(
        w, forum, ("numpy reshape error", "cannot reshape"), tagged=False, answer="x"
    )
    solved_text, text_answer = await archived_text_thread(
        w, text, "pip install fails with permission denied", "Use a virtualenv", w.c.bob
    )
    stranger_marked, _ = await archived_text_thread(
        w, text, "git push rejected again", "git pull first", w.c.mallory
    )
    for n in range(extra_solved):
        await archived_forum_post(w, forum, (f"topic {n} question", f"details {n}"), tagged=True)
    await w.start()
    for channel in (forum, text):
        await w.emu.user_runs_slash(
            w.c.admin, w.c.general, "unstuck config add-help-channel", options={"channel": channel}
        )
    return History(
        forum, text, solved_forum, answer or 0, solved_text, text_answer, [untagged, stranger_marked]
    )


async def finished_text(w: World, message_id: int | None) -> str:
    """The progress message once the import is done (the command edits it as it goes)."""
    assert message_id is not None

    def content() -> str:
        return w.emu.message(w.c.general, message_id)["content"]

    await w.emu.wait_for(lambda: "Backfill done" in content(), timeout=15, what="the backfill to finish")
    return content()


async def imported(w: World) -> dict[int, tuple[str, str, int | None]]:
    async with w.bot.services.db.session() as session:
        rows = await session.execute(
            select(HelpThread.id, HelpThread.origin, HelpThread.state, Solution.message_id)
            .join(Solution, Solution.thread_id == HelpThread.id)
            .where(HelpThread.origin == "backfill")
        )
        return {row[0]: row[1:] for row in rows.tuples()}


async def test_backfill_imports_solved_history_once_without_points_and_suggests_it(world: World) -> None:
    h = await seed_history(world)
    refused = await world.emu.user_runs_slash(world.c.mallory, world.c.general, "unstuck backfill")
    assert refused.ephemeral and "Manage Server" in refused.text()

    reply = await world.emu.user_runs_slash(world.c.admin, world.c.general, "unstuck backfill")
    assert not reply.ephemeral and "Importing solved threads" in reply.text()
    progress = await finished_text(world, reply.message_id)
    assert "Backfill done: imported 6 solved threads (8 archived threads checked)" in progress
    rows = await imported(world)
    assert rows[h.solved_forum] == ("backfill", "solved", h.answer)
    assert rows[h.solved_text] == ("backfill", "solved", h.text_answer)
    assert not set(h.unsolved) & set(rows)
    assert world.emu.bot_messages(h.solved_forum) == [] and world.emu.bot_messages(h.solved_text) == []
    assert world.emu.channel(h.solved_forum)["thread_metadata"]["archived"]  # history is left as it was
    assert await points_of(world, world.c.helen) == 0  # history is not re-awarded

    new = await world.emu.user_posts_in_forum(
        world.c.bob, world.c.forum, "read_csv FileNotFoundError pandas", "help"
    )
    note = await world.emu.wait_for_bot_message(int(new["id"]), contains=WELCOME)
    assert PANDAS[0] in str(note["embeds"]) and f"/{h.solved_forum}/{h.answer}" in str(note["components"])

    again = await world.emu.user_runs_slash(world.c.admin, world.c.general, "unstuck backfill")
    assert "imported 0 solved threads" in await finished_text(world, again.message_id)
    assert await imported(world) == rows


async def test_an_interrupted_backfill_resumes_where_it_stopped(world: World) -> None:
    h = await seed_history(world, extra_solved=3)

    class LostConnection(Exception):
        pass

    async def interrupt(status: BackfillStatus) -> None:
        if status.imported == 4:
            raise LostConnection

    guild = world.bot.get_guild(world.c.guild)
    with pytest.raises(LostConnection):
        await world.bot.services.backfill.run(world.c.guild, DiscordHistory(guild, "Solved"), interrupt)
    assert len(await imported(world)) == 4
    await world.restart()

    reply = await world.emu.user_runs_slash(world.c.admin, world.c.general, "unstuck backfill")
    text = await finished_text(world, reply.message_id)
    assert "Backfill done: imported 5 solved threads" in text  # the other 5 of 9, none twice
    rows = await imported(world)
    assert len(rows) == 9 and h.solved_forum in rows and h.solved_text in rows


async def test_the_command_line_backfill_imports_and_the_bot_suggests_after_start(world: World) -> None:
    h = await seed_history(world)
    await world.stop()
    out = io.StringIO()
    code = await backfill_from_command_line(world.runner.settings(), world.emu.token, world.c.guild, out)
    assert code == 0, out.getvalue()
    lines = out.getvalue()
    assert "[████████████████████] 8/8 threads checked · 6 imported" in lines
    assert "Done: 6 imported." in lines
    await world.start()
    assert h.solved_text in await imported(world)
    question = await world.emu.user_says(world.c.alice, world.c.text, "pip install fails: permission denied")
    note = await world.emu.wait_for_bot_message(int(question["id"]), contains=WELCOME)
    assert "pip install fails with permission denied" in str(note["embeds"])

    missing = io.StringIO()
    await world.stop()
    assert await backfill_from_command_line(world.runner.settings(), world.emu.token, 12345, missing) == 1
    await world.start()
