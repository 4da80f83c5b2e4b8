"""The demo's script: a week in a help community, act by act, printed as it happens.

Each act is one feature a newcomer should see. The bot is real and handles every event on its own;
the script only plays the members, moves the fake clock, runs the timed sweeps a scheduler would
run, and waits for an outcome a member could observe before it goes on (never for a fixed time).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import UnstuckBot
from bot.clock import FakeClock
from bot.demo.transcript import Transcript
from bot.demo.world import Community
from bot.domain.lifecycle import ThreadState
from bot.local import BotRunner
from emulator import Emulator, InteractionReply

STATE_TIMEOUT = 5.0


@dataclass
class Scene:
    """Everything an act needs, and the moves members make (each shown in the transcript)."""

    emu: Emulator
    clock: FakeClock
    runner: BotRunner
    c: Community
    t: Transcript

    @property
    def bot(self) -> UnstuckBot:
        assert self.runner.bot is not None, "the bot is not running"
        return self.runner.bot

    async def say(self, user: int, channel: int, text: str) -> int:
        """A member writes a message; returns its id."""
        message = await self.emu.user_says(user, channel, text)
        self.t.says(user, channel, text)
        return int(message["id"])

    async def ask(self, user: int, title: str, text: str) -> int:
        """A member opens a forum post and Unstuck welcomes them; returns the post's id."""
        thread = int((await self.emu.user_posts_in_forum(user, self.c.forum, title, text))["id"])
        self.t.says(user, thread, text)
        await self.shows(thread, "Welcome")
        return thread

    async def slash(
        self, user: int, channel: int, command: str, options: dict[str, Any] | None = None
    ) -> InteractionReply:
        """A member runs a slash command; the transcript shows it as Discord does, and the answer."""
        shown = "".join(f" {name}:{_option(name, value)}" for name, value in (options or {}).items())
        self.t.does(user, channel, f"used /{command}{shown}")
        reply = await self.emu.user_runs_slash(user, channel, command, options=options)
        self.t.reply(user, channel, reply)
        return reply

    async def shows(self, channel: int, contains: str) -> dict[str, Any]:
        """Wait until the bot posted ``contains`` in ``channel``, then print what it wrote; returns it."""
        message = await self.emu.wait_for_bot_message(channel, contains=contains)
        await self.t.flush()
        return message

    async def sweep(self, channel: int, contains: str) -> dict[str, Any]:
        """Run the timed work the scheduler runs every few minutes (dormancy, escalation, weekly
        posts) and wait for the message it owes in ``channel``."""
        await self.bot.run_sweeps()
        return await self.shows(channel, contains)

    async def state(self, thread_id: int, state: ThreadState) -> None:
        """Wait until the bot recorded ``state`` for the thread (it handles events asynchronously)."""
        async with asyncio.timeout(STATE_TIMEOUT):
            while (thread := await self.bot.services.threads.get(thread_id)) is None or thread.state != state:
                await asyncio.sleep(0.01)

    def tags(self, thread_id: int) -> str:
        """The forum tags a post carries, by name."""
        forum = self.emu.channel(self.c.forum)
        names = {int(tag["id"]): tag["name"] for tag in forum["available_tags"]}
        return ", ".join(names[int(tag)] for tag in self.emu.channel(thread_id).get("applied_tags", []))


def _option(name: str, value: object) -> object:
    """An option as Discord shows it: roles and channels by name (the transcript renders mentions)."""
    if not isinstance(value, int):
        return value
    return f"<@&{value}>" if name == "role" else f"<#{value}>"


async def set_up(s: Scene) -> None:
    """The admin configures the server with slash commands, as a real admin would."""
    c = s.c
    s.t.act("Setting up")
    s.t.step("Ada, the admin, names the help channels, the roles and where posts go. Answers are private.")
    await s.slash(c.ada, c.general, "unstuck config add-help-channel", {"channel": c.forum})
    await s.slash(c.ada, c.general, "unstuck config add-help-channel", {"channel": c.text})
    await s.slash(c.ada, c.general, "unstuck config add-role", {"role": c.helper_role, "kind": "helper"})
    await s.slash(c.ada, c.general, "unstuck config add-role", {"role": c.staff_role, "kind": "staff"})
    await s.slash(
        c.ada, c.general, "unstuck config channel", {"purpose": "leaderboard", "channel": c.general}
    )
    await s.slash(
        c.ada, c.general, "unstuck config channel", {"purpose": "escalation", "channel": c.escalations}
    )


async def first_questions(s: Scene) -> tuple[int, int]:
    """A forum post and a text-channel question; returns both threads."""
    c = s.c
    s.t.act("Two questions")
    s.t.step("Alice opens a post in the #help-forum forum; within a second Unstuck welcomes her.")
    forum = await s.ask(
        c.alice, "How do I read a CSV file with pandas?", "pd.read_csv says FileNotFoundError :("
    )
    s.t.step("Bob writes in the plain #help channel: Unstuck opens a thread named after his question.")
    question = "Why does `pip install` fail with **Permission denied**?\nI'm on Ubuntu 24.04."
    text = await s.say(c.bob, c.text, question)
    await s.shows(text, "Welcome")
    s.t.step("Mallory, who did not ask, tries to close Bob's thread: only the asker or staff may.")
    await s.slash(c.mallory, text, "close", {"reason": "stale"})
    return forum, text


async def solved_with_a_reaction(s: Scene, forum: int) -> None:
    """A helper answers; the asker's ✅ reaction marks the solution (tag, note, points)."""
    c = s.c
    s.clock.advance(timedelta(minutes=12))
    s.t.act("Solved with a ✅")
    s.t.step("Helen, a helper, answers Alice; Alice reacts ✅ on the answer that worked.")
    answer = (
        "The path is relative to where you run Python: try `pd.read_csv(Path(__file__).parent / 'data.csv')`."
    )
    helen = await s.say(c.helen, forum, answer)
    await s.say(c.alice, forum, "That was it, thank you!")
    await s.emu.user_reacts(c.alice, forum, helen, "✅")
    s.t.does(c.alice, forum, "reacted ✅ on helen's answer")
    await s.shows(forum, "Solved!")
    await s.emu.wait_for(lambda: s.tags(forum) == "Solved", what="the Solved tag")
    s.t.observe("the post's tags are now: Solved (it was Unanswered); Helen earned 10 points")


async def dormant_and_back(s: Scene, text: int) -> None:
    """An idle thread goes dormant; the asker's message while the bot is down reopens it."""
    c = s.c
    s.clock.advance(timedelta(days=3))
    s.t.act("Quiet for three days, then a restart")
    s.t.step("Nobody wrote in Bob's thread for three days: Unstuck archives it with a note.")
    await s.sweep(text, "quiet for 3 days")
    s.t.step("Unstuck restarts. Bob writes while it is offline; at start-up it catches up from history.")
    await s.runner.stop()
    await s.say(c.bob, text, "Still stuck, sorry! I used sudo and now it's worse.")
    await s.runner.start({c.guild})
    await s.state(text, ThreadState.OPEN)
    s.t.observe("Bob's thread is open again, though the bot never received his message live")


async def solved_from_the_menu(s: Scene, text: int) -> None:
    """The "Mark as solution" context menu, and the ✅ name of a solved text-channel thread."""
    c = s.c
    s.t.act("Solved from the message menu")
    s.t.step("Sam, a maintainer, answers; Bob picks Apps › Mark as solution on Sam's message.")
    sam = await s.say(c.sam, text, "Don't use sudo with pip: create a venv with `python3 -m venv .venv`.")
    await s.state(text, ThreadState.ANSWERED)
    s.t.does(c.bob, text, "used Apps › Mark as solution on sam's message")
    s.t.reply(c.bob, text, await s.emu.user_uses_context_menu(c.bob, text, "Mark as solution", sam))
    await s.emu.wait_for(lambda: s.emu.channel(text)["name"].startswith("✅"), what="the ✅ name")
    await s.shows(text, "Solved!")
    s.t.observe("the thread's name now starts with ✅, so the channel shows at a glance what is solved")


async def suggested_answer(s: Scene) -> None:
    """A similar solved thread is suggested; "This solved it" closes the new one as a duplicate."""
    c = s.c
    s.t.act("Answered before")
    s.t.step("Mallory asks what Alice asked: the welcome note suggests Alice's solved thread.")
    title, text = "Reading a CSV file with pandas fails", "pd.read_csv gives FileNotFoundError"
    repeat = int((await s.emu.user_posts_in_forum(c.mallory, c.forum, title, text))["id"])
    s.t.says(c.mallory, repeat, text)
    welcome = await s.shows(repeat, "Solved threads that look like yours")
    s.t.step("Mallory clicks “This solved it”: her post closes as a duplicate, and Helen is thanked again.")
    reuse = next(
        button
        for row in welcome["components"]
        for button in row["components"]
        if button.get("custom_id", "").startswith("reuse:")
    )
    s.t.does(c.mallory, repeat, f"clicked [✅ {reuse['label']}]")
    s.t.reply(
        c.mallory,
        repeat,
        await s.emu.user_clicks_button(c.mallory, repeat, int(welcome["id"]), reuse["custom_id"]),
    )
    await s.shows(repeat, "Solved by an earlier thread")
    s.t.step("Helen checks her points: 10 for her accepted answer, 5 more because it helped again.")
    await s.slash(c.helen, c.general, "points show")


async def weekly_leaderboard(s: Scene) -> None:
    """The weekly leaderboard post, at its configured time."""
    s.clock.set(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))
    s.t.act("The weekly leaderboard")
    s.t.step("Monday 09:00, the configured time: the weekly post thanks the top helpers by name.")
    await s.sweep(s.c.general, "Top helpers of the week")


async def tiers(s: Scene) -> None:
    """Unanswered questions reach tier 1 (helpers, 4 h) in one digest, a claim, then tier 2 (24 h)."""
    c = s.c
    s.t.act("Unanswered questions escalate")
    s.t.step("Bob and Mallory ask; nobody answers.")
    tkinter = await s.ask(c.bob, "Tkinter window freezes during a long loop", "The window stops responding.")
    await s.ask(c.mallory, "Regex for nested brackets", "How do I match balanced ( ) with re?")
    s.clock.advance(timedelta(hours=4))
    s.t.step("4 hours later: one digest for both questions pings the Helpers role once.")
    digest = await s.sweep(c.escalations, "Waiting for help · tier 1")
    s.t.step("Helen claims Bob's question from the digest: it leaves the queue.")
    s.t.does(c.helen, c.escalations, "clicked [✋ Claim #1]")
    reply = await s.emu.user_clicks_button(c.helen, c.escalations, int(digest["id"]), f"esc:claim:{tkinter}")
    await s.emu.wait_for(lambda: bool(reply.followups), what="the claim confirmation")
    # The digest's "Claimed by" edit is owed by the claim and delivered a moment later.
    await s.shows(c.escalations, "Claimed by")
    s.t.reply(c.helen, c.escalations, reply)
    s.clock.advance(timedelta(hours=20))
    s.t.step("24 hours after they were asked, the question nobody claimed reaches the maintainers.")
    await s.sweep(c.escalations, "Waiting for help · tier 2")


async def escalate_and_close(s: Scene) -> None:
    """An asker's `/escalate` (too early, then allowed), and their own `/close` and `/reopen`."""
    c = s.c
    s.t.act("An asker escalates, closes and reopens")
    s.t.step("Alice asks; after 10 minutes without a reply she tries /escalate: it is too early.")
    thread = await s.ask(c.alice, "asyncio.gather never returns", "My `gather()` call hangs forever.")
    s.clock.advance(timedelta(minutes=10))
    await s.slash(c.alice, thread, "escalate")
    s.clock.advance(timedelta(minutes=20))
    s.t.step("At 30 minutes she may, once: her question joins the next escalation digest.")
    await s.slash(c.alice, thread, "escalate")
    await s.sweep(c.escalations, "asyncio.gather never returns")
    s.t.step("Helen answers; Alice closes her thread herself, then reopens it when the hang comes back.")
    await s.say(c.helen, thread, "One task never finishes: add a timeout with `asyncio.wait_for`.")
    await s.state(thread, ThreadState.ANSWERED)
    await s.slash(c.alice, thread, "close", {"reason": "solved"})
    await s.shows(thread, "Closed by")
    s.clock.advance(timedelta(hours=1))
    await s.slash(c.alice, thread, "reopen")
    await s.shows(thread, "Reopened by")


async def stats(s: Scene) -> None:
    """`/stats`, for staff."""
    s.t.act("How healthy is the help channel?")
    s.t.step("Sam, a maintainer, asks for the figures of the last 30 days (only staff may).")
    await s.slash(s.c.sam, s.c.general, "stats", {"period": "30d"})


async def play(s: Scene) -> None:
    """The whole story, in order."""
    await set_up(s)
    forum, text = await first_questions(s)
    await solved_with_a_reaction(s, forum)
    await dormant_and_back(s, text)
    await solved_from_the_menu(s, text)
    await suggested_answer(s)
    await weekly_leaderboard(s)
    await tiers(s)
    await escalate_and_close(s)
    await stats(s)
