"""Escalation storage: due deliveries (the queue), digests, claims and `/escalate` requests.

Every state change that must happen once is a conditional UPDATE (``... WHERE status = 'pending'``)
or an insert guarded by a key, so a sweep that runs twice, late, or in two processes cannot deliver
anything twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, case, func, literal_column, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.lifecycle import ThreadState
from storage.models import EscalationDelivery, EscalationDigest, EscalationThread, HelpThread
from storage.repositories import insert_ignoring_duplicates

PENDING, SENDING, SENT, CANCELLED = "pending", "sending", "sent", "cancelled"


def _is_pending() -> ColumnElement[bool]:
    """``status = 'pending'`` with the value inlined: PostgreSQL can use the partial due index only
    when it sees the literal, not a parameter of a prepared (generic) plan."""
    return EscalationDelivery.status == literal_column(f"'{PENDING}'")


@dataclass(frozen=True)
class DueDelivery:
    """A pending delivery whose time has come, with what the sweep needs to judge it."""

    thread_id: int
    tier: int
    guild_id: int
    due_at: datetime
    state: ThreadState
    deleted: bool
    claimed_by_id: int | None

    @property
    def claimed(self) -> bool:
        """Someone took the thread from a digest, so it leaves the queue."""
        return self.claimed_by_id is not None


@dataclass(frozen=True)
class ListedThread:
    """A thread as a digest or the queue shows it."""

    thread_id: int
    guild_id: int
    channel_id: int
    title: str
    asked_at: datetime
    tier: int
    due_at: datetime
    position: int | None
    message_id: int | None
    claimed_by_id: int | None
    state: ThreadState  # the thread's, as the database has it now (Discord may lag behind)
    kind: str  # "forum" | "text"


def _listed(row: Row[Any]) -> ListedThread:
    """A row of :func:`_listing`, whose column names are the fields of :class:`ListedThread`."""
    return ListedThread(**row._mapping)


def _listing() -> Any:
    """Deliveries with their thread's title, channel, state and claim: what digests and the queue show."""
    return (
        select(
            EscalationDelivery.thread_id,
            EscalationDelivery.guild_id,
            EscalationDelivery.tier,
            EscalationDelivery.due_at,
            EscalationDelivery.position,
            EscalationDelivery.message_id,
            HelpThread.channel_id,
            HelpThread.title,
            HelpThread.created_at.label("asked_at"),
            EscalationThread.claimed_by_id,
            HelpThread.state,
            HelpThread.kind,
        )
        .join(HelpThread, HelpThread.id == EscalationDelivery.thread_id)
        .outerjoin(EscalationThread, EscalationThread.thread_id == EscalationDelivery.thread_id)
    )


class EscalationRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- the queue ------------------------------------------------------------------------------

    async def schedule(self, thread_id: int, guild_id: int, due: Sequence[datetime], now: datetime) -> None:
        """Write one pending delivery per tier (a repeated call changes nothing)."""
        for tier, due_at in enumerate(due):
            await self.schedule_one(thread_id, guild_id, tier, due_at, now)

    async def requeue(self, thread_id: int, guild_id: int, due: Sequence[datetime], now: datetime) -> None:
        """Put a reopened thread's tiers back on the queue: cancelled ones pending again at their new
        time, missing ones written; pending ones keep their time and sent ones stay sent."""
        for tier, due_at in enumerate(due):
            revived = await self.session.execute(
                update(EscalationDelivery)
                .where(
                    EscalationDelivery.thread_id == thread_id,
                    EscalationDelivery.tier == tier,
                    EscalationDelivery.status == CANCELLED,
                )
                .values(status=PENDING, due_at=due_at, updated_at=now)
            )
            if not revived.rowcount:  # type: ignore[attr-defined]
                await self.schedule_one(thread_id, guild_id, tier, due_at, now)

    async def schedule_one(
        self, thread_id: int, guild_id: int, tier: int, due_at: datetime, now: datetime
    ) -> bool:
        """Write one pending delivery; False when the thread already has a row for that tier."""
        return await insert_ignoring_duplicates(
            self.session,
            EscalationDelivery,
            {
                "thread_id": thread_id,
                "tier": tier,
                "guild_id": guild_id,
                "due_at": due_at,
                "status": PENDING,
                "updated_at": now,
            },
        )

    async def due(self, owned: ColumnElement[bool], now: datetime, limit: int) -> list[DueDelivery]:
        """Pending deliveries whose time has come (oldest first), read from the partial due index."""
        rows = await self.session.execute(
            select(
                EscalationDelivery.thread_id,
                EscalationDelivery.tier,
                EscalationDelivery.guild_id,
                EscalationDelivery.due_at,
                HelpThread.state,
                HelpThread.deleted,
                EscalationThread.claimed_by_id,
            )
            .join(HelpThread, HelpThread.id == EscalationDelivery.thread_id)
            .outerjoin(EscalationThread, EscalationThread.thread_id == EscalationDelivery.thread_id)
            .where(_is_pending(), EscalationDelivery.due_at <= now, owned)
            .order_by(EscalationDelivery.due_at)
            .limit(limit)
        )
        return [DueDelivery(**row._mapping) for row in rows]

    async def cancel(self, keys: Sequence[tuple[int, int]], now: datetime) -> None:
        """Take (thread, tier) deliveries off the queue, if still pending."""
        if keys:
            await self.session.execute(
                update(EscalationDelivery)
                .where(
                    tuple_(EscalationDelivery.thread_id, EscalationDelivery.tier).in_(list(keys)),
                    EscalationDelivery.status == PENDING,
                )
                .values(status=CANCELLED, updated_at=now)
            )

    async def cancel_thread(self, thread_id: int, now: datetime) -> None:
        await self.session.execute(
            update(EscalationDelivery)
            .where(EscalationDelivery.thread_id == thread_id, EscalationDelivery.status == PENDING)
            .values(status=CANCELLED, updated_at=now)
        )

    async def waiting(self, guild_id: int) -> list[ListedThread]:
        """The server's queue: pending deliveries of threads still open and unclaimed, by due time."""
        rows = await self.session.execute(
            _listing()
            .where(
                EscalationDelivery.guild_id == guild_id,
                EscalationDelivery.status == PENDING,
                HelpThread.state == ThreadState.OPEN,
                HelpThread.deleted.is_(False),
                EscalationThread.claimed_by_id.is_(None),
            )
            .order_by(EscalationDelivery.due_at, EscalationDelivery.thread_id)
        )
        return [_listed(r) for r in rows]

    async def pending_for_guild(self, guild_id: int) -> Sequence[EscalationDelivery]:
        rows = await self.session.scalars(
            select(EscalationDelivery).where(
                EscalationDelivery.guild_id == guild_id, EscalationDelivery.status == PENDING
            )
        )
        return rows.all()

    async def open_thread_times(self, guild_id: int) -> Sequence[Row[tuple[int, datetime]]]:
        """(id, asked at) of the server's open threads: tiers edited later apply to them too."""
        rows = await self.session.execute(
            select(HelpThread.id, HelpThread.created_at).where(
                HelpThread.guild_id == guild_id,
                HelpThread.state == ThreadState.OPEN,
                HelpThread.deleted.is_(False),
            )
        )
        return rows.all()

    async def open_threads_never_scheduled(self, guild_id: int) -> Sequence[Row[tuple[int, datetime]]]:
        """(id, asked at) of open threads without a single delivery row (tracked before escalation
        existed, i.e. before migration 0004)."""
        scheduled = select(EscalationDelivery.thread_id).where(EscalationDelivery.thread_id == HelpThread.id)
        rows = await self.session.execute(
            select(HelpThread.id, HelpThread.created_at).where(
                HelpThread.guild_id == guild_id,
                HelpThread.state == ThreadState.OPEN,
                HelpThread.deleted.is_(False),
                ~scheduled.exists(),
            )
        )
        return rows.all()

    async def delivery_keys(self, guild_id: int) -> set[tuple[int, int]]:
        """(thread, tier) of every delivery row of the server, whatever its status."""
        rows = await self.session.execute(
            select(EscalationDelivery.thread_id, EscalationDelivery.tier).where(
                EscalationDelivery.guild_id == guild_id
            )
        )
        return {(thread_id, tier) for thread_id, tier in rows.tuples()}

    async def requested_threads(self, guild_id: int) -> set[int]:
        """Threads of the server whose asker used `/escalate`."""
        rows = await self.session.scalars(
            select(EscalationThread.thread_id).where(
                EscalationThread.guild_id == guild_id, EscalationThread.requested_at.is_not(None)
            )
        )
        return set(rows.all())

    async def tiers_reached(self, thread_id: int) -> dict[int, str]:
        """tier -> status of every delivery row of the thread."""
        rows = await self.session.execute(
            select(EscalationDelivery.tier, EscalationDelivery.status).where(
                EscalationDelivery.thread_id == thread_id
            )
        )
        return {tier: status for tier, status in rows.tuples()}

    async def bring_forward(self, thread_id: int, tier: int, due_at: datetime, now: datetime) -> bool:
        """Make a pending delivery due now (`/escalate`); False when it is no longer pending."""
        result = await self.session.execute(
            update(EscalationDelivery)
            .where(
                EscalationDelivery.thread_id == thread_id,
                EscalationDelivery.tier == tier,
                EscalationDelivery.status == PENDING,
            )
            .values(due_at=due_at, updated_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # ---- digests --------------------------------------------------------------------------------

    async def open_digest(
        self, guild_id: int, tier: int, channel_id: int, role_ids: Sequence[int], now: datetime
    ) -> int:
        digest = EscalationDigest(
            guild_id=guild_id,
            tier=tier,
            channel_id=channel_id,
            role_ids=list(role_ids),
            status=SENDING,
            created_at=now,
            message_ids=[],
        )
        self.session.add(digest)
        await self.session.flush()
        return digest.id

    async def claim_deliveries(
        self, tier: int, thread_ids: Sequence[int], digest_id: int, now: datetime
    ) -> list[int]:
        """Put pending deliveries of one tier into a digest, in the given order; returns the threads
        won. One conditional UPDATE: only one sweep (of any process) can win each delivery."""
        if not thread_ids:
            return []
        await self.session.execute(
            update(EscalationDelivery)
            .where(
                EscalationDelivery.thread_id.in_(list(thread_ids)),
                EscalationDelivery.tier == tier,
                EscalationDelivery.status == PENDING,
            )
            .values(
                status=SENDING,
                digest_id=digest_id,
                position=case({t: i for i, t in enumerate(thread_ids)}, value=EscalationDelivery.thread_id),
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        won = await self.session.scalars(
            select(EscalationDelivery.thread_id)
            .where(EscalationDelivery.digest_id == digest_id)
            .order_by(EscalationDelivery.position)
        )
        return list(won.all())

    async def drop_digest(self, digest_id: int) -> None:
        digest = await self.session.get(EscalationDigest, digest_id)
        if digest is not None:
            await self.session.delete(digest)

    async def digest(self, digest_id: int) -> EscalationDigest | None:
        return await self.session.get(EscalationDigest, digest_id, populate_existing=True)

    async def unfinished_digests(self, owned: ColumnElement[bool]) -> Sequence[int]:
        """Digests claimed but not (completely) sent: a crash came between claim and send."""
        rows = await self.session.scalars(
            select(EscalationDigest.id)
            .where(EscalationDigest.status == SENDING, owned)
            .order_by(EscalationDigest.id)
        )
        return rows.all()

    async def digest_threads(self, digest_id: int) -> list[ListedThread]:
        rows = await self.session.execute(
            _listing().where(EscalationDelivery.digest_id == digest_id).order_by(EscalationDelivery.position)
        )
        return [_listed(r) for r in rows]

    async def record_part(self, digest_id: int, message_ids: list[int]) -> None:
        """Remember the messages sent so far (a retry after a crash resumes after them)."""
        await self.session.execute(
            update(EscalationDigest).where(EscalationDigest.id == digest_id).values(message_ids=message_ids)
        )

    async def finish_digest(
        self, digest_id: int, message_of_thread: dict[int, int | None], now: datetime
    ) -> None:
        """Mark the digest and its deliveries sent, each delivery with the message that lists it."""
        await self.session.execute(
            update(EscalationDigest).where(EscalationDigest.id == digest_id).values(status=SENT, sent_at=now)
        )
        if message_of_thread:
            message = case(message_of_thread, value=EscalationDelivery.thread_id)
            await self.session.execute(
                update(EscalationDelivery)
                .where(EscalationDelivery.digest_id == digest_id)
                .values(status=SENT, message_id=message, updated_at=now)
                .execution_options(synchronize_session=False)
            )

    async def digest_messages_of(self, thread_id: int) -> list[tuple[int, int, int]]:
        """(digest id, channel id, message id) of every digest message that lists the thread."""
        rows = await self.session.execute(
            select(EscalationDigest.id, EscalationDigest.channel_id, EscalationDelivery.message_id)
            .join(EscalationDigest, EscalationDigest.id == EscalationDelivery.digest_id)
            .where(EscalationDelivery.thread_id == thread_id, EscalationDelivery.message_id.is_not(None))
        )
        return [(d, c, m) for d, c, m in rows.tuples()]

    async def message_threads(self, message_id: int) -> list[ListedThread]:
        """The threads one digest message lists, in order."""
        rows = await self.session.execute(
            _listing()
            .where(EscalationDelivery.message_id == message_id)
            .order_by(EscalationDelivery.position)
        )
        return [_listed(r) for r in rows]

    # ---- people: /escalate and claims -----------------------------------------------------------

    async def thread_record(self, thread_id: int) -> EscalationThread | None:
        return await self.session.get(EscalationThread, thread_id, populate_existing=True)

    async def _ensure_thread(self, thread_id: int, guild_id: int) -> None:
        await insert_ignoring_duplicates(
            self.session, EscalationThread, {"thread_id": thread_id, "guild_id": guild_id}
        )

    async def record_request(self, thread_id: int, guild_id: int, user_id: int, now: datetime) -> bool:
        """Record the asker's `/escalate`; False when it was used already (once per thread)."""
        return await self._record_once(
            thread_id, guild_id, EscalationThread.requested_at, requested_by_id=user_id, requested_at=now
        )

    async def last_request_by(self, guild_id: int, user_id: int) -> tuple[int, datetime] | None:
        """(thread id, when) of the member's latest `/escalate` in the server, for its cooldown."""
        row = (
            await self.session.execute(
                select(EscalationThread.thread_id, EscalationThread.requested_at)
                .where(
                    EscalationThread.guild_id == guild_id,
                    EscalationThread.requested_by_id == user_id,
                    EscalationThread.requested_at.is_not(None),
                )
                .order_by(EscalationThread.requested_at.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else (row.thread_id, row.requested_at)

    async def record_claim(self, thread_id: int, guild_id: int, user_id: int, now: datetime) -> bool:
        """Record who claimed the thread; False when someone had claimed it already."""
        return await self._record_once(
            thread_id, guild_id, EscalationThread.claimed_by_id, claimed_by_id=user_id, claimed_at=now
        )

    async def _record_once(self, thread_id: int, guild_id: int, unset: Any, **values: Any) -> bool:
        """Set ``values`` on the thread's record while ``unset`` is still NULL: one conditional
        UPDATE, so only the first of two racing requests wins."""
        await self._ensure_thread(thread_id, guild_id)
        result = await self.session.execute(
            update(EscalationThread)
            .where(EscalationThread.thread_id == thread_id, unset.is_(None))
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # ---- stats ----------------------------------------------------------------------------------

    async def escalated_per_tier(self, thread_filter: ColumnElement[bool]) -> dict[int, int]:
        """tier -> how many of the selected threads were sent to it."""
        rows = await self.session.execute(
            select(EscalationDelivery.tier, func.count())
            .join(HelpThread, HelpThread.id == EscalationDelivery.thread_id)
            .where(EscalationDelivery.status == SENT, thread_filter)
            .group_by(EscalationDelivery.tier)
        )
        return {tier: count for tier, count in rows.tuples()}
