"""The real bot across gateway faults that Discord heals itself: what it missed is replayed on RESUME.

(A gap without replay needs the bot's own catch-up after it identifies anew: issue 12, item 3.)
"""

from __future__ import annotations

from bot.domain.lifecycle import ThreadState
from tests.e2e.conftest import World
from tests.e2e.test_help_threads import forum_question, thread_state


async def test_a_reply_sent_while_the_bot_was_away_counts_after_the_resume(world: World) -> None:
    thread_id = await forum_question(world)
    helen = world.c.helen
    # The outage ends (and the bot resumes) before the block waits for the bot to handle the reply.
    async with (
        world.handled("message", lambda m: m.author.id == helen),
        world.emu.gateway_faults.outage(replay=True),
    ):
        await world.emu.user_says(helen, thread_id, "Use pathlib.Path.read_text()")
    await thread_state(world, thread_id, ThreadState.ANSWERED)
    thread = await world.bot.services.threads.get(thread_id)
    assert thread is not None and thread.first_responder_id == helen
    assert world.emu.gateway_faults.counts["events_replayed"] >= 1


async def test_commands_and_reactions_work_across_a_server_reconnect(world: World) -> None:
    thread_id = await forum_question(world)
    emu, c = world.emu, world.c
    await emu.gateway_faults.reconnect()
    answer = await emu.user_says(c.helen, thread_id, "Use pathlib.Path.read_text()")
    async with world.handled("raw_reaction_add", lambda p: p.user_id == c.alice):
        await emu.user_reacts(c.alice, thread_id, int(answer["id"]), "✅")
    await thread_state(world, thread_id, ThreadState.SOLVED)
    reply = await emu.user_runs_slash(c.alice, thread_id, "close", options={"reason": "solved"})
    assert reply.ephemeral and "closed" in reply.text()
    assert emu.gateway_faults.counts["resume"] == 1
