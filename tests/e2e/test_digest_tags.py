"""A digest shows each thread's state as the database has it, also while Discord lags behind.

A thread's Solved and Unanswered tags are owed actions: when Discord answers a tag edit with a long
429, the edit waits for its retry and Discord's tags are stale for a while. A digest written (or
edited) in that while must still say what the database says, and the tags must arrive afterwards.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.domain.lifecycle import ThreadState
from tests.e2e.conftest import World
from tests.e2e.test_escalation import ask, confirmed, digests, set_escalation_channel, tick
from tests.e2e.test_help_threads import thread_state
from tests.e2e.test_solutions import tag_names

EDIT = "PATCH /channels/{channel_id}"
LONG = 3600.0  # seconds: far beyond what discord.py waits out itself, so the edit stays owed


def entry_of(message: dict[str, Any], thread_id: int) -> str:
    """The digest field listing the thread (its link names the thread's id)."""
    [field] = [f for e in message["embeds"] for f in e["fields"] if f"/{thread_id})" in f["value"]]
    return f"{field['name']}\n{field['value']}"


def current(w: World, digest: dict[str, Any]) -> dict[str, Any]:
    """The digest message as Discord shows it now."""
    return w.emu.message(w.c.escalations, int(digest["id"]))


async def test_a_digest_shows_unanswered_while_discord_still_refuses_the_tag(world: World) -> None:
    await set_escalation_channel(world)
    limit = world.emu.faults.rate_limit(EDIT, retry_after=LONG)  # every tag edit, until cleared
    thread = await ask(world, "Tagged while Discord says slow down", tags=["Python"])
    await world.emu.wait_for(lambda: limit.hits >= 1, what="the Unanswered tag edit to be refused")
    world.clock.advance(timedelta(hours=4))
    await tick(world)
    [digest] = digests(world)
    assert tag_names(world, thread) == {"Python"}  # Discord still lacks the tag the database owes
    assert "🏷️ Python, Unanswered" in entry_of(digest, thread)

    world.emu.faults.clear()
    world.clock.advance(timedelta(seconds=LONG))
    await tick(world)
    await world.emu.wait_for(
        lambda: tag_names(world, thread) == {"Python", "Unanswered"}, what="the owed tag to arrive"
    )


async def test_an_edited_digest_drops_unanswered_from_a_thread_answered_meanwhile(world: World) -> None:
    await set_escalation_channel(world)
    answered = await ask(world, "Answered after the digest", tags=["Python"])
    claimed = await ask(world, "Claimed from the digest")
    await world.emu.wait_for(lambda: "Unanswered" in tag_names(world, answered), what="the Unanswered tag")
    world.clock.advance(timedelta(hours=4))
    await tick(world)
    [digest] = digests(world)
    assert "🏷️ Python, Unanswered" in entry_of(digest, answered)

    limit = world.emu.faults.rate_limit(EDIT, channel_id=answered, retry_after=LONG)
    await world.emu.user_says(world.c.helen, answered, "Try reinstalling the package.")
    await thread_state(world, answered, ThreadState.ANSWERED)
    await world.emu.wait_for(lambda: limit.hits >= 1, what="the tag edit to be refused")
    reply = await world.emu.user_clicks_button(
        world.c.sam, world.c.escalations, int(digest["id"]), f"esc:claim:{claimed}"
    )
    await world.emu.wait_for(lambda: confirmed(reply), what="the claim confirmation")
    await world.emu.wait_for(
        lambda: f"Claimed by <@{world.c.sam}>" in entry_of(current(world, digest), claimed),
        what="the digest edit the claim owes",
    )
    edited = current(world, digest)
    assert "Unanswered" in tag_names(world, answered)  # Discord has not caught up yet
    assert "Unanswered" not in entry_of(edited, answered) and "🏷️ Python" in entry_of(edited, answered)


async def test_a_digest_follows_a_thread_solved_after_it_was_sent(world: World) -> None:
    """What a digest ends up showing is the thread's state, not what it was when the last claim's
    edit happened to go out (found by the chaos run: the same digest ended Solved or Unanswered
    depending on when Discord let an edit through)."""
    from tests.e2e.test_solutions import CHECK, answer, solved_with

    await set_escalation_channel(world)
    thread = await ask(world, "Solved after the digest", tags=["Python"])
    await world.emu.wait_for(lambda: "Unanswered" in tag_names(world, thread), what="the Unanswered tag")
    world.clock.advance(timedelta(hours=4))
    await tick(world)
    [digest] = digests(world)
    assert "🏷️ Python, Unanswered" in entry_of(digest, thread)

    reply = await answer(world, thread, world.c.helen)
    await world.emu.user_reacts(world.c.alice, thread, reply, CHECK)
    await solved_with(world, thread, reply)
    await world.emu.wait_for(
        lambda: "🏷️ Python, Solved" in entry_of(current(world, digest), thread), what="the digest to follow"
    )
