"""A stopwatch for Discord's interaction deadline that does not count the test machine's load.

Discord wants the first response to an interaction within 3 s. On a loaded machine (2 cores, several
test suites at once) the bot's process can spend a long time runnable but waiting for a CPU; that
is the machine being busy, not the bot being slow, and a deadline that counted it would make the
suite flaky. So the stopwatch subtracts the longest time any one thread of the watched process spent
waiting for a CPU meanwhile (Linux ``/proc/<pid>/task/<tid>/schedstat``, second field, in ns).
Taking the largest single thread's wait never subtracts more than really passed, and a handler that
sleeps or awaits something slow is not runnable, so its delay still counts in full. Where schedstat
is missing (not Linux) the stopwatch is the plain wall clock.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def cpu_waits(pid: int | None = None) -> dict[str, int]:
    """Nanoseconds each thread of ``pid`` (default: this process) has waited for a CPU so far."""
    tasks = Path(f"/proc/{pid or os.getpid()}/task")
    waits: dict[str, int] = {}
    try:
        threads = list(tasks.iterdir())
    except OSError:
        return waits
    for thread in threads:
        try:
            waits[thread.name] = int((thread / "schedstat").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile, or schedstat is not available
    return waits


class Stopwatch:
    """Seconds since start, minus the watched process's longest wait for a CPU in between."""

    def __init__(self, pid: int | None = None) -> None:
        self.pid = pid
        self._start = time.monotonic()
        self._waits = cpu_waits(pid)

    def wall(self) -> float:
        """Plain seconds since start."""
        return time.monotonic() - self._start

    def starved(self) -> float:
        """The longest time one thread waited for a CPU since start (threads born since: all of it)."""
        now = cpu_waits(self.pid)
        deltas = [ns - self._waits.get(tid, 0) for tid, ns in now.items()]
        return max([0, *deltas]) / 1e9

    def elapsed(self) -> float:
        """Wall time minus load: what the deadline is compared with."""
        return max(0.0, self.wall() - self.starved())
