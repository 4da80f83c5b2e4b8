"""Discord ids encode their creation time; an id made from a moment marks "everything after now"."""

from __future__ import annotations

from datetime import datetime

DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_at(moment: datetime) -> int:
    """The smallest id Discord could give to something created at ``moment``."""
    return (int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22
