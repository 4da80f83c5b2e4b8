"""Cooldowns: how often one member may run a command that costs the bot real work.

A token bucket per (server, member, command): a member starts with ``uses`` tokens, each use takes
one, and tokens come back one every ``per / uses``. Short bursts (paging through the leaderboard)
pass; a member who keeps hammering is told how long to wait. Time is passed in, so tests move a
clock instead of sleeping, and the state is a plain value the caller keeps wherever it likes.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum


class Costly(StrEnum):
    """The commands (and buttons) that cost enough work to be rate-limited per member."""

    SIMILAR = "similar"
    STATS = "stats"
    LEADERBOARD = "leaderboard"  # `/leaderboard` and its page buttons share one bucket


@dataclass(frozen=True)
class Limit:
    """At most ``uses`` in a burst, refilled evenly over ``per``."""

    uses: int
    per: dt.timedelta

    def __post_init__(self) -> None:
        if self.uses < 1 or self.per <= dt.timedelta(0):
            raise ValueError("a limit needs at least one use and a positive period")

    @property
    def refill(self) -> dt.timedelta:
        """How long one token takes to come back."""
        return self.per / self.uses


#: Chosen so that a person using a command by hand never meets them: a search refined a few
#: times, a look at the figures and one more with another period, a quick page through the board.
DEFAULT_LIMITS: dict[Costly, Limit] = {
    Costly.SIMILAR: Limit(uses=4, per=dt.timedelta(seconds=60)),
    Costly.STATS: Limit(uses=2, per=dt.timedelta(seconds=60)),
    Costly.LEADERBOARD: Limit(uses=6, per=dt.timedelta(seconds=30)),
}


@dataclass(frozen=True)
class Bucket:
    """A member's tokens for one command, as of ``at``."""

    tokens: float
    at: dt.datetime


@dataclass(frozen=True)
class Verdict:
    """The outcome of one use: the bucket to keep, and how long to wait when refused."""

    bucket: Bucket
    retry_after: dt.timedelta | None

    @property
    def allowed(self) -> bool:
        return self.retry_after is None


def take(bucket: Bucket | None, limit: Limit, now: dt.datetime) -> Verdict:
    """Spend one token of ``bucket`` (a full one when ``None``) at ``now``, or say how long to wait.

    A refused use spends nothing, so waiting the time given is always enough. A clock that went
    backwards refills nothing (and takes nothing back).
    """
    if bucket is None:
        tokens = float(limit.uses)
    else:
        elapsed = max((now - bucket.at).total_seconds(), 0.0)
        tokens = min(float(limit.uses), bucket.tokens + elapsed / limit.refill.total_seconds())
    if tokens >= 1.0:
        return Verdict(Bucket(tokens - 1.0, now), None)
    wait = (1.0 - tokens) * limit.refill.total_seconds()
    return Verdict(Bucket(tokens, now), dt.timedelta(seconds=wait))


def is_idle(bucket: Bucket, limit: Limit, now: dt.datetime) -> bool:
    """Whether ``bucket`` has refilled completely, so forgetting it changes nothing."""
    return now - bucket.at >= limit.per


def wait_seconds(retry_after: dt.timedelta) -> int:
    """The whole seconds to tell a person: rounded up, and at least 1."""
    return max(1, math.ceil(retry_after.total_seconds()))
