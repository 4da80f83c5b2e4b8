"""Playing the crash run's script against a bot that stays up while Discord and its database fail.

The player is the crash benchmark's, without kills: before each event it starts the faults the plan
holds for it (``benchmarks._chaos_plan``), and it waits for the bot to have handled every event
before the next one, exactly as the calm run does, so both end in states that must be equal.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from benchmarks._chaos_faults import postgres_outage
from benchmarks._chaos_plan import HANG_SECONDS, OUTAGE_SECONDS, STORM_CALLS, STORM_RETRY_AFTER, FaultPlan
from benchmarks._crash_run import Player
from benchmarks._crash_script import Event

#: The route the storms hit: thread renames and tags, the one Discord limits hardest.
STORM_ROUTE = "PATCH /channels/{channel_id}"
HANG_ROUTE = "POST /channels/{channel_id}/messages"
END_MINUTES = 15
LEFT_OVER_ROUNDS = 10  # the most left-over catch-up runs one jump of the clock stands for


@dataclass
class Outage:
    """Where the database lives, so the player can take it away (PostgreSQL) or ask the bot to."""

    kind: str  # "sqlite" | "postgres"
    admin_url: str = ""
    database: str = ""


@dataclass
class ChaosPlayer(Player):
    plan: FaultPlan = field(default_factory=FaultPlan)
    outage: Outage = field(default_factory=lambda: Outage("sqlite"))
    planned: Counter[str] = field(default_factory=Counter)
    _background: set[asyncio.Task[None]] = field(default_factory=set)
    pending_minutes: int = 0  # a jump of the script's clock the next sweep makes

    async def play(self, events: list[Event]) -> None:
        if self.plan.error_rate:
            self.emu.faults.seed(len(events))
            for status in (500, 502, 503):
                self.emu.faults.fail(status=status, rate=self.plan.error_rate / 3)
        for index, event in enumerate(events):
            await self.inject(index)
            await self.thread_is_there(event)
            if index in self.plan.drops:
                await self.apply_in_gap(event, replay=self.plan.drops[index])
            else:
                await self.apply(event)
            await self.sync()
        await self.heal()
        # Both runs end alike: a quarter of an hour later (longer than any retry waits), one tick.
        self.set_clock(END_MINUTES)
        await self.sweep()
        await self.drain()
        await self.sync()

    def set_clock(self, minutes: int) -> None:
        """A jump of the script's clock, made by the next :meth:`sweep` (minute by minute first)."""
        self.pending_minutes += minutes

    async def sweep(self) -> None:
        """One tick of timed work after a jump of the script's clock. The jump stands for minutes or
        hours in which the bot's left-over catch-up (every minute) would have run again and again
        until it had nothing left (a run Discord fails with a 503 is not the last). So the clock
        first moves minute by minute, running that job each time while work is left (at most ten
        times), and only then the rest of the way: what a gap hid is tracked when it would have
        been, a minute or two late, not hours later, before the escalation sweep looks at the clock."""
        minutes, self.pending_minutes = self.pending_minutes, 0
        for _minute in range(min(minutes, LEFT_OVER_ROUNDS)):
            super().set_clock(1)
            minutes -= 1
            if not await self.left_over_catch_up():
                break
        super().set_clock(minutes)
        await super().sweep()

    async def left_over_catch_up(self) -> bool:
        """Run the bot's left-over catch-up once; whether work is still left over."""
        self.syncs += 1
        number = self.syncs
        await self.bot.send(f"leftover {number}")
        answer = await self.bot.read_until(lambda line: line.startswith(f"left {number} "))
        return answer.endswith(" 1")

    async def run_job(self, name: str) -> None:
        self.syncs += 1
        await self.bot.send(f"job {name} {self.syncs}")
        await self.bot.expect(f"ran {self.syncs}")

    async def thread_is_there(self, event: Event, rounds: int = 20) -> None:
        """A question's thread exists before anyone writes in it. A question Discord hid in a gap,
        or whose thread Discord failed to open, is read back by the catch-up the bot runs again
        for what it could not finish: the player runs that job (its scheduler would within
        minutes) instead of writing into a thread that is not there yet."""
        if event.question < 0 or event.kind in ("ask_forum", "ask_text", "grant"):  # grant: a member
            return
        for _ in range(rounds):
            if self.questions[event.question] in self.emu.world.channels:
                return
            await self.run_job("catch-up-left-over")
        raise RuntimeError(f"question {event.question} never got its thread")

    async def apply_in_gap(self, event: Event, replay: bool) -> None:
        """The connection drops, the event happens while it is down, then the bot reconnects:
        it resumes and gets the event replayed, or (a gap) identifies anew and never gets it."""
        self.planned["gateway_drop_replayed" if replay else "gateway_gap"] += 1
        async with self.emu.gateway_faults.outage(replay=replay):
            await self.apply(event)
        await self.bot.expect("connected")

    async def inject(self, index: int) -> None:
        if index in self.plan.outages:
            self.planned["database_outage"] += 1
            await self.start_outage()
        if index in self.plan.hangs:
            self.planned["hanging_call"] += 1
            self.emu.faults.hang(HANG_ROUTE, seconds=HANG_SECONDS, times=1)
        if index in self.plan.storms:
            self.planned["rate_limit_storm"] += 1
            self.emu.faults.rate_limit(STORM_ROUTE, retry_after=STORM_RETRY_AFTER, times=STORM_CALLS)

    async def start_outage(self) -> None:
        if self.outage.kind == "postgres":
            task = asyncio.create_task(
                postgres_outage(self.outage.admin_url, self.outage.database, OUTAGE_SECONDS)
            )
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            await asyncio.sleep(0)  # let it take the database away before the event is played
        else:
            await self.bot.send(f"dbdown {OUTAGE_SECONDS}")
            await self.bot.expect("down")

    async def heal(self) -> None:
        """The end of the storm: every fault cleared, every outage over."""
        self.emu.faults.clear()
        if self._background:
            await asyncio.gather(*self._background)

    async def drain(self, rounds: int = 100) -> None:
        """Let the bot deliver what it still owes Discord. Retries wait on the bot's clock, which
        is the script's: should one still be waiting, the player moves the clock to its due time
        and lets the delivery worker (nothing else) run, as real time would."""
        for _ in range(rounds):
            self.syncs += 1
            await self.bot.send(f"drain {self.syncs}")
            answer = await self.bot.read_until(
                lambda line: line in (f"drained {self.syncs}",) or line.startswith(f"owed {self.syncs} "),
                timeout=120,
            )
            if answer.startswith("drained"):
                return
            due = datetime.fromtimestamp(float(answer.split()[2]), tz=UTC)
            if due > self.clock.now():
                self.clock.advance(due - self.clock.now())
                self.clock_file.write_text(str(self.clock.now().timestamp()))
            self.syncs += 1
            await self.bot.send(f"deliver {self.syncs}")
            await self.bot.expect(f"delivered {self.syncs}")
        raise RuntimeError(f"the bot still owes Discord something after {rounds} rounds")

    def late_interactions(self) -> int:
        return sum(problem.kind == "interaction-late" for problem in self.emu.problems)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


def faults_seen(player: ChaosPlayer) -> dict[str, Any]:
    """What the run injected, by kind: the plan's discrete faults and the emulator's own count."""
    injected = player.emu.faults.injected
    return dict(player.planned) | {f"rest_{kind}": count for kind, count in injected.items() if count}
