"""Owed Discord actions: written with the change that owes them, settled by the delivery worker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OwedAction
from storage.repositories import insert_ignoring_duplicates

PENDING, DONE, REFUSED = "pending", "done", "refused"
#: Within one channel, messages go out before the thread's look changes (a close note before the
#: archive that would otherwise be undone by posting it).
KIND_ORDER = {"send": 0, "appearance": 1, "edit": 1}


class OwedRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_once(
        self,
        key: str,
        guild_id: int,
        channel_id: int,
        kind: str,
        payload: dict[str, Any],
        now: datetime,
        *,
        created_at: datetime | None = None,
    ) -> bool:
        """Owe a one-off action; a key owed before (an event delivered twice) changes nothing.

        ``created_at``: it may have been carried out since then already (look before doing it).
        """
        values = _new(key, guild_id, channel_id, kind, payload, now)
        if created_at is not None:
            values["created_at"], values["uncertain"] = created_at, True
        return await insert_ignoring_duplicates(self.session, OwedAction, values)

    async def add_desired(
        self,
        key: str,
        guild_id: int,
        channel_id: int,
        kind: str,
        flags: dict[str, Any],
        now: datetime,
        *,
        fixed: dict[str, Any] | None = None,
    ) -> None:
        """Owe a desired-state action: pending again (one row per key), its flags merged in, and
        ``fixed`` (what it is about, the same each time) kept as given.

        The row is held for the transaction, so two changes owing it at once both count.
        """
        row = await self.session.get(OwedAction, key, with_for_update=True, populate_existing=True)
        if row is None:
            if await self.add_once(key, guild_id, channel_id, kind, {**(fixed or {}), **flags}, now):
                return
            row = await self.session.get(OwedAction, key, with_for_update=True, populate_existing=True)
            assert row is not None
        merged = dict(row.payload or {})
        merged.update(fixed or {})
        merged.update({name: True for name, on in flags.items() if on})
        row.payload = merged
        row.status, row.attempts, row.version = PENDING, 0, row.version + 1
        row.queued_at = row.next_attempt_at = now
        row.refusal, row.settled_at = None, None

    async def get(self, key: str) -> OwedAction | None:
        return await self.session.get(OwedAction, key, populate_existing=True)

    async def due(self, owned: ColumnElement[bool], now: datetime, limit: int = 500) -> Sequence[OwedAction]:
        """Pending actions whose time has come, oldest first."""
        rows = await self.session.scalars(
            select(OwedAction)
            .where(OwedAction.status == PENDING, OwedAction.next_attempt_at <= now, owned)
            .order_by(OwedAction.queued_at, OwedAction.key)
            .limit(limit)
        )
        return rows.all()

    async def pending_in(self, channel_id: int) -> list[OwedAction]:
        """A channel's pending actions (due or not) in delivery order."""
        rows = await self.session.scalars(
            select(OwedAction).where(OwedAction.status == PENDING, OwedAction.channel_id == channel_id)
        )
        return sorted(rows.all(), key=lambda r: (r.queued_at, KIND_ORDER.get(r.kind, 9), r.key))

    async def next_due_at(self, owned: ColumnElement[bool]) -> datetime | None:
        return await self.session.scalar(
            select(func.min(OwedAction.next_attempt_at)).where(OwedAction.status == PENDING, owned)
        )

    async def settle(
        self, key: str, version: int, status: str, now: datetime, *, result: int | None, refusal: str | None
    ) -> bool:
        """Settle the action as ``done`` or ``refused``, unless it was owed again meanwhile."""
        values: dict[str, Any] = {"status": status, "settled_at": now, "refusal": refusal, "uncertain": False}
        if result is not None:
            values["result"] = result
        outcome = await self.session.execute(
            update(OwedAction)
            .where(OwedAction.key == key, OwedAction.version == version, OwedAction.status == PENDING)
            .values(**values)
        )
        return bool(outcome.rowcount)  # type: ignore[attr-defined]

    async def note_shown(self, key: str, version: int, note_id: int | None) -> None:
        """A thread's "Solved" note is in line: keep its id, and unless the thread changed again
        meanwhile (``version``), owe only the rest of its look."""
        row = await self.session.get(OwedAction, key, with_for_update=True, populate_existing=True)
        if row is None:
            return
        if note_id is not None:
            row.result = note_id
        if row.version == version and row.payload.get("note"):
            row.payload = {**row.payload, "note": False}

    async def retry_later(self, key: str, attempts: int, at: datetime, *, uncertain: bool) -> None:
        values: dict[str, Any] = {"attempts": attempts, "next_attempt_at": at}
        if uncertain:
            values["uncertain"] = True
        await self.session.execute(
            update(OwedAction).where(OwedAction.key == key, OwedAction.status == PENDING).values(**values)
        )

    async def refused(self, guild_id: int, since: datetime) -> list[tuple[int, str, int]]:
        """(channel id, reason, how many) of the actions Discord refused for good in a server since
        ``since``."""
        rows = await self.session.execute(
            select(OwedAction.channel_id, OwedAction.refusal, func.count())
            .where(
                OwedAction.guild_id == guild_id,
                OwedAction.status == REFUSED,
                OwedAction.settled_at >= since,
            )
            .group_by(OwedAction.channel_id, OwedAction.refusal)
            .order_by(OwedAction.channel_id, OwedAction.refusal)
        )
        return [(channel, reason or "", count) for channel, reason, count in rows.all()]


def _new(
    key: str, guild_id: int, channel_id: int, kind: str, payload: dict[str, Any], now: datetime
) -> dict[str, Any]:
    return {
        "key": key,
        "guild_id": guild_id,
        "channel_id": channel_id,
        "kind": kind,
        "payload": payload,
        "status": PENDING,
        "attempts": 0,
        "version": 0,
        "uncertain": False,
        "created_at": now,
        "queued_at": now,
        "next_attempt_at": now,
    }
