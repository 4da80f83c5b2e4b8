"""`unstuck demo`: a scripted community on the local emulator, printed as a readable transcript.

The real bot runs against the emulator on a throw-away SQLite database, with a test clock so that
days pass in an instant. Each step says who does what; the transcript shows what everyone would
see in Discord, including private (ephemeral) answers.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bot.clock import FakeClock
from bot.local import BotRunner
from emulator import Emulator, InteractionReply

MANAGE_THREADS = 1 << 34
MENTION = re.compile(r"<(#|@&|@!?)(\d+)>")


class Transcript:
    """Prints each step and whatever new messages the bot wrote since the last one."""

    def __init__(
        self, emu: Emulator, names: dict[int, str], roles: dict[int, str], out: TextIO, pause: float
    ) -> None:
        self.emu = emu
        self.names = names
        self.roles = roles
        self.out = out
        self.pause = pause
        self.shown: set[str] = set()

    def heading(self, text: str) -> None:
        print(f"\n── {text} " + "─" * max(0, 70 - len(text)), file=self.out)

    def where(self, channel_id: int) -> str:
        channel = self.emu.channel(channel_id)
        parent = channel.get("parent_id")
        if parent:
            return f"#{self.emu.channel(int(parent))['name']} › {channel['name']}"
        return f"#{channel['name']}"

    def said(self, user_id: int, channel_id: int, text: str) -> None:
        print(f"[{self.where(channel_id)}] {self.names[user_id]}: {self.render(text)}", file=self.out)

    def render(self, text: str) -> str:
        """Show mentions as Discord does: names instead of ids."""

        def name(match: re.Match[str]) -> str:
            kind, ident = match.group(1), int(match.group(2))
            if kind == "#":
                return "#" + str(self.emu.channel(ident)["name"])
            if kind == "@&":
                return "@" + self.roles.get(ident, "role")
            return "@" + self.names.get(ident, "someone")

        return MENTION.sub(name, text)

    def note(self, text: str) -> None:
        print(f"   ({text})", file=self.out)

    def private(self, user_id: int, reply: InteractionReply) -> None:
        who = self.names[user_id]
        label = f"🤖 Unstuck (only {who} sees this)" if reply.ephemeral else "🤖 Unstuck"
        print(_indent(f"{label}: {self.render(_readable(reply.content, reply.embeds))}"), file=self.out)
        if reply.message_id:
            self.shown.add(str(reply.message_id))

    async def flush(self) -> None:
        """Print bot messages that appeared since the last step."""
        await self.emu.settle(quiet=0.1)
        for message in self.emu.bot_messages():
            if message["id"] in self.shown:
                continue
            self.shown.add(message["id"])
            text = _readable(message.get("content", ""), message.get("embeds", []))
            where = self.where(int(message["channel_id"]))
            print(_indent(f"🤖 Unstuck in [{where}]:\n{self.render(text)}"), file=self.out)
        if self.pause:
            await asyncio.sleep(self.pause)


def _readable(content: str, embeds: list[dict[str, Any]]) -> str:
    """A message as a reader sees it: content, then each embed with "field: value" lines."""
    lines = [content] if content else []
    for embed in embeds:
        lines += [part for part in (embed.get("title"), embed.get("description")) if part]
        lines += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        if embed.get("footer"):
            lines.append(f"({embed['footer']['text']})")
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _build_world(emu: Emulator) -> dict[str, Any]:
    people = {name: emu.create_user(name) for name in ("admin", "alice", "bob", "helen", "sam", "mallory")}
    guild = emu.create_guild("Python Learners", owner_id=people["admin"])
    helper = emu.create_role(guild, "Helpers")
    staff = emu.create_role(guild, "Maintainers", permissions=MANAGE_THREADS)
    roles = {"helen": [helper], "sam": [staff]}
    for name, user_id in people.items():
        if name != "admin":
            emu.add_member(guild, user_id, roles=roles.get(name, []))
    return {
        "guild": guild,
        "helper": helper,
        "staff": staff,
        "forum": emu.create_forum_channel(guild, "help-forum", tags=["Solved", "Unanswered", "pandas"]),
        "text": emu.create_text_channel(guild, "help"),
        "general": emu.create_text_channel(guild, "general"),
        "escalations": emu.create_text_channel(guild, "escalations"),
        **people,
    }


async def _play(emu: Emulator, clock: FakeClock, runner: BotRunner, w: dict[str, Any], t: Transcript) -> None:
    admin, alice, bob, helen, sam, mallory = (
        w[n] for n in ("admin", "alice", "bob", "helen", "sam", "mallory")
    )

    t.heading("The admin sets Unstuck up")
    for command, options in [
        ("unstuck config add-help-channel", {"channel": w["forum"]}),
        ("unstuck config add-help-channel", {"channel": w["text"]}),
        ("unstuck config add-role", {"role": w["helper"], "kind": "helper"}),
        ("unstuck config add-role", {"role": w["staff"], "kind": "staff"}),
        ("unstuck config channel", {"purpose": "leaderboard", "channel": w["general"]}),
        ("unstuck config channel", {"purpose": "escalation", "channel": w["escalations"]}),
    ]:
        shown = {k: _option(k, v) for k, v in options.items()}
        t.said(admin, w["general"], f"/{command} " + " ".join(f"{k}:{v}" for k, v in shown.items()))
        t.private(admin, await emu.user_runs_slash(admin, w["general"], command, options=options))

    t.heading("Alice asks in the forum")
    post = await emu.user_posts_in_forum(
        alice, w["forum"], "How do I read a CSV file with pandas?", "pd.read_csv says FileNotFoundError :("
    )
    forum_thread = int(post["id"])
    t.said(alice, forum_thread, "(new post) pd.read_csv says FileNotFoundError :(")
    await emu.wait_for_bot_message(forum_thread, contains="Welcome")
    await t.flush()

    t.heading("Bob asks in the plain text help channel")
    question = "Why does `pip install` fail with **Permission denied**?\nI'm on Ubuntu 24.04."
    message = await emu.user_says(bob, w["text"], question)
    t.said(bob, w["text"], question.replace("\n", " "))
    await emu.wait_for_bot_message(int(message["id"]), contains="Welcome")
    await t.flush()
    t.note(f"the bot opened a thread named {emu.channel(int(message['id']))['name']!r}")
    text_thread = int(message["id"])

    t.heading("Helen (a helper) answers Alice")
    clock.advance(timedelta(minutes=12))
    answer = (
        "The path is relative to where you run Python. Try `pd.read_csv(Path(__file__).parent / 'data.csv')`."
    )
    helen_answer = int((await emu.user_says(helen, forum_thread, answer))["id"])
    t.said(helen, forum_thread, answer)
    await t.flush()
    await _state(runner, forum_thread, "answered")
    t.note("thread state: answered (first response after 12 min, by helen)")

    t.heading("Mallory tries to close Bob's thread; Alice marks Helen's answer with ✅")
    t.said(mallory, text_thread, "/close reason:stale")
    t.private(mallory, await emu.user_runs_slash(mallory, text_thread, "close", options={"reason": "stale"}))
    await emu.user_says(alice, forum_thread, "That was it, thank you!")
    t.said(alice, forum_thread, "That was it, thank you!")
    await emu.user_reacts(alice, forum_thread, helen_answer, "✅")
    t.said(alice, forum_thread, "(reacts ✅ on Helen's answer)")
    await _state(runner, forum_thread, "solved")
    await emu.wait_for_bot_message(forum_thread, contains="Solved!")
    await t.flush()
    t.note("the post got the Solved tag instead of Unanswered; Helen earned 10 points")

    t.heading("Three quiet days later")
    clock.advance(timedelta(days=3))
    await runner.bot.run_sweeps()  # type: ignore[union-attr]
    await t.flush()

    t.heading("The bot restarts; Bob comes back while it is down")
    await runner.stop()
    await emu.user_says(bob, text_thread, "Still stuck, sorry! I used sudo and now it's worse.")
    t.said(bob, text_thread, "Still stuck, sorry! I used sudo and now it's worse.")
    t.note("the bot is offline: Discord does not replay this message to it later")
    await runner.start({w["guild"]})
    await _state(runner, text_thread, "open")
    t.note("after start-up the bot caught up from history: Bob's message reopened the thread")

    t.heading("Sam (staff) helps Bob")
    await emu.user_says(
        sam, text_thread, "Don't use sudo with pip: create a venv with `python3 -m venv .venv`."
    )
    t.said(sam, text_thread, "Don't use sudo with pip: create a venv with `python3 -m venv .venv`.")
    await _state(runner, text_thread, "answered")
    await t.flush()
    t.note("thread state: answered")
    t.said(bob, text_thread, "(Mark as solution on Sam's message)")
    sam_answer = emu.messages(text_thread)[-1]["id"]
    reply = await emu.user_uses_context_menu(bob, text_thread, "Mark as solution", int(sam_answer))
    t.private(bob, reply)
    await emu.wait_for_bot_message(text_thread, contains="Solved!")
    await t.flush()
    t.note(f"the thread is now named {emu.channel(text_thread)['name']!r}")

    t.heading("Mallory asks what Alice already asked")
    title, text = "Reading a CSV file with pandas fails", "pd.read_csv gives FileNotFoundError"
    repeat = int((await emu.user_posts_in_forum(mallory, w["forum"], title, text))["id"])
    t.said(mallory, repeat, f"(new post) {text}")
    welcome = await emu.wait_for_bot_message(repeat, contains="Solved threads that look like yours")
    await t.flush()
    t.note("each suggestion has buttons: open the thread, jump to the answer, and ✅ This solved it")
    buttons = [b for row in welcome["components"] for b in row["components"]]
    reuse = next(b["custom_id"] for b in buttons if "custom_id" in b)  # the others are links
    t.said(mallory, repeat, "(clicks ✅ This solved it under Alice's thread)")
    t.private(mallory, await emu.user_clicks_button(mallory, repeat, int(welcome["id"]), reuse))
    await emu.wait_for_bot_message(repeat, contains="Solved by an earlier thread")
    await t.flush()
    t.note("Mallory's post is closed as a duplicate and archived; Alice's thread helped 1 more person")

    t.heading("Helen checks her points")
    t.said(helen, w["general"], "/points show")
    t.private(helen, await emu.user_runs_slash(helen, w["general"], "points show"))

    t.heading("Monday 09:00: the weekly leaderboard")
    clock.set(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))
    await runner.bot.run_sweeps()  # type: ignore[union-attr]
    await t.flush()

    await _escalation(emu, clock, runner, w, t)


async def _escalation(
    emu: Emulator, clock: FakeClock, runner: BotRunner, w: dict[str, Any], t: Transcript
) -> None:
    """A question nobody answers reaches the helpers in a digest after 4 h; Helen claims it."""
    bob, helen = w["bob"], w["helen"]
    t.heading("Nobody answers Bob's next question: after 4 hours it is escalated")
    title = "Tkinter window freezes during a long loop"
    text = "The window stops responding until the loop ends."
    thread = int((await emu.user_posts_in_forum(bob, w["forum"], title, text))["id"])
    t.said(bob, thread, f"(new post) {text}")
    await emu.wait_for_bot_message(thread, contains="Welcome")
    await t.flush()
    clock.advance(timedelta(hours=4))
    assert runner.bot is not None
    await runner.bot.run_sweeps()
    digest = await emu.wait_for_bot_message(w["escalations"], contains="Waiting for help")
    await t.flush()
    t.note("one digest per tier and channel: the Helpers role is pinged once, whatever the number of threads")
    t.said(helen, w["escalations"], "(clicks ✋ Claim #1)")
    reply = await emu.user_clicks_button(helen, w["escalations"], int(digest["id"]), f"esc:claim:{thread}")
    await emu.wait_for(lambda: bool(reply.followups), what="the claim confirmation")
    t.note(f"only helen sees: {t.render(reply.followups[-1]['content'])}")
    claimed = emu.message(w["escalations"], int(digest["id"]))
    t.note("the digest now reads: " + t.render(claimed["embeds"][0]["fields"][0]["value"].splitlines()[-1]))
    t.note("claimed threads leave the queue: the maintainers are not pinged about it at 24 h")


def _option(name: str, value: object) -> object:
    """How Discord shows an option value: roles and channels by name (rendered later)."""
    if not isinstance(value, int):
        return value
    return f"<@&{value}>" if name == "role" else f"<#{value}>"


async def _state(runner: BotRunner, thread_id: int, state: str) -> None:
    """Wait until the bot recorded ``state`` for the thread (it handles events asynchronously)."""
    assert runner.bot is not None
    async with asyncio.timeout(5):
        while (thread := await runner.bot.services.threads.get(thread_id)) is None or thread.state != state:
            await asyncio.sleep(0.01)


async def run_demo(speed: float = 0.0, out: TextIO = sys.stdout) -> int:
    """Play the scripted community and print the transcript; 0 when it ran cleanly."""
    logging.basicConfig(level=logging.ERROR)
    clock = FakeClock()
    emu = Emulator(clock=clock.now, validate=False)
    await emu.start()
    emu.configure_discord_py()
    world = _build_world(emu)
    names = {world[n]: n for n in ("admin", "alice", "bob", "helen", "sam", "mallory")}
    roles = {world["helper"]: "Helpers", world["staff"]: "Maintainers"}
    with tempfile.TemporaryDirectory() as directory:
        runner = BotRunner(emu, clock, f"sqlite+aiosqlite:///{Path(directory) / 'demo.db'}")
        print("Unstuck demo: a scripted community on a local Discord emulator (time is sped up).", file=out)
        await runner.start({world["guild"]})
        try:
            await _play(emu, clock, runner, world, Transcript(emu, names, roles, out, speed))
        finally:
            errors = await runner.stop()
            await emu.stop()
    print("\nThat's the flow. Run `unstuck run` with DISCORD_TOKEN set to use it on your server.", file=out)
    if errors:
        print(f"The bot logged unexpected errors: {errors!r}", file=sys.stderr)
        return 1
    return 0
