"""What a port tells a service when Discord failed a call: refused for good, wait, or try again.

Services stay free of discord.py; the cogs' ports translate Discord's errors into these
(``cogs/_errors.py``), and the delivery worker, the escalation sweep, the intake's lanes and the
catch-up decide from them whether to retry.
"""

from __future__ import annotations

__all__ = ["Refused", "RetryAfter", "Unavailable"]


class Refused(Exception):
    """Discord refused for good (the channel or message is gone, no permission): never retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryAfter(Exception):
    """Rate-limited: Discord says when to try again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"rate-limited for {seconds:.1f} s")
        self.seconds = seconds


class Unavailable(Exception):
    """Discord failed this time (5xx, connection reset). ``unknown``: it may have acted anyway."""

    def __init__(self, reason: str, *, unknown: bool = False) -> None:
        super().__init__(reason)
        self.unknown = unknown
