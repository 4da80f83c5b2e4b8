"""Marking solutions and earning points, end to end through the emulator."""

from __future__ import annotations

import asyncio

from bot.domain.lifecycle import ThreadState
from bot.services.owed import appearance_key
from storage.owed_repo import OwedRepo
from tests.e2e.conftest import World
from tests.e2e.harness import eventually
from tests.e2e.test_help_threads import WELCOME, thread_state

CHECK = "✅"


async def forum_thread(w: World, asker: int | None = None, title: str = "pandas read_csv fails") -> int:
    post = await w.emu.user_posts_in_forum(asker or w.c.alice, w.c.forum, title, "FileNotFoundError")
    thread_id = int(post["id"])
    await w.emu.wait_for_bot_message(thread_id, contains=WELCOME)
    return thread_id


async def text_thread(w: World, asker: int | None = None) -> int:
    message = await w.emu.user_says(asker or w.c.bob, w.c.text, "pip install fails with permission denied")
    thread_id = int(message["id"])
    await w.emu.wait_for_bot_message(thread_id, contains=WELCOME)
    return thread_id


async def answer(w: World, thread_id: int, who: int, text: str = "Use a virtualenv") -> int:
    """``who`` replies in the thread; returns once the bot has handled the reply (assists count it)."""
    async with w.handled("message", lambda m: (m.channel.id, m.author.id) == (thread_id, who)):
        message = await w.emu.user_says(who, thread_id, text)
    return int(message["id"])


async def points_of(w: World, member: int) -> int:
    return (await w.bot.services.points.standing(w.c.guild, member)).total


async def solved_with(w: World, thread_id: int, message_id: int | None) -> None:
    """Wait for the solution and for the bot to bring Discord in line with it (tags, name, note).

    Discord allows 2 name or tag edits per thread in 10 minutes: when the look waits for that
    window, the clocks move past it (``w.edit_window_passes()``), as a user would wait to see it.
    """
    await marked_with(w, thread_id, message_id)
    if not await look_done(w, thread_id):
        await w.edit_window_passes()
        assert await look_done(w, thread_id), "the look is still owed after Discord's window"


async def marked_with(w: World, thread_id: int, message_id: int | None) -> None:
    """Wait for the solution, and for its look shown as far as Discord allows now (a third name or
    tag edit within 10 minutes waits for the window)."""

    async def check() -> bool:
        solution = await w.bot.services.solutions.get(thread_id)
        return solution is not None and solution.message_id == message_id and await look_shown(w, thread_id)

    await eventually(check, what=f"solution {message_id} on {thread_id}, shown on Discord")


async def look_done(w: World, thread_id: int) -> bool:
    async with w.bot.services.db.reading() as session:
        look = await OwedRepo(session).get(appearance_key(thread_id))
    return look is not None and look.status == "done"


async def look_shown(w: World, thread_id: int) -> bool:
    """The thread's look (tags or name, note, archived) is delivered, or waits only for Discord's
    window of name and tag edits (a 429 from the real limit on this thread)."""
    async with w.bot.services.db.reading() as session:
        look = await OwedRepo(session).get(appearance_key(thread_id))
    if look is None or look.status == "done":
        return look is not None
    limited = ("real_rate_limit", "PATCH /channels/{channel_id}", thread_id) in w.emu.faults.log
    return look.status == "pending" and look.next_attempt_at > w.clock.now() and limited


def solved_notes(w: World, thread_id: int) -> list[dict]:
    return [m for m in w.emu.bot_messages(thread_id) if "Solved!" in m["content"]]


def tag_names(w: World, thread_id: int) -> set[str]:
    forum = w.emu.channel(w.c.forum)
    names = {tag["id"]: tag["name"] for tag in forum["available_tags"]}
    return {names[t] for t in w.emu.channel(thread_id)["applied_tags"]}


async def test_a_reaction_by_the_asker_marks_the_solution_tags_and_awards(world: World) -> None:
    thread_id = await forum_thread(world)
    await world.emu.wait_for(lambda: tag_names(world, thread_id) == {"Unanswered"}, what="Unanswered tag")
    reply = await answer(world, thread_id, world.c.helen)
    await thread_state(world, thread_id, ThreadState.ANSWERED)
    await world.emu.user_reacts(world.c.alice, thread_id, reply, CHECK)
    await marked_with(world, thread_id, reply)
    await thread_state(world, thread_id, ThreadState.SOLVED)
    assert await points_of(world, world.c.helen) == 10
    notes = solved_notes(world, thread_id)
    assert len(notes) == 1
    button = notes[0]["components"][0]["components"][0]
    assert button["label"] == "Jump to the answer"
    assert button["url"].endswith(f"/{thread_id}/{reply}")
    # Unanswered on, then off: Discord allows no third tag edit within 10 minutes.
    assert tag_names(world, thread_id) == set()
    await world.edit_window_passes()
    await world.emu.wait_for(lambda: tag_names(world, thread_id) == {"Solved"}, what="Solved tag")


async def test_the_context_menu_marks_and_renames_a_text_thread(world: World) -> None:
    thread_id = await text_thread(world)
    reply = await answer(world, thread_id, world.c.helen)
    result = await world.emu.user_uses_context_menu(world.c.bob, thread_id, "Mark as solution", reply)
    assert result.ephemeral
    assert "earned 10 points" in result.text()
    await solved_with(world, thread_id, reply)
    await world.emu.wait_for(lambda: world.emu.channel(thread_id)["name"].startswith("✅ "), what="✅ prefix")
    assert len(world.emu.channel(thread_id)["name"]) <= 100
    thread = await world.bot.services.threads.get(thread_id)
    assert not thread.title.startswith("✅")


async def test_slash_solved_with_a_link_an_id_or_nothing(world: World) -> None:
    first = await forum_thread(world)
    reply = await answer(world, first, world.c.helen)
    link = f"https://discord.com/channels/{world.c.guild}/{first}/{reply}"
    result = await world.emu.user_runs_slash(world.c.alice, first, "solved", options={"message": link})
    assert "earned 10 points" in result.text()
    await solved_with(world, first, reply)
    second = await forum_thread(world, title="Second")
    by_id = await answer(world, second, world.c.sam)
    await world.emu.user_runs_slash(world.c.alice, second, "solved", options={"message": str(by_id)})
    await solved_with(world, second, by_id)
    third = await forum_thread(world, title="Third")
    result = await world.emu.user_runs_slash(world.c.alice, third, "solved")
    assert "Marked as solved" in result.text()
    await solved_with(world, third, None)
    assert await points_of(world, world.c.helen) == 10
    assert await points_of(world, world.c.sam) == 10


async def test_marking_another_answer_moves_the_solution_and_its_points(world: World) -> None:
    thread_id = await forum_thread(world)
    first = await answer(world, thread_id, world.c.helen, "try this")
    second = await answer(world, thread_id, world.c.sam, "no, this")
    await world.emu.user_uses_context_menu(world.c.alice, thread_id, "Mark as solution", first)
    await solved_with(world, thread_id, first)
    result = await world.emu.user_uses_context_menu(world.c.alice, thread_id, "Mark as solution", second)
    assert "moved" in result.text()
    await solved_with(world, thread_id, second)
    # sam earns the solution; helen, who also replied, keeps a 2-point assist
    assert await points_of(world, world.c.sam) == 10
    assert await points_of(world, world.c.helen) == 2
    assert len(solved_notes(world, thread_id)) == 1
    assert f"/{second}" in solved_notes(world, thread_id)[0]["components"][0]["components"][0]["url"]


async def test_removing_the_reaction_or_unsolve_takes_it_back(world: World) -> None:
    thread_id = await forum_thread(world)
    reply = await answer(world, thread_id, world.c.helen)
    await world.emu.user_reacts(world.c.alice, thread_id, reply, CHECK)
    await solved_with(world, thread_id, reply)
    await world.emu.user_unreacts(world.c.alice, thread_id, reply, CHECK)
    await thread_state(world, thread_id, ThreadState.ANSWERED)
    assert await points_of(world, world.c.helen) == 0
    await world.emu.wait_for(
        lambda: "solution mark was removed" in world.emu.bot_messages(thread_id)[-1]["content"],
        what="note edited",
    )
    await world.emu.wait_for(lambda: tag_names(world, thread_id) == set(), what="Solved tag removed")
    await world.emu.user_uses_context_menu(world.c.alice, thread_id, "Mark as solution", reply)
    await solved_with(world, thread_id, reply)
    refused = await world.emu.user_runs_slash(world.c.mallory, thread_id, "unsolve")
    assert refused.ephemeral and "Only the person who asked, or staff" in refused.text()
    done = await world.emu.user_runs_slash(world.c.sam, thread_id, "unsolve")
    assert "Solution removed" in done.text()
    await thread_state(world, thread_id, ThreadState.ANSWERED)
    assert await points_of(world, world.c.helen) == 0


async def test_reactions_added_and_removed_while_the_bot_was_down_count_at_start_up(world: World) -> None:
    """Discord sends no events for them later: the catch-up finds them in the thread's history."""
    thread_id = await forum_thread(world)
    reply = await answer(world, thread_id, world.c.helen)
    await world.stop()
    await world.emu.user_reacts(world.c.alice, thread_id, reply, CHECK)
    await world.emu.user_reacts(world.c.mallory, thread_id, reply, CHECK)  # may not mark: changes nothing
    await world.start()
    await solved_with(world, thread_id, reply)
    assert await points_of(world, world.c.helen) == 10
    assert len(solved_notes(world, thread_id)) == 1
    await world.stop()
    await world.emu.user_unreacts(world.c.alice, thread_id, reply, CHECK)
    await world.start()
    await thread_state(world, thread_id, ThreadState.ANSWERED)
    assert await points_of(world, world.c.helen) == 0
    await world.emu.wait_for(
        lambda: "solution mark was removed" in world.emu.bot_messages(thread_id)[-1]["content"],
        what="the Solved note edited",
    )


async def test_forbidden_markers_and_targets_change_nothing(world: World) -> None:
    thread_id = await forum_thread(world)
    reply = await answer(world, thread_id, world.c.helen)
    async with world.handled("raw_reaction_add", lambda p: p.user_id == world.c.mallory):
        await world.emu.user_reacts(world.c.mallory, thread_id, reply, CHECK)
    refused = await world.emu.user_uses_context_menu(world.c.mallory, thread_id, "Mark as solution", reply)
    assert refused.ephemeral and "Only the person who asked, a helper or staff" in refused.text()
    starter = await world.emu.user_uses_context_menu(world.c.alice, thread_id, "Mark as solution", thread_id)
    assert "question itself" in starter.text()
    bot_message = world.emu.bot_messages(thread_id)[0]["id"]
    from_bot = await world.emu.user_uses_context_menu(
        world.c.alice, thread_id, "Mark as solution", int(bot_message)
    )
    assert "bots can't be marked" in from_bot.text()
    elsewhere = await world.emu.user_says(world.c.helen, world.c.general, "an answer in the wrong place")
    link = f"https://discord.com/channels/{world.c.guild}/{world.c.general}/{elsewhere['id']}"
    outside = await world.emu.user_runs_slash(world.c.alice, thread_id, "solved", options={"message": link})
    assert "not in this thread" in outside.text()
    garbage = await world.emu.user_runs_slash(
        world.c.alice, thread_id, "solved", options={"message": "hello"}
    )
    assert "message link" in garbage.text()
    assert await world.bot.services.solutions.get(thread_id) is None
    assert await points_of(world, world.c.helen) == 0


async def test_helpers_staff_and_moderators_may_mark(world: World) -> None:
    for marker in (world.c.helen, world.c.sam, world.c.moderator):
        thread_id = await forum_thread(world, title=f"marked by {marker}")
        reply = await answer(world, thread_id, world.c.bob)
        await world.emu.user_reacts(marker, thread_id, reply, CHECK)
        await solved_with(world, thread_id, reply)


async def test_a_duplicate_event_and_simultaneous_marks_pay_once(world: World) -> None:
    thread_id = await forum_thread(world)
    reply = await answer(world, thread_id, world.c.helen)
    # Sam's reaction comes after alice's two on the gateway: once it is handled, all of them are.
    async with world.handled("raw_reaction_add", lambda p: p.user_id == world.c.sam):
        await world.emu.user_reacts(world.c.alice, thread_id, reply, CHECK)
        await world.emu.redeliver_last("MESSAGE_REACTION_ADD")
        await asyncio.gather(
            world.emu.user_reacts(world.c.sam, thread_id, reply, CHECK),
            world.emu.user_uses_context_menu(world.c.helen, thread_id, "Mark as solution", reply),
        )
    await solved_with(world, thread_id, reply)
    assert await points_of(world, world.c.helen) == 10
    assert len(solved_notes(world, thread_id)) == 1
    history = await world.bot.services.points.history(world.c.guild, world.c.helen)
    assert [e.amount for e in history if e.revoked_at is None] == [10]


async def test_a_self_answer_solves_but_earns_nothing(world: World) -> None:
    thread_id = await forum_thread(world)
    mine = await answer(world, thread_id, world.c.alice, "Never mind, I found it: wrong folder")
    result = await world.emu.user_uses_context_menu(world.c.alice, thread_id, "Mark as solution", mine)
    assert "no points for answering your own question" in result.text()
    await thread_state(world, thread_id, ThreadState.SOLVED)
    assert await points_of(world, world.c.alice) == 0


async def test_the_collusion_cap_stops_points_but_not_solving(world: World) -> None:
    for n in range(4):
        thread_id = await forum_thread(world, title=f"question {n}")
        reply = await answer(world, thread_id, world.c.mallory)
        result = await world.emu.user_uses_context_menu(world.c.alice, thread_id, "Mark as solution", reply)
        await thread_state(world, thread_id, ThreadState.SOLVED)
    assert "already 3 awards from this asker" in result.text()
    assert await points_of(world, world.c.mallory) == 30


async def test_staff_grant_and_revoke_with_reasons_and_history(world: World) -> None:
    refused = await world.emu.user_runs_slash(
        world.c.mallory,
        world.c.general,
        "points grant",
        options={"member": world.c.mallory, "amount": 50, "reason": "I deserve it"},
    )
    assert refused.ephemeral and "Only staff" in refused.text()
    granted = await world.emu.user_runs_slash(
        world.c.sam,
        world.c.general,
        "points grant",
        options={"member": world.c.bob, "amount": 15, "reason": "docs"},
    )
    assert "total is now 15" in granted.text()
    revoked = await world.emu.user_runs_slash(
        world.c.sam,
        world.c.general,
        "points revoke",
        options={"member": world.c.bob, "amount": 5, "reason": "typo"},
    )
    assert "total is now 10" in revoked.text()
    history = await world.emu.user_runs_slash(
        world.c.sam, world.c.general, "points history", options={"member": world.c.bob}
    )
    assert "staff grant" in history.text() and "docs" in history.text() and "typo" in history.text()
    shown = await world.emu.user_runs_slash(world.c.bob, world.c.general, "points show")
    assert shown.ephemeral and "10" in shown.text()
    nobody_history = await world.emu.user_runs_slash(world.c.mallory, world.c.general, "points history")
    assert "Only staff" in nobody_history.text()


async def test_leaderboard_pages_with_buttons(world: World) -> None:
    members = []
    for n in range(12):
        user = world.emu.create_user(f"helper{n}")
        world.emu.add_member(world.c.guild, user)
        members.append(user)
    for n, user in enumerate(members):
        await world.emu.user_runs_slash(
            world.c.sam,
            world.c.general,
            "points grant",
            options={"member": user, "amount": 20 + n, "reason": "r"},
        )
    first = await world.emu.user_runs_slash(
        world.c.alice, world.c.general, "leaderboard", options={"window": "all"}
    )
    assert first.ephemeral
    assert f"🥇 <@{members[-1]}> — **31** points" in first.text()
    assert "Page 1 of 2" in first.text()
    buttons = first.components[0]["components"]
    assert [b["label"] for b in buttons] == ["◀ Previous", "Next ▶"]
    assert buttons[0]["disabled"] is True
    second = await world.emu.user_clicks_button(
        world.c.alice, world.c.general, first.message_id, buttons[1]["custom_id"]
    )
    assert "Page 2 of 2" in second.text()
    assert f"<@{members[0]}> — **20** points" in second.text()
    assert all(m["users"] == set() for m in world.emu.pings)


async def test_members_with_an_excluded_role_earn_but_are_not_listed(world: World) -> None:
    excluded_role = world.emu.create_role(world.c.guild, "Bots-and-mods")
    staffer = world.emu.create_user("quiet_staffer")
    world.emu.add_member(world.c.guild, staffer, roles=[excluded_role])
    await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config set",
        options={"key": "points.excluded_roles", "value": f"[{excluded_role}]"},
    )
    await world.emu.user_runs_slash(
        world.c.sam, world.c.general, "points grant", options={"member": staffer, "amount": 99, "reason": "r"}
    )
    board = await world.emu.user_runs_slash(
        world.c.alice, world.c.general, "leaderboard", options={"window": "all"}
    )
    assert str(staffer) not in board.text()
    shown = await world.emu.user_runs_slash(staffer, world.c.general, "points show")
    assert "99" in shown.text() and "Not listed" in shown.text()
