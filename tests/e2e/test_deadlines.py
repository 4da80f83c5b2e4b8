"""Answers within Discord's deadline: every command is acknowledged before it waits for anything.

Discord shows "The application did not respond" unless an interaction is answered within 3 s. The
bot acknowledges each command at once ("thinking…") and sends its answer when the work is done, so
neither a database lock held by another writer nor a Discord call that hangs delays the first answer.
And on the timed paths, one hanging Discord call holds up no other digest.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import make_url

from emulator import Emulator
from emulator.faults import Rule
from emulator.interactions import DEFERRED_MESSAGE, Pending
from tests.e2e.conftest import World
from tests.e2e.test_escalation import DIGEST, ask, set_escalation_channel

DIGEST_TIMEOUT = 5.0  # the port's bound for this test: far above a normal send, far below a hang


SEND = "POST /channels/{channel_id}/messages"


def hang_sends(emu: Emulator, channel_id: int) -> Rule:
    """Every message sent to ``channel_id`` hangs until released: a Discord call that never answers."""
    return emu.faults.hang(SEND, seconds=None, channel_id=channel_id)


def interaction(emu: Emulator, name: str) -> Pending | None:
    found = [p for p in emu.interactions.pending.values() if p.metadata.get("name") == name]
    return found[-1] if found else None


async def acknowledged(emu: Emulator, name: str) -> Pending:
    """The interaction ``name`` once the bot gave its first answer (whatever it was)."""
    await emu.wait_for(
        lambda: (p := interaction(emu, name)) is not None and p.callback_type is not None,
        what=f"the first answer to /{name}",
    )
    found = interaction(emu, name)
    assert found is not None
    return found


@contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """Another process writing: holds SQLite's write lock from a second connection."""
    other = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_close_is_acknowledged_while_another_writer_holds_the_database_lock(world: World) -> None:
    emu, c = world.emu, world.c
    thread = int((await emu.user_posts_in_forum(c.alice, c.forum, "Stuck", "help?"))["id"])
    await emu.wait_for_bot_message(thread, contains="Welcome")
    with write_lock_held(world.runner.database_url):
        command = asyncio.create_task(
            emu.user_runs_slash(c.alice, thread, "close", options={"reason": "solved"}, timeout=60)
        )
        pending = await acknowledged(emu, "close")
        # Answered while the close itself still waits for the lock: "thinking…", privately.
        assert pending.callback_type == DEFERRED_MESSAGE and not command.done()
        assert pending.original is not None and pending.original.flags & 64  # ephemeral
    reply = await command  # the lock is released: the close is written and the answer follows
    assert reply.text() == "Done: the thread is closed." and reply.ephemeral
    closed = await world.bot.services.threads.get(thread)
    assert closed is not None and closed.state.value == "closed"


async def test_a_hanging_digest_send_holds_up_neither_the_other_digests_nor_escalate(world: World) -> None:
    emu, c, clock = world.emu, world.c, world.clock
    await set_escalation_channel(world)  # tier 1 posts in #escalations
    reply = await emu.user_runs_slash(
        c.admin,
        c.general,
        "unstuck config tier-set",
        options={"tier": 2, "after": "24h", "who": "staff", "channel": c.general},
    )
    assert "Escalation tiers are now" in reply.text()
    port = world.bot.get_cog("Escalation").port  # type: ignore[union-attr]
    await ask(world, "Segfault in my C extension")
    clock.advance(timedelta(hours=24))
    mine = await ask(world, "Why is my list empty?", who=c.bob)
    clock.advance(timedelta(hours=1))  # the first question is due for both tiers, Bob's for none yet

    # Every send to #escalations hangs: the tier-1 digest gives up after the port's timeout (and
    # stays owed), and the tier-2 digest goes out all the same.
    hang = hang_sends(emu, c.escalations)
    port.timeout = DIGEST_TIMEOUT
    await world.bot.run_sweeps()
    [staff_digest] = [m for m in emu.bot_messages(c.general) if DIGEST in str(m["embeds"])]
    assert "Segfault in my C extension" in str(staff_digest["embeds"])
    assert hang.hits == 1 and not [m for m in emu.bot_messages(c.escalations) if DIGEST in str(m["embeds"])]

    # While the next sweep hangs on the owed digest, Bob's /escalate is answered all the same.
    port.timeout = 600  # nothing gives up now: only releasing the hang ends the sweep
    clock.advance(timedelta(minutes=1))  # the owed digest's backoff after its timeout runs out
    sweep = asyncio.create_task(world.bot.run_sweeps())
    await emu.wait_for(lambda: hang.hits == 2, what="the next sweep to hang on the owed digest")
    reply = await emu.user_runs_slash(c.bob, mine, "escalate", timeout=60)
    assert reply.type == DEFERRED_MESSAGE and not sweep.done()
    assert "escalated this question" in reply.text() and not reply.ephemeral  # public, as before
    emu.faults.clear()
    await sweep  # the owed digest goes out once Discord answers
    helper_digests = [m for m in emu.bot_messages(c.escalations) if DIGEST in str(m["embeds"])]
    assert [m for m in helper_digests if "Segfault in my C extension" in str(m["embeds"])]


async def test_a_hanging_weekly_leaderboard_post_holds_up_neither_the_health_report_nor_itself_later(
    world: World,
) -> None:
    emu, c = world.emu, world.c
    await set_escalation_channel(world)  # the health report goes there
    for command, options in (
        ("unstuck config channel", {"purpose": "leaderboard", "channel": c.general}),
        ("unstuck config set", {"key": "leaderboard.health_report", "value": "true"}),
    ):
        assert "✅" in (await emu.user_runs_slash(c.admin, c.general, command, options=options)).text()
    await emu.user_runs_slash(
        c.sam, c.general, "points grant", options={"member": c.helen, "amount": 30, "reason": "helping"}
    )
    world.bot.services.delivery.call_timeout = DIGEST_TIMEOUT  # the owed posts' deadline
    hang = hang_sends(emu, c.general)
    world.clock.set(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))  # Monday: both weekly posts are due

    await world.bot.run_sweeps()  # the leaderboard post gives up; the health report goes out
    assert hang.hits == 1 and leaderboard_posts(world) == []
    assert [m for m in emu.bot_messages(c.escalations) if "Help-channel health" in str(m["embeds"])]

    emu.faults.clear()  # Discord answers again: the owed post goes out once its retry is due, once
    world.clock.advance(timedelta(minutes=1))
    await world.bot.run_sweeps()
    assert len(leaderboard_posts(world)) == 1
    world.clock.advance(timedelta(hours=1))
    await world.bot.run_sweeps()
    assert len(leaderboard_posts(world)) == 1


def leaderboard_posts(w: World) -> list[dict[str, Any]]:
    return [m for m in w.emu.bot_messages(w.c.general) if "Top helpers of the week" in str(m["embeds"])]


async def test_a_refused_public_command_leaves_no_thinking_message_behind(world: World) -> None:
    emu, c = world.emu, world.c
    thread = await ask(world, "Please help soon")
    before = len(emu.bot_messages(thread))
    reply = await emu.user_runs_slash(c.alice, thread, "escalate")  # too early: refused, privately
    assert reply.type == DEFERRED_MESSAGE and reply.ephemeral and "you can escalate <t:" in reply.text()
    assert len(emu.bot_messages(thread)) == before  # the public "thinking…" message was deleted


async def test_an_acknowledgement_discord_fails_three_times_still_meets_the_deadline(world: World) -> None:
    """discord.py waits 1 s, then 3 s, before trying a failed acknowledgement again: left to that,
    two 503s in a row would show "The application did not respond". The bot tries afresh instead."""
    emu, c = world.emu, world.c
    thread = int((await emu.user_posts_in_forum(c.alice, c.forum, "Stuck", "help?"))["id"])
    await emu.wait_for_bot_message(thread, contains="Welcome")
    rule = emu.faults.fail("POST /interactions/{interaction_id}/{token}/callback", status=503, times=3)
    reply = await emu.user_runs_slash(c.alice, thread, "close", options={"reason": "solved"}, timeout=60)
    assert rule.hits == 3
    assert reply.text() == "Done: the thread is closed." and reply.ephemeral
    assert emu.interactions.late == 0
