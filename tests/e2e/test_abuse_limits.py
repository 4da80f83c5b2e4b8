"""Abuse limits end to end: `/escalate` batching and its cooldown, cooldowns of costly commands,
and solved-emoji reactions that cost nothing or change nothing when they should not count."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, select

from bot.domain.lifecycle import ThreadState
from bot.domain.permissions import Actor
from emulator import InteractionReply
from emulator.messages import buttons
from storage.models import PointEntry, Solution, SolutionReaction
from tests.e2e.conftest import World
from tests.e2e.test_escalation import ask, digests, listed, pings_of, set_escalation_channel, tick
from tests.e2e.test_help_threads import WELCOME, thread_state
from tests.e2e.test_solutions import CHECK, answer, forum_thread, points_of, solved_with


async def test_one_asker_escalating_four_threads_pings_the_helpers_once(world: World) -> None:
    await set_escalation_channel(world)
    threads = [await ask(world, f"Stuck on part {n}") for n in range(4)]
    bobs = await ask(world, "Bob is stuck too", who=world.c.bob)
    world.clock.advance(timedelta(minutes=30))
    first = await world.emu.user_runs_slash(world.c.alice, threads[0], "escalate")
    assert not first.ephemeral and "next escalation digest" in first.text()
    world.clock.advance(timedelta(minutes=5))
    for thread in threads[1:]:
        refused = await world.emu.user_runs_slash(world.c.alice, thread, "escalate")
        assert refused.ephemeral
        assert f"You escalated <#{threads[0]}> 5 min ago" in refused.text()
        assert "you can escalate again in 25 min" in refused.text()
    other = await world.emu.user_runs_slash(world.c.bob, bobs, "escalate")
    assert not other.ephemeral
    assert digests(world) == []  # nothing is sent by the command itself
    await tick(world)
    [digest] = digests(world)
    assert "Stuck on part 0" in listed(digest) and "Bob is stuck too" in listed(digest)
    assert "Stuck on part 1" not in listed(digest)
    assert len(pings_of(world, digest)) == 1
    world.clock.advance(timedelta(minutes=25))
    again = await world.emu.user_runs_slash(world.c.alice, threads[1], "escalate")
    assert not again.ephemeral and "next escalation digest" in again.text()


async def test_the_escalate_cooldown_survives_a_restart(world: World) -> None:
    await set_escalation_channel(world)
    first, second = await ask(world, "First question"), await ask(world, "Second question")
    world.clock.advance(timedelta(minutes=30))
    await world.emu.user_runs_slash(world.c.alice, first, "escalate")
    await world.restart()
    world.clock.advance(timedelta(minutes=10))
    refused = await world.emu.user_runs_slash(world.c.alice, second, "escalate")
    assert refused.ephemeral and "you can escalate again in 20 min" in refused.text()


async def test_a_member_spamming_similar_is_asked_to_wait_then_may_search_again(world: World) -> None:
    c = world.c
    for _ in range(4):
        reply = await world.emu.user_runs_slash(
            c.mallory, c.general, "similar", options={"text": "pandas csv"}
        )
        assert "No solved thread matches" in reply.text()
    slow_down = await world.emu.user_runs_slash(c.mallory, c.general, "similar", options={"text": "pandas"})
    assert slow_down.ephemeral and "please try `/similar` again in 15 s" in slow_down.text()
    helper = await world.emu.user_runs_slash(c.helen, c.general, "similar", options={"text": "pandas"})
    assert "No solved thread matches" in helper.text()  # helpers and staff have no cooldown
    world.clock.advance(timedelta(seconds=15))
    again = await world.emu.user_runs_slash(c.mallory, c.general, "similar", options={"text": "pandas"})
    assert "No solved thread matches" in again.text()


async def test_leaderboard_pages_share_one_cooldown_with_the_command(world: World) -> None:
    c = world.c
    staff = Actor(c.sam, role_ids=frozenset({c.staff_role}))
    for n in range(12):  # two pages
        member = world.emu.create_user(f"member{n}")
        world.emu.add_member(c.guild, member)
        await world.bot.services.points.adjust(c.guild, staff, member, n + 1, "thanks")
    board = await world.emu.user_runs_slash(c.mallory, c.general, "leaderboard", options={"window": "all"})

    async def turn_page() -> InteractionReply:
        """Click whichever page button is enabled (Next on page 1, Previous on page 2)."""
        shown = world.emu.interactions.ephemeral[board.message_id]
        [button] = [b for b in buttons(shown) if not b.get("disabled")]
        return await world.emu.user_clicks_button(c.mallory, c.general, board.message_id, button["custom_id"])

    for _ in range(5):
        assert "Top helpers" in (await turn_page()).text()
    refused = await turn_page()
    assert refused.ephemeral and "please try the leaderboard again in 5 s" in refused.text()
    command = await world.emu.user_runs_slash(c.mallory, c.general, "leaderboard")
    assert command.ephemeral and "again in 5 s" in command.text()
    world.clock.advance(timedelta(seconds=5))
    assert "Top helpers" in (await turn_page()).text()


async def test_stats_open_to_everyone_has_a_cooldown_for_members_only(world: World) -> None:
    c = world.c
    await world.emu.user_runs_slash(
        c.admin, c.general, "unstuck config set", options={"key": "stats.visibility", "value": "everyone"}
    )
    for _ in range(2):
        assert (
            "Help-channel health" in (await world.emu.user_runs_slash(c.mallory, c.general, "stats")).text()
        )
    refused = await world.emu.user_runs_slash(c.mallory, c.general, "stats")
    assert refused.ephemeral and "please try `/stats` again in 30 s" in refused.text()
    for _ in range(3):
        assert "Help-channel health" in (await world.emu.user_runs_slash(c.sam, c.general, "stats")).text()


@contextlib.contextmanager
def written(w: World) -> Iterator[list[str]]:
    """The SQL statements that change data, run by the bot inside the block."""
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            statements.append(statement)

    engine = w.bot.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


async def row_counts(w: World) -> tuple[int, ...]:
    async with w.bot.services.db.reading() as session:
        return tuple(
            [
                await session.scalar(select(func.count()).select_from(t)) or 0
                for t in (Solution, SolutionReaction, PointEntry)
            ]
        )


async def test_a_check_from_someone_who_may_not_mark_costs_no_request_and_no_write(world: World) -> None:
    c = world.c
    thread_id = await forum_thread(world)
    reply = await answer(world, thread_id, c.helen)
    await thread_state(world, thread_id, ThreadState.ANSWERED)
    welcome = await world.emu.wait_for_bot_message(thread_id, contains=WELCOME)
    rows = await row_counts(world)
    requests = len(world.emu.requests)
    with written(world) as writes:
        for who, message in (
            (c.mallory, reply),  # may not mark
            (c.bob, reply),  # may not mark either
            (c.alice, thread_id),  # the asker, on her own question (the starter shares the thread's id)
            (c.alice, int(welcome["id"])),  # the asker, on the bot's own note
        ):
            async with world.handled("raw_reaction_add"):
                await world.emu.user_reacts(who, thread_id, message, CHECK)
    assert world.emu.requests[requests:] == []
    assert writes == []
    assert await row_counts(world) == rows
    assert await world.bot.services.solutions.get(thread_id) is None
    await world.emu.user_reacts(c.alice, thread_id, reply, CHECK)  # the asker's ✅ on the answer counts
    await solved_with(world, thread_id, reply)
    assert await points_of(world, c.helen) == 10


async def marked_by_alice(w: World) -> tuple[int, int]:
    """A thread whose asker marked Helen's answer with a ✅ (Helen earned 10 points)."""
    thread_id = await forum_thread(w)
    reply = await answer(w, thread_id, w.c.helen)
    await w.emu.user_reacts(w.c.alice, thread_id, reply, CHECK)
    await solved_with(w, thread_id, reply)
    assert await points_of(w, w.c.helen) == 10
    return thread_id, reply


async def still_solved(w: World, thread_id: int, reply: int) -> None:
    solution = await w.bot.services.solutions.get(thread_id)
    assert solution is not None and solution.message_id == reply
    assert (await w.bot.services.threads.get(thread_id)).state is ThreadState.SOLVED  # type: ignore[union-attr]
    assert await points_of(w, w.c.helen) == 10
    assert "solution mark was removed" not in str(w.emu.bot_messages(thread_id))


async def test_a_moderator_clearing_reactions_keeps_the_solution_live_and_after_a_restart(
    world: World,
) -> None:
    thread_id, reply = await marked_by_alice(world)
    await world.emu.user_reacts(world.c.helen, thread_id, reply, "🎉")
    async with world.handled("raw_reaction_clear"):
        await world.emu.moderator_clears_reactions(thread_id, reply)
    await still_solved(world, thread_id, reply)
    await world.restart()
    await still_solved(world, thread_id, reply)
    # The asker can still take it back, on purpose.
    done = await world.emu.user_runs_slash(world.c.alice, thread_id, "unsolve")
    assert "Solution removed" in done.text()
    assert await points_of(world, world.c.helen) == 0


async def test_a_moderator_removing_the_check_emoji_keeps_the_solution(world: World) -> None:
    thread_id, reply = await marked_by_alice(world)
    async with world.handled("raw_reaction_clear_emoji"):
        await world.emu.moderator_clears_reactions(thread_id, reply, CHECK)
    await still_solved(world, thread_id, reply)
    await world.restart()
    await still_solved(world, thread_id, reply)


async def test_reactions_cleared_while_the_bot_was_down_keep_the_solution(world: World) -> None:
    thread_id, reply = await marked_by_alice(world)
    await world.stop()
    await world.emu.moderator_clears_reactions(thread_id, reply)
    await world.start()
    await still_solved(world, thread_id, reply)


async def test_deleting_the_accepted_answer_takes_the_solution_with_it(world: World) -> None:
    thread_id, reply = await marked_by_alice(world)
    async with world.handled("raw_message_delete"):
        await world.emu.user_deletes(world.c.helen, thread_id, reply)
    await thread_state(world, thread_id, ThreadState.ANSWERED)
    assert await world.bot.services.solutions.get(thread_id) is None
    assert await points_of(world, world.c.helen) == 0
    # A moderator's purge (one bulk event) does the same.
    purged, answer_id = await marked_by_alice(world)
    chatter = await answer(world, purged, world.c.bob, "thanks, that helped me too")
    async with world.handled("raw_bulk_message_delete"):
        await world.emu.moderator_bulk_deletes(purged, [chatter, answer_id])
    await thread_state(world, purged, ThreadState.ANSWERED)
    assert await points_of(world, world.c.helen) == 0
    # And the same when it happens while the bot is down.
    other, again = await marked_by_alice(world)
    await world.stop()
    await world.emu.user_deletes(world.c.helen, other, again)
    await world.start()
    await thread_state(world, other, ThreadState.ANSWERED)
    assert await points_of(world, world.c.helen) == 0


async def test_a_check_added_while_down_by_someone_who_may_not_mark_is_not_fetched(world: World) -> None:
    thread_id = await forum_thread(world)
    reply = await answer(world, thread_id, world.c.helen)
    await world.stop()
    await world.emu.user_reacts(world.c.mallory, thread_id, reply, CHECK)
    requests = len(world.emu.requests)
    await world.start()  # returns once the catch-up is done
    fetched = [
        path for method, path, _ in world.emu.requests[requests:] if path.endswith(f"/messages/{reply}")
    ]
    assert fetched == []
    assert await world.bot.services.solutions.get(thread_id) is None
