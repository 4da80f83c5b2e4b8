"""A restart costs Discord requests in proportion to what changed while the bot was down, not to
how many threads are active: unchanged threads are not read by the catch-up (their reactions are
compared afterwards, one paced request each), yet a reply, an archive and a new post made while the
bot was away are all caught."""

from __future__ import annotations

import asyncio
import re

from bot.domain.lifecycle import ThreadState
from tests.e2e.conftest import World
from tests.e2e.harness import eventually
from tests.e2e.test_help_threads import WELCOME, archived_flag, forum_question, thread_state, welcome_count
from tests.e2e.test_solutions import CHECK, answer, forum_thread, solved_with

UNCHANGED = 30
#: Requests the catch-up of three changed threads may cost, log-in included: a fixed few, whatever
#: the number of unchanged threads (it read each of them, twice, before).
CATCH_UP_BUDGET = 20

THREAD_PATH = re.compile(r"^/channels/(\d+)(/|$)")


def about(path: str) -> int | None:
    """The channel or thread a request path is about, if any."""
    match = THREAD_PATH.match(path)
    return int(match.group(1)) if match else None


async def seen_everything(w: World, thread_ids: list[int]) -> None:
    """The bot has recorded every thread as seen up to Discord's newest message there (its own
    welcome note included), so nothing about them is left for a catch-up."""

    async def check() -> bool:
        for thread_id in thread_ids:
            thread = await w.bot.services.threads.get(thread_id)
            newest = w.emu.channel(thread_id)["last_message_id"]
            if thread is None or thread.last_seen_message_id != int(newest):
                return False
        return True

    await eventually(check, what="every thread seen up to its newest message")


async def many_threads(w: World) -> tuple[list[int], int, int]:
    """Active threads that will not change, one that will get a reply, one that will be archived."""
    threads = [await forum_question(w, f"Question number {n}") for n in range(UNCHANGED + 2)]
    await seen_everything(w, threads)
    return threads[2:], threads[0], threads[1]


async def test_a_restart_reads_only_what_changed_while_down_and_misses_none_of_it(world: World) -> None:
    unchanged, replied, archived = await many_threads(world)
    await world.stop()
    await world.emu.user_says(world.c.helen, replied, "Answered while the bot was away")
    await world.emu.archive_thread(archived)
    created = int(
        (await world.emu.user_posts_in_forum(world.c.bob, world.c.forum, "Posted while down", "help"))["id"]
    )
    since = len(world.emu.requests)
    await world.start()  # returns once the catch-up and the paced reaction comparison are done

    await thread_state(world, replied, ThreadState.ANSWERED)
    assert (await world.bot.services.threads.get(replied)).first_responder_id == world.c.helen  # type: ignore[union-attr]
    await archived_flag(world, archived, True)
    await world.emu.wait_for_bot_message(created, contains=WELCOME)
    assert welcome_count(world, created) == 1

    requests = world.emu.requests[since:]
    quiet = set(unchanged)
    # The catch-up is over before any unchanged thread is asked about: each changed thread was
    # looked at, and the first request about an unchanged one comes after all of that.
    first_quiet = next(i for i, (_, path, _) in enumerate(requests) if about(path) in quiet)
    catch_up = requests[:first_quiet]
    looked_at = {about(path) for _, path, _ in catch_up}
    assert {replied, archived, created} <= looked_at
    assert ("GET", f"/guilds/{world.c.guild}/threads/active") in {(m, p) for m, p, _ in catch_up}
    assert len(catch_up) <= CATCH_UP_BUDGET, [f"{m} {p}" for m, p, _ in catch_up]
    # Afterwards each unchanged thread costs one read of its latest messages, for its reactions.
    per_thread = {thread_id: [(m, p) for m, p, _ in requests if about(p) == thread_id] for thread_id in quiet}
    assert all(calls == [("GET", f"/channels/{t}/messages")] for t, calls in per_thread.items()), per_thread


async def test_a_second_restart_with_nothing_changed_reads_no_thread(world: World) -> None:
    """The bot's own messages count as seen: a thread whose newest message is the bot's welcome
    note, or a note it posted while catching up, is not read again at the next start-up."""
    unchanged, replied, _ = await many_threads(world)
    await world.stop()
    await world.emu.user_says(world.c.helen, replied, "Answered while the bot was away")
    await world.start()
    await thread_state(world, replied, ThreadState.ANSWERED)
    await seen_everything(world, [*unchanged, replied])
    await world.stop()
    # Discord holds back every thread's history: a catch-up that read any would never finish.
    hang = world.emu.faults.hang("GET /channels/{channel_id}/messages", seconds=None)
    since = len(world.emu.requests)
    starting = asyncio.create_task(world.start())
    await world.emu.wait_for(
        lambda: world.runner.bot is not None and world.c.guild in world.runner.bot.reconciled_guilds,
        timeout=30,
        what="the catch-up done without reading a thread",
    )
    world.emu.faults.release()
    world.emu.faults.remove(hang)
    await starting
    calls = [(m, p) for m, p, _ in world.emu.requests[since:] if about(p) is not None]
    assert all(m == "GET" and p.endswith("/messages") for m, p in calls), calls
    reads = [p for _, p in calls]
    assert len(reads) == len(set(reads)) == UNCHANGED + 2  # the paced reaction comparison, once each


async def test_live_events_are_served_while_the_catch_up_waits_on_discord(world: World) -> None:
    _, replied, _ = await many_threads(world)
    await world.stop()
    await world.emu.user_says(world.c.helen, replied, "Answered while the bot was away")
    # Discord is slow to show the changed thread's history: the catch-up waits on it.
    hang = world.emu.faults.hang("GET /channels/{channel_id}/messages", seconds=None, channel_id=replied)
    starting = asyncio.create_task(world.start())
    await world.emu.wait_for(lambda: hang.hits > 0, what="the catch-up reading the changed thread")
    live = int(
        (await world.emu.user_posts_in_forum(world.c.bob, world.c.forum, "Live meanwhile", "help"))["id"]
    )
    await world.emu.wait_for_bot_message(live, contains=WELCOME, timeout=30)
    assert not starting.done()  # the catch-up was still waiting
    world.emu.faults.release()
    world.emu.faults.remove(hang)
    await starting
    await thread_state(world, replied, ThreadState.ANSWERED)


async def test_a_long_rate_limit_leaves_the_rest_to_a_later_catch_up(world: World) -> None:
    """A 429 longer than the bot waits out inline fails the catch-up's run without losing anything:
    the timed catch-up of left-over servers reads it back."""
    _, replied, archived = await many_threads(world)
    await world.stop()
    await world.emu.user_says(world.c.helen, replied, "Answered while the bot was away")
    await world.emu.archive_thread(archived)
    world.emu.faults.rate_limit(
        "GET /channels/{channel_id}/threads/archived/public", retry_after=120, times=1
    )
    await world.start()
    await thread_state(world, replied, ThreadState.ANSWERED)  # read before the refused listing
    assert world.bot.services.catch_up.left_over == {world.c.guild}
    assert not (await world.bot.services.threads.get(archived)).archived_on_discord  # type: ignore[union-attr]
    await world.bot.run_sweeps()  # the timed catch-up of left-over servers
    await archived_flag(world, archived, True)
    assert world.bot.services.catch_up.left_over == set()


async def test_a_check_on_an_unchanged_thread_counts_even_when_discord_cuts_the_sweep_short(
    world: World,
) -> None:
    """A ✅ changes no message id, so only the paced comparison after the catch-up finds it; when
    Discord rate-limits that for long, the timed catch-up of left-over servers finds it later."""
    thread_id = await forum_thread(world)
    reply = await answer(world, thread_id, world.c.helen)
    await world.stop()
    await world.emu.user_reacts(world.c.alice, thread_id, reply, CHECK)
    world.emu.faults.rate_limit(
        "GET /channels/{channel_id}/messages", retry_after=120, channel_id=thread_id, times=1
    )
    await world.start()
    assert await world.bot.services.solutions.get(thread_id) is None
    assert world.bot.services.catch_up.left_over == {world.c.guild}
    await world.bot.run_sweeps()  # the timed catch-up of left-over servers
    await world.bot.services.catch_up.reactions.settled()
    await solved_with(world, thread_id, reply)
    assert world.bot.services.catch_up.left_over == set()
