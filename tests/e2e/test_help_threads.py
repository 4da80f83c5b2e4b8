"""Help threads end to end: the real bot, driven through the emulator as real people would."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.lifecycle import ThreadState
from bot.domain.permissions import Actor
from bot.services.owed import OwedMessage
from tests.e2e.conftest import World
from tests.e2e.harness import eventually

WELCOME = "Welcome to your help thread"


async def thread_state(w: World, thread_id: int, expected: ThreadState) -> None:
    async def check() -> bool:
        thread = await w.bot.services.threads.get(thread_id)
        return thread is not None and thread.state == expected

    await eventually(check, what=f"thread {thread_id} to be {expected}")


async def forum_question(w: World, title: str = "How do I read a file?", who: int | None = None) -> int:
    thread = await w.emu.user_posts_in_forum(
        who or w.c.alice, w.c.forum, title, "I tried open() and it fails"
    )
    await w.emu.wait_for_bot_message(int(thread["id"]), contains=WELCOME)
    return int(thread["id"])


def welcome_count(w: World, thread_id: int) -> int:
    return sum(1 for m in w.emu.bot_messages(thread_id) if WELCOME in str(m.get("embeds")))


async def test_a_forum_post_is_tracked_and_welcomed(world: World) -> None:
    thread_id = await forum_question(world)
    thread = await world.bot.services.threads.get(thread_id)
    assert thread is not None
    assert thread.state == ThreadState.OPEN
    assert thread.asker_id == world.c.alice
    assert thread.title == "How do I read a file?"
    assert thread.question == "I tried open() and it fails"
    assert welcome_count(world, thread_id) == 1


async def test_a_text_channel_question_gets_its_own_thread_named_after_it(world: World) -> None:
    message = await world.emu.user_says(
        world.c.bob, world.c.text, "**Why** does `pip install` fail for <@1>?\nHere is the traceback…"
    )
    thread_id = int(message["id"])
    await world.emu.wait_for_bot_message(thread_id, contains=WELCOME)
    channel = world.emu.channel(thread_id)
    assert channel["name"] == "Why does pip install fail for ?"
    assert channel["parent_id"] == str(world.c.text)
    thread = await world.bot.services.threads.get(thread_id)
    assert thread is not None and thread.kind == "text" and thread.asker_id == world.c.bob


async def test_messages_outside_help_channels_and_from_bots_are_ignored(world: World) -> None:
    async with world.handled("message", lambda m: m.author.id == world.c.other_bot):
        await world.emu.user_says(world.c.alice, world.c.general, "hello everyone")
        await world.emu.user_says(world.c.other_bot, world.c.text, "I am a bot announcement")
    assert world.emu.threads(world.c.general) == []
    assert world.emu.threads(world.c.text) == []


async def test_the_first_reply_from_someone_else_marks_the_thread_answered(world: World) -> None:
    thread_id = await forum_question(world)
    async with world.handled("message", lambda m: m.author.id == world.c.other_bot):
        await world.emu.user_says(world.c.alice, thread_id, "Anyone?")
        await world.emu.user_says(world.c.other_bot, thread_id, "beep")
    assert (await world.bot.services.threads.get(thread_id)).state == ThreadState.OPEN
    world.clock.advance(timedelta(minutes=7))
    await world.emu.user_says(world.c.helen, thread_id, "Use pathlib.Path.read_text()")
    await thread_state(world, thread_id, ThreadState.ANSWERED)
    thread = await world.bot.services.threads.get(thread_id)
    assert thread.first_responder_id == world.c.helen
    assert thread.answered_at == world.clock.now()


async def test_the_asker_closes_and_reopens_their_thread(world: World) -> None:
    thread_id = await forum_question(world)
    reply = await world.emu.user_runs_slash(world.c.alice, thread_id, "close", options={"reason": "solved"})
    assert reply.ephemeral and "closed" in reply.text()
    note = await world.emu.wait_for_bot_message(thread_id, contains="Closed by")
    assert f"Closed by <@{world.c.alice}>: solved." in note["content"]
    await thread_state(world, thread_id, ThreadState.CLOSED)
    await world.emu.wait_for(
        lambda: world.emu.channel(thread_id)["thread_metadata"]["archived"], what="archive"
    )
    reply = await world.emu.user_runs_slash(world.c.alice, thread_id, "reopen")
    assert reply.ephemeral and "open again" in reply.text()
    await world.emu.wait_for_bot_message(thread_id, contains="Reopened by")
    await thread_state(world, thread_id, ThreadState.OPEN)
    await world.emu.wait_for(
        lambda: not world.emu.channel(thread_id)["thread_metadata"]["archived"], what="unarchive"
    )


async def test_closing_twice_or_reopening_an_open_thread_is_explained(world: World) -> None:
    thread_id = await forum_question(world)
    nothing = await world.emu.user_runs_slash(world.c.alice, thread_id, "reopen")
    assert nothing.ephemeral and "nothing to reopen" in nothing.text()
    await world.emu.user_runs_slash(world.c.alice, thread_id, "close", options={"reason": "solved"})
    again = await world.emu.user_runs_slash(world.c.alice, thread_id, "close", options={"reason": "solved"})
    assert again.ephemeral and "already closed" in again.text()


async def test_staff_and_moderators_may_close_but_other_members_may_not(world: World) -> None:
    thread_id = await forum_question(world)
    refused = await world.emu.user_runs_slash(
        world.c.mallory, thread_id, "close", options={"reason": "stale"}
    )
    assert refused.ephemeral
    assert "Only the person who asked, or staff" in refused.text()
    assert (await world.bot.services.threads.get(thread_id)).state == ThreadState.OPEN
    await world.emu.user_runs_slash(world.c.sam, thread_id, "close", options={"reason": "duplicate"})
    await world.emu.wait_for_bot_message(thread_id, contains="duplicate")
    other = await forum_question(world, "Second question", who=world.c.bob)
    by_mod = await world.emu.user_runs_slash(
        world.c.moderator, other, "close", options={"reason": "off-topic"}
    )
    assert "closed" in by_mod.text()
    await thread_state(world, other, ThreadState.CLOSED)


async def test_close_outside_a_help_thread_is_refused_politely(world: World) -> None:
    reply = await world.emu.user_runs_slash(world.c.alice, world.c.general, "close", options={"reason": "x"})
    assert reply.ephemeral
    assert "inside a help thread" in reply.text()
    again = await world.emu.user_runs_slash(world.c.alice, world.c.general, "reopen")
    assert again.ephemeral


async def test_idle_threads_go_dormant_once_and_the_asker_brings_them_back(world: World) -> None:
    thread_id = await forum_question(world)
    world.clock.advance(timedelta(hours=71))
    await world.bot.run_sweeps()
    assert (await world.bot.services.threads.get(thread_id)).state == ThreadState.OPEN
    world.clock.advance(timedelta(hours=1))
    await world.bot.run_sweeps()
    await world.bot.run_sweeps()
    await thread_state(world, thread_id, ThreadState.DORMANT)
    notes = [m for m in world.emu.bot_messages(thread_id) if "quiet for" in m["content"]]
    assert len(notes) == 1
    assert "3 days" in notes[0]["content"]
    assert world.emu.channel(thread_id)["thread_metadata"]["archived"]
    await world.emu.user_says(world.c.alice, thread_id, "Still stuck, sorry!")
    await thread_state(world, thread_id, ThreadState.OPEN)


async def test_a_reply_during_downtime_counts_after_a_restart(world: World) -> None:
    thread_id = await forum_question(world)
    await world.stop()
    await world.emu.user_says(world.c.helen, thread_id, "Answered while the bot was away")
    late = await world.emu.user_posts_in_forum(world.c.bob, world.c.forum, "Posted during downtime", "help")
    text_question = await world.emu.user_says(world.c.bob, world.c.text, "Text question during downtime")
    await world.start()
    await thread_state(world, thread_id, ThreadState.ANSWERED)
    thread = await world.bot.services.threads.get(thread_id)
    assert thread.first_responder_id == world.c.helen
    await world.emu.wait_for_bot_message(int(late["id"]), contains=WELCOME)
    await world.emu.wait_for_bot_message(int(text_question["id"]), contains=WELCOME)
    assert welcome_count(world, thread_id) == 1


async def test_a_restart_in_the_middle_of_a_conversation_keeps_going(world: World) -> None:
    thread_id = await forum_question(world)
    await world.emu.user_says(world.c.alice, thread_id, "More details")
    await world.restart()
    await world.emu.user_says(world.c.helen, thread_id, "Here is the fix")
    await thread_state(world, thread_id, ThreadState.ANSWERED)
    await world.emu.user_runs_slash(world.c.alice, thread_id, "close", options={"reason": "solved"})
    await world.emu.wait_for_bot_message(thread_id, contains="Closed by")
    assert welcome_count(world, thread_id) == 1


async def test_events_delivered_twice_change_nothing_twice(world: World) -> None:
    message = await world.emu.user_says(world.c.bob, world.c.text, "Question about asyncio")
    thread_id = int(message["id"])
    await world.emu.wait_for_bot_message(thread_id, contains=WELCOME)
    # The question's own MESSAGE_CREATE again (the last one dispatched is the bot's welcome).
    question = world.emu.world.message(world.c.text, thread_id)
    async with world.handled("message", lambda m: m.id == thread_id):
        await world.emu.dispatch_raw(
            "MESSAGE_CREATE", world.emu.message_payload(question, gateway=True), world.c.guild
        )
    forum_id = await forum_question(world)
    # discord.py drops a THREAD_CREATE for a thread it knows, so the proof is that it arrived.
    async with world.handled("socket_event_type", lambda t: t == "THREAD_CREATE"):
        await world.emu.redeliver_last("THREAD_CREATE")
    assert len(world.emu.threads(world.c.text)) == 1
    assert welcome_count(world, thread_id) == 1
    assert welcome_count(world, forum_id) == 1


async def test_deleted_threads_starters_and_departed_askers_cause_no_errors(world: World) -> None:
    gone = await forum_question(world)
    await world.emu.delete_channel(gone)

    async def deleted() -> bool:
        return (await world.bot.services.threads.get(gone)).deleted

    await eventually(deleted, what="thread marked deleted")
    message = await world.emu.user_says(world.c.bob, world.c.text, "Starter that will vanish")
    await world.emu.wait_for_bot_message(int(message["id"]), contains=WELCOME)
    await world.emu.user_deletes(world.c.bob, world.c.text, int(message["id"]))

    async def flagged() -> bool:
        return (await world.bot.services.threads.get(int(message["id"]))).starter_deleted

    await eventually(flagged, what="starter flagged deleted")
    left = await forum_question(world, "Asker leaves")
    world.emu.remove_member(world.c.guild, world.c.alice)
    await world.emu.user_says(world.c.helen, left, "Answer for someone who left")
    await thread_state(world, left, ThreadState.ANSWERED)
    world.clock.advance(timedelta(days=4))
    await world.bot.run_sweeps()
    await thread_state(world, left, ThreadState.DORMANT)


async def test_editing_the_starter_updates_the_stored_question(world: World) -> None:
    thread_id = await forum_question(world)
    await world.emu.user_edits(world.c.alice, thread_id, thread_id, "Edited: it fails with PermissionError")

    async def updated() -> bool:
        return "PermissionError" in (await world.bot.services.threads.get(thread_id)).question

    await eventually(updated, what="question updated")


async def archived_flag(w: World, thread_id: int, expected: bool) -> None:
    async def check() -> bool:
        thread = await w.bot.services.threads.get(thread_id)
        return thread is not None and thread.archived_on_discord == expected

    await eventually(check, what=f"thread {thread_id} archived_on_discord={expected}")


def looked_up(w: World, since: int, thread_id: int) -> bool:
    """Whether the bot asked Discord about the thread (itself, or its messages) since request ``since``."""
    return any(
        p == f"/channels/{thread_id}" or p.startswith(f"/channels/{thread_id}/")
        for _, p, _ in w.emu.requests[since:]
    )


async def test_start_up_looks_only_at_threads_that_may_have_changed(world: World) -> None:
    resting = await forum_question(world, "Goes dormant")
    world.clock.advance(timedelta(days=4))
    await world.bot.run_sweeps()
    await archived_flag(world, resting, True)  # from the THREAD_UPDATE of the bot's own archive
    woken = await forum_question(world, "Goes dormant too")
    world.clock.advance(timedelta(days=4))
    await world.bot.run_sweeps()
    await archived_flag(world, woken, True)
    archived_by_mod = await forum_question(world, "Archived by a moderator")
    await world.stop()
    await world.emu.archive_thread(archived_by_mod)
    await world.emu.user_says(world.c.alice, woken, "Still stuck after all")  # unarchives it
    since = len(world.emu.requests)
    await world.start()
    # The thread archived meanwhile is looked at once and remembered as archived ...
    assert looked_up(world, since, archived_by_mod)
    await archived_flag(world, archived_by_mod, True)
    # ... the one woken up is active again and caught up from its last seen message ...
    await thread_state(world, woken, ThreadState.OPEN)
    await archived_flag(world, woken, False)
    # ... and the one still resting costs no request at all.
    assert not looked_up(world, since, resting)
    since = len(world.emu.requests)
    await world.restart()
    assert not looked_up(world, since, archived_by_mod)
    assert not looked_up(world, since, resting)


async def test_a_close_owed_when_the_bot_died_is_posted_and_archived_at_start_up(world: World) -> None:
    thread_id = await forum_question(world)
    note = OwedMessage(key="i1", channel_id=thread_id, content="🔒 Closed by the asker: solved.")
    # /close committed its transaction, then the process died before Discord heard of it.
    await world.bot.services.delivery.stop()
    await world.bot.services.threads.close(thread_id, Actor(world.c.alice), "solved", note)
    await world.restart()
    await world.emu.wait_for_bot_message(thread_id, contains="Closed by the asker")
    await world.emu.wait_for(
        lambda: world.emu.channel(thread_id)["thread_metadata"]["archived"], what="archived"
    )
    await world.restart()
    assert sum("Closed by" in m["content"] for m in world.emu.bot_messages(thread_id)) == 1
