"""Which guilds a process owns when the bot runs as several sharded processes."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's rule: a guild lives on shard ``(guild_id >> 22) % shard_count``."""
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True)
class ShardScope:
    """The shards this process runs. ``shard_count=None`` means one process owns everything."""

    shard_ids: Collection[int] | None = None
    shard_count: int | None = None

    def owns(self, guild_id: int) -> bool:
        if not self.shard_count or self.shard_ids is None:
            return True
        return shard_of(guild_id, self.shard_count) in self.shard_ids
