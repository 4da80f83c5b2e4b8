"""Playing the crash benchmark's script against the emulator and a bot process that gets killed."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks._crash_script import HELPERS, PEOPLE, REACTION_KINDS, STAFF, Event
from bot.clock import FakeClock
from emulator import Emulator, ThreadArchived

MANAGE_THREADS = 1 << 34
INTERACTION_TIMEOUT = 10.0
SYNC_TIMEOUT = 30.0
MAX_DOWNTIME_EVENTS = 3


class ChildDied(Exception):
    """The bot process is gone (killed on purpose, or crashed)."""


class BotProcess:
    """The bot in its own OS process, with the line protocol of ``benchmarks._crash_child``."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.args = args
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        self.starts += 1
        with self.log.open("a") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "benchmarks._crash_child",
                *self.args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        await self.expect("ready", timeout=60)

    def kill(self) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)

    async def reap(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def expect(self, wanted: str, timeout: float = SYNC_TIMEOUT) -> None:
        """Read lines until ``wanted``; raise ChildDied if the process ends first."""
        assert self.proc is not None and self.proc.stdout is not None
        try:
            await self._expect(wanted, timeout)
        except TimeoutError:
            raise RuntimeError(
                f"no {wanted!r} from the bot process in {timeout} s; its log:\n{self.tail()}"
            ) from None

    async def _expect(self, wanted: str, timeout: float) -> None:
        await self.read_until(lambda text: text == wanted, timeout)

    async def read_until(self, wanted: Callable[[str], bool], timeout: float = SYNC_TIMEOUT) -> str:
        """Read lines until one satisfies ``wanted`` and return it; skip the others."""
        assert self.proc is not None and self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    await self.proc.wait()
                    raise ChildDied
                text = line.decode().strip()
                if wanted(text):
                    return text
                if text.startswith("failed "):
                    raise RuntimeError(f"the bot process reported {text!r}; its log:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    async def send(self, line: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(f"{line}\n".encode())
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise ChildDied from None


@dataclass
class World:
    guild: int
    forum: int
    text: int
    general: int
    escalations: int
    sync: int
    helper_role: int
    staff_role: int
    users: dict[str, int]


def build_world(emu: Emulator) -> World:
    admin = emu.create_user("admin")
    guild = emu.create_guild("Crash Test Community", owner_id=admin)
    helper_role = emu.create_role(guild, "Helpers")
    staff_role = emu.create_role(guild, "Maintainers", permissions=MANAGE_THREADS)
    users = {"admin": admin}
    for name in PEOPLE:
        users[name] = emu.create_user(name)
        roles = [helper_role] if name in HELPERS else [staff_role] if name in STAFF else []
        emu.add_member(guild, users[name], roles=roles)
    users["sync"] = emu.create_user("sync-bot")
    emu.add_member(guild, users["sync"])
    return World(
        guild=guild,
        forum=emu.create_forum_channel(guild, "help-forum", tags=["Solved", "Unanswered"]),
        text=emu.create_text_channel(guild, "help"),
        general=emu.create_text_channel(guild, "general"),
        escalations=emu.create_text_channel(guild, "escalations"),
        sync=emu.create_text_channel(guild, "sync"),
        helper_role=helper_role,
        staff_role=staff_role,
        users=users,
    )


@dataclass
class RunStats:
    kills: int = 0
    restarts: int = 0
    retried: int = 0
    downtime_events: int = 0
    lost_interactions: int = 0


@dataclass
class Player:
    """Plays events in order; kills the bot where the plan says; restarts it as a supervisor would."""

    emu: Emulator
    clock: FakeClock
    clock_file: Path
    bot: BotProcess
    world: World
    kills: dict[int, float]
    ledger_has_reason: Any  # async (reason) -> bool: the user checking before re-doing a grant
    questions: list[int] = field(default_factory=list)  # logical question -> thread id
    replies: list[int] = field(default_factory=list)  # logical reply -> message id
    stats: RunStats = field(default_factory=RunStats)
    syncs: int = 0
    down_events: int = 0
    down_reactions: int = 0

    def user(self, name: str) -> int:
        return self.world.users[name]

    # ---- the supervisor ------------------------------------------------------------------------

    async def ensure_up(self) -> None:
        if not self.bot.alive:
            await self.bot.reap()
            await self.bot.start()
            self.stats.restarts += 1
            self.down_events = self.down_reactions = 0
            await self.sync()

    async def sync(self) -> bool:
        """Wait until the bot handled everything sent so far; False if it died meanwhile."""
        if not self.bot.alive:
            return False
        self.syncs += 1
        await self.emu.user_says(self.user("sync"), self.world.sync, f"sync {self.syncs}")
        try:
            await self.bot.expect(f"synced {self.syncs}")
        except ChildDied:
            return False
        return True

    async def sweep(self) -> None:
        """One tick of timed work, repeated after a restart until it completes."""
        while True:
            await self.ensure_up()
            self.syncs += 1
            try:
                await self.bot.send(f"sweep {self.syncs}")
                await self.bot.expect(f"swept {self.syncs}")
                return
            except ChildDied:
                continue

    def set_clock(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))
        self.clock_file.write_text(str(self.clock.now().timestamp()))

    # ---- playing -------------------------------------------------------------------------------

    async def play(self, events: list[Event]) -> None:
        owed: list[float] = []  # kill moments that fell while the bot was already down
        for index, event in enumerate(events):
            await self.before(event)
            if index in self.kills:
                owed.append(self.kills[index])
            delay = owed.pop(0) if owed and self.bot.alive else None
            if delay is not None:
                asyncio.get_running_loop().call_later(delay, self.kill)
            await self.apply(event)
            if delay is not None:
                await asyncio.sleep(delay + 0.001)
            if self.bot.alive and not await self.sync():
                pass  # it died while catching up; the next event decides when it comes back
        await self.ensure_up()
        await self.sweep()
        await self.sync()

    def kill(self) -> None:
        if self.bot.alive:
            self.stats.kills += 1
            self.bot.kill()

    async def before(self, event: Event) -> None:
        """While the bot is down, gateway events keep happening (undelivered); anything else, or a
        long outage, waits for the supervisor to restart it. At most one reaction change happens
        during an outage: the order of two would be lost, as it would on Discord."""
        if self.bot.alive:
            return
        reaction = event.kind in REACTION_KINDS
        if (
            event.needs_bot
            or self.down_events >= MAX_DOWNTIME_EVENTS
            or (reaction and self.down_reactions >= 1)
        ):
            await self.ensure_up()
            return
        self.down_events += 1
        self.down_reactions += reaction
        self.stats.downtime_events += 1

    async def apply(self, event: Event) -> None:
        handler = getattr(self, f"_{event.kind}")
        await handler(event)

    async def _ask_forum(self, e: Event) -> None:
        post = await self.emu.user_posts_in_forum(self.user(e.user), self.world.forum, e.text[:90], e.text)
        self.questions.append(int(post["id"]))

    async def _ask_text(self, e: Event) -> None:
        message = await self.emu.user_says(self.user(e.user), self.world.text, e.text)
        self.questions.append(int(message["id"]))

    async def _reply(self, e: Event) -> None:
        message = await self.emu.user_says(self.user(e.user), self.questions[e.question], e.text)
        self.replies.append(int(message["id"]))

    async def _react(self, e: Event) -> None:
        with contextlib.suppress(ThreadArchived):  # Discord refuses it; the user moves on
            await self.emu.user_reacts(
                self.user(e.user), self.questions[e.question], self.replies[e.message], "✅"
            )

    async def _unreact(self, e: Event) -> None:
        with contextlib.suppress(ThreadArchived):
            await self.emu.user_unreacts(
                self.user(e.user), self.questions[e.question], self.replies[e.message], "✅"
            )

    async def _clock_small(self, e: Event) -> None:
        self.set_clock(e.minutes)
        await self.sweep()

    _clock_big = _clock_small

    async def interact(self, e: Event, run: Any, retry: bool = True) -> None:
        """An interaction; if the bot dies under it the user tries again once it is back."""
        while True:
            await self.ensure_up()
            task = asyncio.ensure_future(run())
            watcher = asyncio.ensure_future(self._death())
            done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
            watcher.cancel()
            if task in done and task.exception() is None:
                return
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            self.stats.lost_interactions += 1
            if not retry or not await self.should_retry(e):
                return
            self.stats.retried += 1

    async def _death(self) -> None:
        assert self.bot.proc is not None
        await self.bot.proc.wait()

    async def should_retry(self, e: Event) -> bool:
        await self.ensure_up()
        if e.kind == "grant":  # not idempotent: a careful staff member checks the history first
            return not await self.ledger_has_reason(e.text)
        return True

    def thread(self, e: Event) -> int:
        return self.questions[e.question]

    async def _menu_mark(self, e: Event) -> None:
        target = self.replies[e.message]
        await self.interact(
            e,
            lambda: self.emu.user_uses_context_menu(
                self.user(e.user), self.thread(e), "Mark as solution", target, timeout=INTERACTION_TIMEOUT
            ),
        )

    async def _solved(self, e: Event) -> None:
        options = {"message": str(self.replies[e.message])} if e.message >= 0 else {}
        await self.interact(
            e,
            lambda: self.emu.user_runs_slash(
                self.user(e.user), self.thread(e), "solved", options=options, timeout=INTERACTION_TIMEOUT
            ),
        )

    async def _unsolve(self, e: Event) -> None:
        await self.interact(
            e,
            lambda: self.emu.user_runs_slash(
                self.user(e.user), self.thread(e), "unsolve", timeout=INTERACTION_TIMEOUT
            ),
        )

    async def _close(self, e: Event) -> None:
        await self.interact(
            e,
            lambda: self.emu.user_runs_slash(
                self.user(e.user),
                self.thread(e),
                "close",
                options={"reason": e.text},
                timeout=INTERACTION_TIMEOUT,
            ),
        )

    async def _reopen(self, e: Event) -> None:
        await self.interact(
            e,
            lambda: self.emu.user_runs_slash(
                self.user(e.user), self.thread(e), "reopen", timeout=INTERACTION_TIMEOUT
            ),
        )

    async def _grant(self, e: Event) -> None:
        member = self.user(PEOPLE[e.question])
        options = {"member": member, "amount": e.amount, "reason": e.text}
        await self.interact(
            e,
            lambda: self.emu.user_runs_slash(
                self.user(e.user),
                self.world.general,
                "points grant",
                options=options,
                timeout=INTERACTION_TIMEOUT,
            ),
        )

    async def _leaderboard(self, e: Event) -> None:
        async def look() -> None:
            reply = await self.emu.user_runs_slash(
                self.user(e.user),
                self.world.general,
                "leaderboard",
                options={"window": e.text},
                timeout=INTERACTION_TIMEOUT,
            )
            buttons = [
                b for row in reply.components for b in row.get("components", []) if not b.get("disabled")
            ]
            if buttons and reply.message_id:
                await self.emu.user_clicks_button(
                    self.user(e.user),
                    self.world.general,
                    reply.message_id,
                    buttons[-1]["custom_id"],
                    timeout=INTERACTION_TIMEOUT,
                )

        await self.interact(e, look, retry=False)


async def configure(player: Player) -> None:
    """The admin sets the server up (before any kill)."""
    w, emu, admin = player.world, player.emu, player.world.users["admin"]
    for command, options in [
        ("unstuck config add-help-channel", {"channel": w.forum}),
        ("unstuck config add-help-channel", {"channel": w.text}),
        ("unstuck config add-role", {"role": w.helper_role, "kind": "helper"}),
        ("unstuck config add-role", {"role": w.staff_role, "kind": "staff"}),
        ("unstuck config channel", {"purpose": "leaderboard", "channel": w.general}),
        ("unstuck config channel", {"purpose": "escalation", "channel": w.escalations}),
    ]:
        await emu.user_runs_slash(admin, w.general, command, options=options, timeout=INTERACTION_TIMEOUT)
    await player.sync()
