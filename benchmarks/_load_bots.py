"""The bot processes of the load benchmark, and the databases they share.

Each bot runs in its own OS process (``benchmarks._crash_child`` with ``--report-events``), so the
emulator and the load script, in this process, compete with the bot only for the machine's cores,
never for its event loop. Every gateway event a bot handles comes back as ``e <key> <time>``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import defaultdict
from pathlib import Path

import psutil


class BotProcess:
    """One bot instance in its own process, driven over its stdin/stdout line protocol."""

    def __init__(self, args: list[str], reports: dict[str, list[float]], log: Path) -> None:
        self.args = args
        self.reports = reports
        self.log = log
        self.ready = asyncio.Event()
        self.proc: asyncio.subprocess.Process | None = None
        self.reader: asyncio.Task[None] | None = None
        self.replies: dict[str, asyncio.Future[list[str]]] = {}
        self.tick_seconds: list[float] = []
        self.failures: list[str] = []
        self.number = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        with self.log.open("a") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks._crash_child", *self.args,
                "--report-events", "--live-clock",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log,
                limit=1 << 20,
            )  # fmt: skip
        self.reader = asyncio.create_task(self._read())
        async with asyncio.timeout(120):
            await self.ready.wait()

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            kind, *rest = line.decode().split()
            if kind == "e":
                self.reports[rest[0]].append(float(rest[1]))
            elif kind == "ready":
                self.ready.set()
            elif kind == "failed":
                self.failures.append(" ".join(rest))
                self._answer(rest[0], rest)
            elif kind in ("ticked", "clocked"):
                if kind == "ticked":
                    self.tick_seconds.append(float(rest[1]))
                self._answer(rest[0], rest)

    def _answer(self, number: str, words: list[str]) -> None:
        future = self.replies.pop(number, None)
        if future is not None and not future.done():
            future.set_result(words)

    async def command(self, name: str, timeout: float = 300) -> None:
        """Send ``name N`` and wait for the bot's answer to it."""
        assert self.proc is not None and self.proc.stdin is not None
        self.number += 1
        number = str(self.number)
        answered = self.replies[number] = asyncio.get_running_loop().create_future()
        self.proc.stdin.write(f"{name} {number}\n".encode())
        await self.proc.stdin.drain()
        async with asyncio.timeout(timeout):
            await answered

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()
        if self.reader is not None:
            self.reader.cancel()

    def logged_errors(self) -> int:
        """ERROR lines the process logged so far."""
        if not self.log.exists():
            return 0
        return sum("ERROR" in line for line in self.log.read_text(errors="replace").splitlines())

    def cpu_seconds(self) -> float:
        try:
            times = psutil.Process(self.pid).cpu_times()
        except psutil.Error:
            return 0.0
        return times.user + times.system


def new_reports() -> dict[str, list[float]]:
    return defaultdict(list)


def own_cpu_seconds() -> float:
    """CPU time of this process: the emulator and the load script."""
    times = psutil.Process(os.getpid()).cpu_times()
    return times.user + times.system
