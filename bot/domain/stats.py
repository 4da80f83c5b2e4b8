"""Help-channel health figures (`/stats`, the weekly health report), from plain facts about threads.

Everything here is arithmetic over :class:`ThreadFacts`; storage selects the threads of a period,
the cogs render. Shares are of the questions asked in the period.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

TOP_HELPERS = 5


class Period(StrEnum):
    """Which questions `/stats` looks at: those asked in the last 7 or 30 days, or all of them."""

    WEEK = "7d"
    MONTH = "30d"
    ALL = "all"

    @property
    def length(self) -> timedelta | None:
        return {Period.WEEK: timedelta(days=7), Period.MONTH: timedelta(days=30)}.get(self)

    @property
    def label(self) -> str:
        return {Period.WEEK: "the last 7 days", Period.MONTH: "the last 30 days", Period.ALL: "all time"}[
            self
        ]

    def since(self, now: datetime) -> datetime | None:
        """The earliest question time counted, or None for all time."""
        return now - self.length if self.length else None


@dataclass(frozen=True)
class ThreadFacts:
    """What the figures need to know about one question."""

    asked_at: datetime
    answered_at: datetime | None
    first_responder_id: int | None
    solved_at: datetime | None
    dormant_at: datetime | None


@dataclass(frozen=True)
class HealthStats:
    """The health of the help channels over one period."""

    asked: int
    answered: int
    solved: int
    dormant_unanswered: int
    median_first_response: timedelta | None
    p90_first_response: timedelta | None
    escalated: dict[int, int] = field(default_factory=dict)  # tier (0-based) -> questions sent to it
    top_helpers: list[tuple[int, int]] = field(default_factory=list)  # (member, first responses)

    def share(self, count: int) -> float | None:
        """``count`` as a share of the questions asked; None when nothing was asked."""
        return count / self.asked if self.asked else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100) by linear interpolation between closest ranks.

    The same definition as NumPy's default and ``statistics.quantiles(method="inclusive")``: the
    median of an even count is the mean of the two middle values, and p90 never exceeds the maximum.
    """
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def went_dormant_unanswered(facts: ThreadFacts) -> bool:
    """Dormant with nobody having replied before it went quiet (a later reply does not count)."""
    if facts.dormant_at is None:
        return False
    return facts.answered_at is None or facts.answered_at > facts.dormant_at


def health(
    threads: Iterable[ThreadFacts], escalated: Mapping[int, int] | None = None, top: int = TOP_HELPERS
) -> HealthStats:
    """Compute the figures for the questions ``threads``; ``escalated`` counts them per tier."""
    asked = answered = solved = dormant = 0
    waits: list[float] = []
    responders: Counter[int] = Counter()
    for facts in threads:
        asked += 1
        if facts.answered_at is not None:
            answered += 1
            waits.append(max((facts.answered_at - facts.asked_at).total_seconds(), 0.0))
            if facts.first_responder_id is not None:
                responders[facts.first_responder_id] += 1
        solved += facts.solved_at is not None
        dormant += went_dormant_unanswered(facts)
    median, p90 = percentile(waits, 50), percentile(waits, 90)
    return HealthStats(
        asked=asked,
        answered=answered,
        solved=solved,
        dormant_unanswered=dormant,
        median_first_response=timedelta(seconds=median) if median is not None else None,
        p90_first_response=timedelta(seconds=p90) if p90 is not None else None,
        escalated=dict(sorted((escalated or {}).items())),
        # Most first responses first; ties by member id, so the order is stable.
        top_helpers=sorted(responders.items(), key=lambda item: (-item[1], item[0]))[:top],
    )


def format_share(share: float | None) -> str:
    """``0.4285`` -> ``"43%"``; no questions -> ``"–"``."""
    return "–" if share is None else f"{round(share * 100)}%"
