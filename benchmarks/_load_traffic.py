"""The load benchmark's community: its servers, and what its members do, one event at a time.

:data:`MIX` is what a busy help community does per 1,000 events. :meth:`Community.act` carries out
one event through the emulator and fills in its :class:`Event`: when it went out, the gateway events
whose handling ends it (their keys, see ``benchmarks._load_probe.event_key``), and for interactions
when the bot acknowledged and answered. An event whose target vanished meanwhile (a thread closed,
a message deleted) is counted as skipped: that is the script racing itself, not the bot failing.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass, field

from emulator import Emulator, InteractionReply
from emulator.driver import ThreadArchived

#: Events per 1,000, close to a busy help community.
MIX: dict[str, int] = {
    "forum_question": 50,
    "text_question": 30,
    "reply": 580,
    "edit_question": 30,
    "edit_reply": 30,
    "delete_reply": 30,
    "react_solved": 60,
    "unreact_solved": 20,
    "menu_mark": 20,
    "slash_solved": 20,
    "slash_close": 15,
    "slash_similar": 30,
    "slash_points": 30,
    "slash_leaderboard": 20,
    "leaderboard_page": 20,
    "claim": 15,
}
INTERACTIONS = frozenset(
    k for k in MIX if k.startswith(("slash_", "menu_")) or k in ("leaderboard_page", "claim")
)
RECENT_THREADS = 200  # members post in the most recent threads
IGNORED_SHARE = 0.3  # questions nobody but the asker writes in: they escalate
INTERACTION_TIMEOUT = 60.0
TOPICS = ("asyncio", "sqlalchemy", "discord.py", "pytest", "numpy", "docker", "poetry", "typing", "regex")


@dataclass
class Server:
    guild: int
    owner: int
    forum: int
    text: int
    general: int
    escalation: int
    leaderboard: int
    helper_role: int
    staff_role: int


@dataclass
class Thread:
    id: int
    server: Server
    asker: int
    ignored: bool
    replies: list[tuple[int, int]] = field(default_factory=list)  # (message id, author)
    reacted: list[int] = field(default_factory=list)  # replies the asker put ✅ on


@dataclass
class Event:
    """One scheduled event and what became of it (perf_counter times)."""

    kind: str
    scheduled: float
    sent: float | None = None
    keys: list[str] = field(default_factory=list)
    acknowledged: float | None = None
    answered: float | None = None
    skipped: bool = False
    error: str | None = None


class Community:
    """The servers and the members acting in them."""

    def __init__(
        self, emu: Emulator, servers: list[Server], people: list[int], helpers: list[int], seed: int
    ):
        self.emu = emu
        self.servers = servers
        self.people = people
        self.helpers = helpers
        self.rng = random.Random(seed)
        self.threads: deque[Thread] = deque(maxlen=RECENT_THREADS * len(servers))
        self.pending_text: list[Thread] = []  # text-channel questions whose thread the bot has not opened yet
        self.boards: deque[tuple[int, int, int, list[str]]] = deque(maxlen=50)  # channel, message, user, ids
        self.kinds = list(MIX)
        self.weights = list(MIX.values())
        self.counter = 0

    def pick(self) -> str:
        return self.rng.choices(self.kinds, self.weights)[0]

    # ---- targets -------------------------------------------------------------------------------

    def _open_thread(self, reactable: bool = False) -> Thread | None:
        """A recent thread members can still write in (or react in)."""
        self._promote_text_threads()
        for _ in range(8):
            if not self.threads:
                return None
            thread = self.rng.choice(self.threads)
            channel = self.emu.world.channel(thread.id)
            if channel is None or channel.locked or (reactable and channel.archived):
                continue
            return thread
        return None

    def _promote_text_threads(self) -> None:
        waiting = []
        for thread in self.pending_text:
            (self.threads.append if self.emu.world.channel(thread.id) else waiting.append)(thread)
        self.pending_text = waiting

    def _live_reply(self, thread: Thread) -> tuple[int, int] | None:
        live = [r for r in thread.replies if self.emu.world.message(thread.id, r[0]) is not None]
        return self.rng.choice(live) if live else None

    def _text(self) -> str:
        self.counter += 1
        topic = self.rng.choice(TOPICS)
        return f"{topic}: why does step {self.counter} fail with error {self.rng.randrange(1000)}?"

    # ---- events --------------------------------------------------------------------------------

    async def act(self, event: Event) -> None:
        """Carry out ``event``; what went wrong on the script's side is recorded, never raised."""
        try:
            done = await getattr(self, f"_{event.kind}")(event)
            event.skipped = done is False
        except (ThreadArchived, PermissionError, KeyError, ValueError) as error:
            event.skipped, event.error = True, f"skipped: {error!r}"
        except TimeoutError as error:
            event.error = f"no answer: {error}"
        except Exception as error:
            event.error = repr(error)

    def _sent(self, event: Event, *keys: str) -> None:
        event.sent = time.perf_counter()
        event.keys = list(keys)

    async def _forum_question(self, event: Event) -> None:
        server = self.rng.choice(self.servers)
        asker = self.rng.choice(self.people)
        posted = await self.emu.user_posts_in_forum(asker, server.forum, self._text()[:90], self._text())
        thread_id = int(posted["id"])
        self._sent(event, f"THREAD_CREATE:{thread_id}", f"MESSAGE_CREATE:{thread_id}")
        self.threads.append(Thread(thread_id, server, asker, self.rng.random() < IGNORED_SHARE))

    async def _text_question(self, event: Event) -> None:
        server = self.rng.choice(self.servers)
        asker = self.rng.choice(self.people)
        message = await self.emu.user_says(asker, server.text, self._text())
        message_id = int(message["id"])
        self._sent(event, f"MESSAGE_CREATE:{message_id}")
        self.pending_text.append(Thread(message_id, server, asker, self.rng.random() < IGNORED_SHARE))

    async def _reply(self, event: Event) -> bool:
        thread = self._open_thread()
        if thread is None:
            return False
        author = thread.asker if thread.ignored or self.rng.random() < 0.3 else self.rng.choice(self.people)
        message = await self.emu.user_says(author, thread.id, self._text())
        self._sent(event, f"MESSAGE_CREATE:{message['id']}")
        if author != thread.asker:
            thread.replies.append((int(message["id"]), author))
        return True

    async def _edit_question(self, event: Event) -> bool:
        thread = self._open_thread()
        if thread is None or self.emu.world.message(thread.id, thread.id) is None:
            return False
        message = await self.emu.user_edits(thread.asker, thread.id, thread.id, self._text())
        self._sent(event, f"MESSAGE_UPDATE:{thread.id}:{message['edited_timestamp']}")
        return True

    async def _edit_reply(self, event: Event) -> bool:
        thread = self._open_thread()
        reply = thread and self._live_reply(thread)
        if not thread or not reply:
            return False
        message = await self.emu.user_edits(reply[1], thread.id, reply[0], self._text())
        self._sent(event, f"MESSAGE_UPDATE:{reply[0]}:{message['edited_timestamp']}")
        return True

    async def _delete_reply(self, event: Event) -> bool:
        thread = self._open_thread()
        reply = thread and self._live_reply(thread)
        if not thread or not reply:
            return False
        await self.emu.user_deletes(reply[1], thread.id, reply[0])
        self._sent(event, f"MESSAGE_DELETE:{reply[0]}")
        thread.replies.remove(reply)
        return True

    async def _react_solved(self, event: Event) -> bool:
        for _ in range(8):
            thread = self._open_thread(reactable=True)
            reply = thread and self._live_reply(thread)
            if thread and reply and reply[0] not in thread.reacted:
                break
        else:
            return False
        await self.emu.user_reacts(thread.asker, thread.id, reply[0], "✅")
        self._sent(event, f"MESSAGE_REACTION_ADD:{reply[0]}:{thread.asker}")
        thread.reacted.append(reply[0])
        return True

    async def _unreact_solved(self, event: Event) -> bool:
        thread = self._open_thread(reactable=True)
        if thread is None or not thread.reacted:
            return False
        message_id = thread.reacted.pop()
        if self.emu.world.message(thread.id, message_id) is None:
            return False
        await self.emu.user_unreacts(thread.asker, thread.id, message_id, "✅")
        self._sent(event, f"MESSAGE_REACTION_REMOVE:{message_id}:{thread.asker}")
        return True

    # ---- interactions --------------------------------------------------------------------------

    async def _answer(self, event: Event, interaction: Awaitable[InteractionReply]) -> InteractionReply:
        event.sent = time.perf_counter()
        reply = await interaction
        event.answered = time.perf_counter()
        event.acknowledged = reply.acknowledged_at
        return reply

    async def _menu_mark(self, event: Event) -> bool:
        thread = self._open_thread()
        reply = thread and self._live_reply(thread)
        if not thread or not reply:
            return False
        menu = self.emu.user_uses_context_menu(
            thread.asker, thread.id, "Mark as solution", reply[0], timeout=INTERACTION_TIMEOUT
        )
        await self._answer(event, menu)
        return True

    async def _slash_in_thread(self, event: Event, command: str, options: dict[str, str]) -> bool:
        thread = self._open_thread()
        if thread is None:
            return False
        slash = self.emu.user_runs_slash(
            thread.asker, thread.id, command, options, timeout=INTERACTION_TIMEOUT
        )
        await self._answer(event, slash)
        return True

    async def _slash_solved(self, event: Event) -> bool:
        return await self._slash_in_thread(event, "solved", {})

    async def _slash_close(self, event: Event) -> bool:
        return await self._slash_in_thread(event, "close", {"reason": "solved"})

    async def _slash_similar(self, event: Event) -> None:
        server = self.rng.choice(self.servers)
        slash = self.emu.user_runs_slash(
            self.rng.choice(self.people), server.general, "similar", {"text": self._text()},
            timeout=INTERACTION_TIMEOUT,
        )  # fmt: skip
        await self._answer(event, slash)

    async def _slash_points(self, event: Event) -> None:
        server = self.rng.choice(self.servers)
        who = self.rng.choice(self.people)
        options = {"member": self.rng.choice(self.helpers)} if self.rng.random() < 0.5 else {}
        slash = self.emu.user_runs_slash(
            who, server.general, "points show", options, timeout=INTERACTION_TIMEOUT
        )
        await self._answer(event, slash)

    async def _slash_leaderboard(self, event: Event) -> None:
        server = self.rng.choice(self.servers)
        who = self.rng.choice(self.people)
        slash = self.emu.user_runs_slash(who, server.general, "leaderboard", {}, timeout=INTERACTION_TIMEOUT)
        reply = await self._answer(event, slash)
        ids = [
            c["custom_id"]
            for row in reply.components
            for c in row.get("components", [])
            if c.get("custom_id", "").startswith("lb:") and not c.get("disabled")
        ]
        if ids and reply.message_id is not None:
            self.boards.append((server.general, reply.message_id, who, ids))

    async def _leaderboard_page(self, event: Event) -> bool:
        if not self.boards:
            return False
        channel, message_id, who, ids = self.rng.choice(self.boards)
        click = self.emu.user_clicks_button(
            who, channel, message_id, self.rng.choice(ids), timeout=INTERACTION_TIMEOUT
        )
        await self._answer(event, click)
        return True

    async def _claim(self, event: Event) -> bool:
        server = self.rng.choice(self.servers)
        digests = [
            (m.id, c["custom_id"])
            for m in list(self.emu.world.messages.get(server.escalation, {}).values())[-20:]
            for row in m.components
            for c in row.get("components", [])
            if c.get("custom_id", "").startswith("esc:claim:")
        ]
        if not digests:
            return False
        message_id, custom_id = self.rng.choice(digests)
        click = self.emu.user_clicks_button(
            self.rng.choice(self.helpers),
            server.escalation,
            message_id,
            custom_id,
            timeout=INTERACTION_TIMEOUT,
        )
        await self._answer(event, click)
        return True
