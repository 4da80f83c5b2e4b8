"""Repositories: the only place that writes SQL. Each takes an open session (one unit of work)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, delete, false, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.lifecycle import DORMANCY_FROM, AskedThread, ThreadChange, ThreadState
from storage.models import Base, Guild, GuildRole, HelpChannel, HelpThread, ThreadMessage


async def insert_ignoring_duplicates(
    session: AsyncSession, model: type[Base], values: dict[str, Any]
) -> bool:
    """INSERT that silently skips a row whose key exists; True when a row was written.

    The database's unique constraints, not a check in code, decide: this is what keeps an event
    delivered twice, or two processes racing, from writing anything twice.
    """
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(insert(model).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def insert_many_ignoring_duplicates(
    session: AsyncSession, model: type[Base], rows: Sequence[dict[str, Any]]
) -> int:
    """:func:`insert_ignoring_duplicates` of several rows in one statement; how many were written."""
    if not rows:
        return 0
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(insert(model).values(list(rows)).on_conflict_do_nothing())
    return int(result.rowcount)  # type: ignore[attr-defined]


def owned_by_shards(guild_column: Any, shard_ids: Collection[int] | None, shard_count: int | None) -> Any:
    """SQL filter for the guilds a process owns: ``(guild_id >> 22) % shard_count`` in its shard ids."""
    if not shard_count or shard_ids is None:
        return and_(True)
    # Inline literals: PostgreSQL has ``bigint >> integer`` but no ``bigint >> bigint``.
    shifted = guild_column.op(">>")(literal_column("22"))
    return shifted.op("%")(literal_column(str(int(shard_count)))).in_(list(shard_ids))


def thread_values(asked: AskedThread, **columns: Any) -> dict[str, Any]:
    """The columns of a newly tracked thread: what was asked, and the given further ``columns``."""
    return {
        "id": asked.thread_id,
        "guild_id": asked.guild_id,
        "channel_id": asked.channel_id,
        "kind": asked.kind,
        "asker_id": asked.asker_id,
        "title": asked.title[:TITLE_LIMIT],
        "question": asked.question,
        "created_at": asked.created_at,
        **columns,
    }


class GuildRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure(self, guild_id: int, now: datetime) -> Guild:
        """The guild's row, created with default settings on first use."""
        await self.add_if_missing(guild_id, now)
        guild = await self.session.get(Guild, guild_id, populate_existing=True)
        assert guild is not None
        return guild

    async def add_if_missing(self, guild_id: int, now: datetime) -> None:
        """Make sure the guild has a row (default settings), without reading it back."""
        await insert_ignoring_duplicates(
            self.session, Guild, {"id": guild_id, "settings": {}, "created_at": now}
        )

    async def get(self, guild_id: int) -> Guild | None:
        return await self.session.get(Guild, guild_id)

    async def owned_with_channel(
        self,
        channel: Any,
        shard_ids: Collection[int] | None,
        shard_count: int | None,
        only: int | None = None,
    ) -> Sequence[Guild]:
        """Guilds of this process's shards that set the given channel (e.g. where weekly posts go)."""
        statement = select(Guild).where(
            channel.is_not(None), owned_by_shards(Guild.id, shard_ids, shard_count)
        )
        if only is not None:
            statement = statement.where(Guild.id == only)
        return (await self.session.scalars(statement)).all()

    async def save_settings(self, guild_id: int, overrides: dict[str, Any]) -> None:
        await self.session.execute(update(Guild).where(Guild.id == guild_id).values(settings=overrides))

    async def set_channel(self, guild_id: int, purpose: str, channel_id: int | None) -> None:
        """Point a purpose (``escalation``, ``leaderboard``) at a channel, or clear it."""
        column = {"escalation": "escalation_channel_id", "leaderboard": "leaderboard_channel_id"}[purpose]
        await self.session.execute(update(Guild).where(Guild.id == guild_id).values({column: channel_id}))


class ThreadMarker(NamedTuple):
    """What the start-up catch-up needs of a tracked thread: where it stands with Discord."""

    id: int
    channel_id: int
    last_seen_message_id: int | None
    archived_on_discord: bool


MARKER_COLUMNS = (
    HelpThread.id,
    HelpThread.channel_id,
    HelpThread.last_seen_message_id,
    HelpThread.archived_on_discord,
)


class HelpChannelRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, guild_id: int, channel_id: int, kind: str, now: datetime, seen_until: int) -> bool:
        return await insert_ignoring_duplicates(
            self.session,
            HelpChannel,
            {
                "guild_id": guild_id,
                "channel_id": channel_id,
                "kind": kind,
                "added_at": now,
                "last_seen_message_id": seen_until,
            },
        )

    async def remove(self, guild_id: int, channel_id: int) -> bool:
        result = await self.session.execute(
            delete(HelpChannel).where(HelpChannel.guild_id == guild_id, HelpChannel.channel_id == channel_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get(self, channel_id: int) -> HelpChannel | None:
        return await self.session.get(HelpChannel, channel_id)

    async def for_guild(self, guild_id: int) -> Sequence[HelpChannel]:
        rows = await self.session.scalars(
            select(HelpChannel).where(HelpChannel.guild_id == guild_id).order_by(HelpChannel.channel_id)
        )
        return rows.all()

    async def note_seen(self, channel_id: int, message_id: int) -> None:
        """Remember the newest top-level message handled, so start-up can catch up after it."""
        await self.session.execute(
            update(HelpChannel)
            .where(HelpChannel.channel_id == channel_id)
            .where(
                (HelpChannel.last_seen_message_id.is_(None)) | (HelpChannel.last_seen_message_id < message_id)
            )
            .values(last_seen_message_id=message_id)
        )


class RoleRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, guild_id: int, role_id: int, kind: str) -> bool:
        return await insert_ignoring_duplicates(
            self.session, GuildRole, {"guild_id": guild_id, "role_id": role_id, "kind": kind}
        )

    async def remove(self, guild_id: int, role_id: int, kind: str) -> bool:
        result = await self.session.execute(
            delete(GuildRole).where(
                GuildRole.guild_id == guild_id, GuildRole.role_id == role_id, GuildRole.kind == kind
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def for_guild(self, guild_id: int) -> dict[str, frozenset[int]]:
        rows = await self.session.execute(
            select(GuildRole.kind, GuildRole.role_id).where(GuildRole.guild_id == guild_id)
        )
        found: dict[str, set[int]] = {"helper": set(), "staff": set()}
        for kind, role_id in rows:
            found.setdefault(kind, set()).add(role_id)
        return {kind: frozenset(ids) for kind, ids in found.items()}


#: Discord's limit on a thread name, and the stored title's size.
TITLE_LIMIT = 100


class ThreadRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, asked: AskedThread, **columns: Any) -> bool:
        """Track a thread with the given further ``columns`` (its state, times...); False when it
        was already tracked (a repeated THREAD_CREATE, or a live event racing an import)."""
        return await insert_ignoring_duplicates(self.session, HelpThread, thread_values(asked, **columns))

    async def get(self, thread_id: int, *, lock: bool = False) -> HelpThread | None:
        """The thread's row; ``lock`` holds it for this transaction (PostgreSQL ``FOR UPDATE``)."""
        statement: Select[tuple[HelpThread]] = select(HelpThread).where(HelpThread.id == thread_id)
        if lock:
            statement = statement.with_for_update()
        return (await self.session.scalars(statement.execution_options(populate_existing=True))).first()

    async def get_many(self, thread_ids: Collection[int], *, lock: bool = True) -> dict[int, HelpThread]:
        """Several threads at once, by default held for this transaction (in id order, so that two
        processes locking overlapping sets cannot deadlock)."""
        statement = select(HelpThread).where(HelpThread.id.in_(sorted(thread_ids))).order_by(HelpThread.id)
        if lock:
            statement = statement.with_for_update()
        rows = await self.session.scalars(statement.execution_options(populate_existing=True))
        return {thread.id: thread for thread in rows}

    async def record_messages(self, rows: list[dict[str, Any]]) -> set[int]:
        """Store many human messages at once; returns the ids that were new (not seen before)."""
        if not rows:
            return set()
        insert = postgresql.insert if self.session.bind.dialect.name == "postgresql" else sqlite.insert
        # Parameters passed separately (executemany): the statement compiles once and stays cached;
        # a multi-row VALUES clause would be compiled afresh for every batch.
        statement = insert(ThreadMessage).on_conflict_do_nothing().returning(ThreadMessage.id)
        return set((await self.session.scalars(statement, rows)).all())

    async def live_for_guild(self, guild_id: int) -> Sequence[HelpThread]:
        """Threads that may still change on Discord's side: everything not deleted and not dormant."""
        rows = await self.session.scalars(
            select(HelpThread).where(
                HelpThread.guild_id == guild_id,
                HelpThread.deleted == false(),
                HelpThread.state != ThreadState.DORMANT,
            )
        )
        return rows.all()

    async def unsettled_markers(self, guild_id: int) -> dict[int, ThreadMarker]:
        """Threads whose Discord side may have changed while the bot was away: not deleted and not
        known to be archived (an archived thread changes only by becoming active again)."""
        rows = await self.session.execute(
            select(*MARKER_COLUMNS).where(
                HelpThread.guild_id == guild_id,
                HelpThread.deleted == false(),
                HelpThread.archived_on_discord == false(),
            )
        )
        return {row[0]: ThreadMarker(*row) for row in rows.tuples()}

    async def markers(self, thread_ids: Collection[int]) -> dict[int, ThreadMarker]:
        """The markers of these threads (any state), by id."""
        rows = await self.session.execute(
            select(*MARKER_COLUMNS).where(HelpThread.id.in_(sorted(thread_ids)))
        )
        return {row[0]: ThreadMarker(*row) for row in rows.tuples()}

    async def set_fields(self, thread_id: int, **values: Any) -> bool:
        """Set plain columns of a tracked thread in one statement; False when it is not tracked."""
        result = await self.session.execute(
            update(HelpThread).where(HelpThread.id == thread_id).values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_archived(self, thread_id: int, archived: bool) -> bool:
        """Record whether the thread is archived on Discord; True if that changed anything."""
        result = await self.session.execute(
            update(HelpThread)
            .where(HelpThread.id == thread_id, HelpThread.archived_on_discord != archived)
            .values(archived_on_discord=archived)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def due_dormant(self, owned: ColumnElement[bool], now: datetime) -> Sequence[int]:
        """Ids of live threads whose dormancy time has come, oldest first."""
        rows = await self.session.scalars(
            select(HelpThread.id)
            .where(HelpThread.dormant_due_at <= now)
            .where(owned)
            .order_by(HelpThread.dormant_due_at)
        )
        return rows.all()

    @staticmethod
    def apply(thread: HelpThread, change: ThreadChange) -> None:
        """Apply a lifecycle step (see :mod:`bot.domain.lifecycle`) to a thread held in this transaction."""
        for name, value in change.fields().items():
            setattr(thread, name, value)

    async def claim_dormant(self, thread_id: int, now: datetime, change: ThreadChange) -> bool:
        """Atomically apply ``change`` (going dormant) to a live thread whose dormancy time has come.

        One conditional UPDATE, so only one sweep (of any process) wins.
        """
        result = await self.session.execute(
            update(HelpThread)
            .where(
                HelpThread.id == thread_id,
                HelpThread.dormant_due_at <= now,
                HelpThread.state.in_(sorted(DORMANCY_FROM)),
            )
            .values(change.fields())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
