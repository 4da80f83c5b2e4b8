"""Discord's real limit on a thread's look: 2 name or tag edits per thread in 10 minutes.

The emulator enforces it as Discord does (a third edit answers 429 with the seconds until the window
frees, on the test clock). The bot must show each thread's latest state once the window allows,
spend none of the window on states already gone, and hold nothing else up while a thread waits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.lifecycle import ThreadState
from bot.domain.permissions import Actor
from bot.services.owed import appearance_key
from emulator.faults import NAME_EDIT_WINDOW
from storage.models import OwedAction
from storage.owed_repo import OwedRepo
from tests.e2e.conftest import World
from tests.e2e.harness import eventually
from tests.e2e.test_help_threads import thread_state, welcome_count
from tests.e2e.test_solutions import (
    CHECK,
    answer,
    forum_thread,
    look_shown,
    marked_with,
    solved_notes,
    tag_names,
    text_thread,
)


def edits_asked(w: World, thread_id: int) -> int:
    """How many times the bot asked Discord to change the thread's name or tags (429s included)."""
    return sum(
        1
        for method, path, body in w.emu.requests
        if method == "PATCH"
        and path.endswith(f"/channels/{thread_id}")
        and isinstance(body, dict)
        and ("name" in body or "applied_tags" in body)
    )


def edits_made(w: World, thread_id: int) -> list[datetime]:
    """When Discord changed the thread's name or tags."""
    return [at for channel, at in w.emu.faults.limited_edits if channel == thread_id]


def most_in_a_window(times: list[datetime]) -> int:
    return max((sum(1 for t in times if start <= t < start + NAME_EDIT_WINDOW) for start in times), default=0)


async def look(w: World, thread_id: int) -> OwedAction:
    async with w.bot.services.db.reading() as session:
        row = await OwedRepo(session).get(appearance_key(thread_id))
    assert row is not None
    return row


async def test_solved_reopened_and_solved_again_shows_the_last_state_once_the_window_allows(
    world: World,
) -> None:
    c = world.c
    thread_id = await text_thread(world)
    reply = await answer(world, thread_id, c.helen)

    def name() -> str:
        return str(world.emu.channel(thread_id)["name"])

    async def mark() -> None:
        await world.emu.user_uses_context_menu(c.bob, thread_id, "Mark as solution", reply)
        await marked_with(world, thread_id, reply)

    async def unsolve() -> None:
        await world.emu.user_runs_slash(c.bob, thread_id, "unsolve")
        await thread_state(world, thread_id, ThreadState.ANSWERED)
        await eventually(lambda: look_shown(world, thread_id), what="the reopened look")

    await mark()
    assert name().startswith("✅ ")
    world.clock.advance(timedelta(minutes=1))
    await unsolve()
    assert not name().startswith("✅")
    world.clock.advance(timedelta(minutes=1))
    await mark()  # a third rename within 10 minutes: Discord says wait
    assert not name().startswith("✅")
    await unsolve()  # Discord shows this state already: nothing to send
    await mark()  # solved again while the window is still full: the bot does not ask in vain
    assert not name().startswith("✅")
    assert edits_asked(world, thread_id) == 3  # two renames, and the one Discord refused
    assert "Solved!" in world.emu.bot_messages(thread_id)[-1]["content"]  # the note is not held up

    await world.edit_window_passes()
    assert name().startswith("✅ ")
    assert (await look(world, thread_id)).status == "done"
    assert edits_asked(world, thread_id) == 4  # the last state, in one edit
    assert len(edits_made(world, thread_id)) == 3
    assert most_in_a_window(edits_made(world, thread_id)) <= 2
    assert len(solved_notes(world, thread_id)) == 1


async def test_a_thread_waiting_for_the_window_holds_up_no_other_thread(world: World) -> None:
    c = world.c
    limited = await forum_thread(world)
    await world.emu.wait_for(lambda: tag_names(world, limited) == {"Unanswered"}, what="Unanswered tag")
    reply = await answer(world, limited, c.helen)
    await world.emu.wait_for(lambda: tag_names(world, limited) == set(), what="Unanswered removed")
    await world.emu.user_reacts(c.alice, limited, reply, CHECK)
    await marked_with(world, limited, reply)
    assert tag_names(world, limited) == set()  # Solved would be the third tag edit in 10 minutes

    # Meanwhile Bob asks: his welcome note and his tag come at once, no time passing.
    async with world.handled("thread_create"):
        post = await world.emu.user_posts_in_forum(c.bob, c.forum, "tkinter freezes", "The window hangs")
    other = int(post["id"])
    await world.emu.wait_for(lambda: tag_names(world, other) == {"Unanswered"}, what="Bob's tag")
    assert welcome_count(world, other) == 1
    assert tag_names(world, limited) == set()

    # The waiting look is due exactly when Discord's window frees, not before.
    due = (await look(world, limited)).next_attempt_at
    window_frees = edits_made(world, limited)[0] + NAME_EDIT_WINDOW
    assert abs(due - window_frees) < timedelta(milliseconds=10)
    asked = edits_asked(world, limited)
    world.clock.advance(due - world.clock.now() - timedelta(seconds=1))
    await world.bot.services.delivery.deliver_due()
    assert tag_names(world, limited) == set()
    assert edits_asked(world, limited) == asked
    world.clock.advance(timedelta(seconds=1))
    await world.bot.services.delivery.deliver_due()
    assert tag_names(world, limited) == {"Solved"}
    assert most_in_a_window(edits_made(world, limited)) <= 2


async def test_a_look_is_decided_from_what_discord_shows_even_before_the_gateway_says_so(
    world: World,
) -> None:
    """Discord's THREAD_UPDATE for the bot's own edit may come after the edit's answer: the next
    look must not be decided from the older copy (or the thread would stay archived here)."""
    thread_id = await text_thread(world)
    asker = Actor(world.c.bob)

    def archived() -> bool:
        return bool(world.emu.channel(thread_id)["thread_metadata"]["archived"])

    async with world.emu.gateway_faults.outage(replay=True):
        await world.bot.services.threads.close(thread_id, asker, "solved")
        await world.bot.services.delivery.deliver_due()
        assert archived()
        await world.bot.services.threads.reopen(thread_id, asker)
        await world.bot.services.delivery.deliver_due()
        assert not archived()
    await world.emu.wait_for(lambda: world.emu.gateway_faults.counts["events_replayed"] >= 1, what="RESUME")
    assert (await look(world, thread_id)).status == "done"
