"""Snowflake ids and timestamps that follow an injectable clock.

Tests drive time with a fake clock, so every id and timestamp the emulator makes comes from the same
``clock`` callable: ``((ms since the Discord epoch) << 22) | counter``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1_420_070_400_000  # 2015-01-01T00:00:00Z

Clock = Callable[[], datetime]


def real_clock() -> datetime:
    """The wall clock, timezone-aware UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Discord's timestamp format: ISO 8601 with microseconds and +00:00."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def snowflake_time(snowflake: int) -> datetime:
    """The creation time encoded in a snowflake."""
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


class SnowflakeFactory:
    """Makes unique, increasing snowflakes from ``clock``.

    The low 22 bits hold a counter so ids made in the same millisecond stay unique. If the clock ever
    moves backwards (a test rewinding its fake clock), ids still increase: real Discord ids never repeat,
    and message ordering by id must stay consistent with creation order.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last = 0

    def now(self) -> datetime:
        """The current time of the injected clock."""
        moment = self._clock()
        if moment.tzinfo is None:
            raise ValueError("the emulator clock must return timezone-aware datetimes")
        return moment

    def next(self) -> int:
        """A fresh snowflake for the current clock time."""
        ms = int(self.now().timestamp() * 1000) - DISCORD_EPOCH_MS
        candidate = max(ms, 0) << 22
        self._last = max(candidate, self._last + 1)
        return self._last
