"""The demo's printed transcript: what each person does, and every bot message once, as members see it.

Messages are grouped under the channel or thread they appear in (a location line is printed when
it changes). Bot messages are rendered by :mod:`bot.demo.render`; a long embed already shown in full
(the welcome note every thread gets) is abbreviated on later messages, and an edit of a message
already shown prints only its new lines.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterable
from typing import Any, TextIO

from bot.demo.render import Names, buttons, embed_lines, plain
from emulator import Emulator, InteractionReply

ACT_WIDTH = 78
WIDTH = 100  # where long message lines wrap
INDENT = "    "
MORE = INDENT + "   "  # the continuation lines of a multi-line message
EPHEMERAL = 1 << 6  # the message flag of answers only their viewer sees
ABBREVIATE_AFTER = 3  # embeds longer than this many lines are shown in full only once


class Transcript:
    """Prints each step of the story and whatever the bot wrote since the last one."""

    def __init__(self, emu: Emulator, names: Names, out: TextIO, pause: float = 0.0) -> None:
        self.emu = emu
        self.names = names
        self.out = out
        self.pause = pause
        self.acts = 0
        self.location: str | None = None
        self.printed: dict[str, list[str]] = {}  # bot message id -> its lines, to notice edits
        self.seen_embeds: set[tuple[str, ...]] = set()

    # ---- narration ---------------------------------------------------------------------------------

    def line(self, text: str = "") -> None:
        print(text, file=self.out)

    def act(self, title: str) -> None:
        """A heading: the act's number and title, and the (simulated) day and time."""
        self.acts += 1
        label = f"━━ {self.acts} · {title} "
        when = f" {self.names.now():%a %-d %b %H:%M}"
        self.line()
        self.line(label + "━" * max(3, ACT_WIDTH - len(label) - len(when)) + when)
        self.location = None

    def step(self, text: str) -> None:
        """One line of narration: what happens next, and why it matters."""
        self.line(f"▸ {text}")

    def observe(self, text: str) -> None:
        """Something a member would notice that is not a message (a tag, a name, an archive)."""
        self.line(f"{INDENT}↳ {text}")

    # ---- people ----------------------------------------------------------------------------------

    def says(self, user_id: int, channel_id: int, text: str) -> None:
        """A member's message (markdown rendered, like everything else)."""
        self._at(channel_id)
        self._message(f"{self.names.users[user_id]}: ", plain(text, self.names).splitlines())

    def does(self, user_id: int, channel_id: int, action: str) -> None:
        """A member's action that is not a message: a reaction, a command, a click."""
        self._at(channel_id)
        self.line(f"{INDENT}{self.names.users[user_id]} {plain(action, self.names)}")

    def reply(self, user_id: int, channel_id: int, reply: InteractionReply) -> None:
        """The bot's answer to a member's command or click, and its follow-ups."""
        self._at(channel_id)
        answer = {
            "id": str(reply.message_id),
            "content": reply.content,
            "embeds": reply.embeds,
            "components": reply.components,
            "flags": EPHEMERAL if reply.ephemeral else 0,
        }
        shown: set[str] = set()
        for message in [answer, *reply.followups]:
            if not (message.get("content") or message.get("embeds")):
                continue  # a deferred answer: only its follow-ups say something
            if message["id"] in shown:
                continue  # the first follow-up after "thinking…" becomes the answer itself
            shown.add(message["id"])
            if message.get("flags", 0) & EPHEMERAL:
                self._message(
                    f"🤖 Unstuck (only {self.names.users[user_id]} sees this): ", self._lines(message)
                )
            else:  # a public answer, or the clicked message updated in place
                self._show(message)

    # ---- the bot's own messages ------------------------------------------------------------------

    async def flush(self) -> None:
        """Print the bot messages (and edits) that appeared since the last step."""
        await self.emu.settle(quiet=0.1)
        for message in self.emu.bot_messages():
            if self.printed.get(message["id"]) != self._lines(message):
                self._at(int(message["channel_id"]))
                self._show(message)
        if self.pause:
            await asyncio.sleep(self.pause)

    def _show(self, message: dict[str, Any]) -> None:
        """A public bot message: when new, in full (long notes shown before abbreviated); when
        edited, only the lines the edit changed, under the message's headline."""
        lines, before = self._lines(message), self.printed.get(message["id"])
        if before == lines:
            return
        self.printed[message["id"]] = lines
        if before is None:
            self._message("🤖 Unstuck: ", self._lines(message, first_showing=True))
            return
        headline = (message.get("embeds") or [{}])[0].get("title") or lines[0]
        changed = [line.strip() for line in lines if line not in before]
        self._message(f"🤖 Unstuck edited “{plain(headline, self.names)}”: ", changed)

    def _lines(self, message: dict[str, Any], first_showing: bool = False) -> list[str]:
        """Everything a message shows: content, embeds, then its rows of buttons.

        When ``first_showing`` the message is being printed: a long embed printed in full before
        (the welcome note every thread gets) is then replaced by its title.
        """
        lines = plain(message.get("content", ""), self.names).splitlines()
        for embed in message.get("embeds", []):
            rendered = embed_lines(embed, self.names)
            if first_showing:
                key = tuple(rendered)
                if len(rendered) > ABBREVIATE_AFTER and key in self.seen_embeds:
                    rendered = [f"{rendered[0]} (the same note as above)"]
                self.seen_embeds.add(key)
            lines += rendered
        return lines + buttons(message.get("components", []))

    # ---- layout ----------------------------------------------------------------------------------

    def where(self, channel_id: int) -> str:
        """``#channel``, or ``#channel › thread name`` for a thread (as it is named now)."""
        channel = self.emu.channel(channel_id)
        parent = channel.get("parent_id")
        if parent:
            return f"#{self.emu.channel(int(parent))['name']} › {channel['name']}"
        return f"#{channel['name']}"

    def _at(self, channel_id: int) -> None:
        """Print the location line when the conversation moves to another channel or thread."""
        where = self.where(channel_id)
        if where != self.location:
            self.line(f"  {where}")
            self.location = where

    def _message(self, label: str, lines: Iterable[str]) -> None:
        """A message under its label; long lines wrap with a hanging indent, like a chat window."""
        for index, line in enumerate([*lines] or [""]):
            prefix = INDENT + label if index == 0 else MORE
            hanging = MORE + " " * (len(line) - len(line.lstrip()) + 2)
            wrapped = textwrap.wrap(
                line,
                WIDTH,
                initial_indent=prefix,
                subsequent_indent=hanging,
                break_long_words=False,
                break_on_hyphens=False,
            )
            self.line("\n".join(wrapped) or prefix.rstrip())
