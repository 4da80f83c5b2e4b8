"""Queries behind the help-channel health figures: the questions of a period and their escalations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.escalation_repo import EscalationRepo
from storage.models import HelpThread


def questions(
    guild_id: int, since: datetime | None, until: datetime, channel_id: int | None
) -> ColumnElement[bool]:
    """The server's tracked questions asked in ``[since, until)``, optionally in one help channel."""
    conditions = [
        HelpThread.guild_id == guild_id,
        HelpThread.deleted == false(),
        HelpThread.created_at < until,
    ]
    if since is not None:
        conditions.append(HelpThread.created_at >= since)
    if channel_id is not None:
        conditions.append(HelpThread.channel_id == channel_id)
    return and_(*conditions)


class StatsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def thread_facts(self, selection: ColumnElement[bool]) -> list[Row[Any]]:
        """(created_at, answered_at, first_responder_id, solved_at, dormant_at) of each question."""
        rows = await self.session.execute(
            select(
                HelpThread.created_at,
                HelpThread.answered_at,
                HelpThread.first_responder_id,
                HelpThread.solved_at,
                HelpThread.dormant_at,
            ).where(selection)
        )
        return list(rows.all())

    async def escalated_per_tier(self, selection: ColumnElement[bool]) -> dict[int, int]:
        """tier -> how many of the selected questions were sent to it."""
        return await EscalationRepo(self.session).escalated_per_tier(selection)
