"""What the bot owes Discord reaches it while the bot keeps running, whatever Discord answers first.

Discord fails on purpose here (the emulator's fault API, ``emu.faults``): 503s, a long 429 on a
thread rename, a connection lost after Discord acted, a thread deleted before its note went out, a
digest edit after a claim.
The bot is never restarted; the scheduler's tick (``run_sweeps`` after the test clock moved) is
what retries.
"""

from __future__ import annotations

from datetime import timedelta

from bot.services.owed import appearance_key, edit_key
from storage.owed_repo import OwedRepo
from tests.e2e.conftest import World
from tests.e2e.harness import handlers_finished
from tests.e2e.test_escalation import ask, confirmed, digests, listed, set_escalation_channel
from tests.e2e.test_help_threads import WELCOME
from tests.e2e.test_solutions import answer, solved_notes, text_thread

MESSAGES = "POST /channels/{channel_id}/messages"
CHANNEL_EDIT = "PATCH /channels/{channel_id}"
MESSAGE_EDIT = "PATCH /channels/{channel_id}/messages/{message_id}"
ORIGINAL_EDIT = "PATCH /webhooks/{application_id}/{token}/messages/{message_id}"


def welcomes(w: World, thread_id: int) -> list[dict]:
    return [
        m
        for m in w.emu.bot_messages(thread_id)
        if any(WELCOME in (e.get("title") or "") for e in m["embeds"])
    ]


async def tick(w: World, seconds: float) -> None:
    """Time passes and the scheduler ticks once, as it does every few seconds in production."""
    w.clock.advance(timedelta(seconds=seconds))
    await w.bot.run_sweeps()


async def status_of(w: World, key: str) -> tuple[str, str | None]:
    async with w.bot.services.db.reading() as session:
        row = await OwedRepo(session).get(key)
    assert row is not None
    return row.status, row.refusal


async def test_a_welcome_note_discord_failed_three_times_arrives_once_without_a_restart(world: World) -> None:
    world.emu.faults.fail(MESSAGES, times=3)
    async with world.handled("thread_create"):
        post = await world.emu.user_posts_in_forum(
            world.c.alice, world.c.forum, "numpy import error", "ImportError"
        )
    thread_id = int(post["id"])
    assert welcomes(world, thread_id) == []  # Discord answered 503
    for _ in range(3):
        await tick(world, 60)
    assert len(welcomes(world, thread_id)) == 1
    assert world.emu.faults.injected["server_error"] == 3
    await tick(world, 600)
    assert len(welcomes(world, thread_id)) == 1


async def test_a_note_whose_answer_was_lost_is_looked_for_not_posted_twice_after_a_long_outage(
    world: World,
) -> None:
    world.emu.faults.reset(MESSAGES, applied=True, times=1)
    async with world.handled("thread_create"):
        post = await world.emu.user_posts_in_forum(world.c.alice, world.c.forum, "numpy import error", "?")
    thread_id = int(post["id"])
    assert len(welcomes(world, thread_id)) == 1  # it went out, but the bot never heard so
    await tick(world, 3600)  # long after Discord forgot the nonce
    assert len(welcomes(world, thread_id)) == 1
    assert await status_of(world, f"w{thread_id}") == ("done", None)


async def test_a_long_429_on_a_rename_holds_back_only_that_thread(world: World) -> None:
    first = await text_thread(world)
    second = await text_thread(world, asker=world.c.alice)
    first_answer = await answer(world, first, world.c.helen)
    second_answer = await answer(world, second, world.c.sam)
    # Discord allows two renames per ten minutes per channel: the first thread's rename waits.
    world.emu.faults.rate_limit(CHANNEL_EDIT, retry_after=600, channel_id=first, times=1)
    await world.emu.user_uses_context_menu(world.c.bob, first, "Mark as solution", first_answer)
    await handlers_finished()
    await world.emu.user_uses_context_menu(world.c.alice, second, "Mark as solution", second_answer)
    await handlers_finished()
    # The other thread was not held up: its note and its ✅ name are there at once ...
    assert len(solved_notes(world, second)) == 1
    assert world.emu.channel(second)["name"].startswith("✅ ")
    # ... and the limited one has its note, and its name once Discord allows it.
    assert len(solved_notes(world, first)) == 1
    assert not world.emu.channel(first)["name"].startswith("✅ ")
    assert world.emu.faults.log == [("rate_limit", CHANNEL_EDIT, first)]
    await tick(world, 599)
    assert not world.emu.channel(first)["name"].startswith("✅ ")
    await tick(world, 1)
    assert world.emu.channel(first)["name"].startswith("✅ ")
    assert len(solved_notes(world, first)) == 1  # the note was not posted a second time
    assert await status_of(world, appearance_key(first)) == ("done", None)


async def test_a_note_for_a_deleted_thread_is_settled_once_and_shown_to_staff(world: World) -> None:
    thread_id = await text_thread(world)
    port = world.bot.services.delivery.port
    world.bot.services.delivery.port = None  # the bot is busy: /close is owed but not sent yet
    await world.emu.user_runs_slash(world.c.bob, thread_id, "close", options={"reason": "solved"})
    async with world.handled("raw_thread_delete"):
        await world.emu.delete_channel(thread_id)
    world.bot.services.delivery.port = port
    since = len(world.emu.requests)
    for _ in range(3):
        await tick(world, 3600)
    tried = [(method, path) for method, path, _ in world.emu.requests[since:] if str(thread_id) in path]
    # Discord said "unknown channel" once; the thread's look needs nothing (the bot knows it is gone).
    assert tried == [("GET", f"/channels/{thread_id}")]
    owed = await world.bot.services.delivery.refused_summary(world.c.guild)
    assert owed == [(thread_id, "the channel was deleted", 1)]
    show = await world.emu.user_runs_slash(world.c.admin, world.c.general, "unstuck config show")
    assert f"1 bot action could not be delivered in <#{thread_id}>: the channel was deleted" in show.text()


async def test_an_escalation_digest_discord_failed_goes_out_at_a_later_tick_once(world: World) -> None:
    await set_escalation_channel(world)
    thread_id = await ask(world, "segfault in my C extension")
    world.emu.faults.fail(MESSAGES, channel_id=world.c.escalations, times=2)
    world.clock.advance(timedelta(hours=4))
    await world.bot.run_sweeps()
    assert digests(world) == []  # Discord answered 503: the ping waits, the bot runs on
    for _ in range(3):
        await tick(world, 60)
    assert len(digests(world)) == 1
    assert str(thread_id) in listed(digests(world)[0])
    await tick(world, 3600)
    assert len(digests(world)) == 1


async def test_claims_whose_digest_edits_discord_failed_show_on_the_digest_without_a_restart(
    world: World,
) -> None:
    await set_escalation_channel(world)
    first = await ask(world, "segfault in my C extension")
    second = await ask(world, "numpy import error")
    world.clock.advance(timedelta(hours=4))
    await world.bot.run_sweeps()
    [digest] = digests(world)
    digest_id = int(digest["id"])
    # Every edit of the digest fails, whether through the channel or through the click's webhook.
    for route in (MESSAGE_EDIT, ORIGINAL_EDIT):
        world.emu.faults.fail(route, times=2)
    for helper, thread in ((world.c.helen, first), (world.c.sam, second)):
        reply = await world.emu.user_clicks_button(
            helper, world.c.escalations, digest_id, f"esc:claim:{thread}"
        )
        await world.emu.wait_for(lambda r=reply: confirmed(r), what="the claim confirmation")
    await world.bot.services.delivery.deliver_due()  # the attempts under way are through
    shown = listed(world.emu.message(world.c.escalations, digest_id))
    assert "Claimed by" not in shown  # Discord answered 503: the edit is owed, the bot runs on
    for _ in range(3):
        await tick(world, 60)
    shown = listed(world.emu.message(world.c.escalations, digest_id))
    # Both claims, though the second was owed while the first edit was failing: the last state wins.
    assert f"Claimed by <@{world.c.helen}>" in shown and f"Claimed by <@{world.c.sam}>" in shown
    assert world.emu.faults.injected["server_error"] == 2
    assert await status_of(world, edit_key(digest_id)) == ("done", None)
