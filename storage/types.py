"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from bot.domain.lifecycle import ThreadState


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database.

    SQLite has no time zones and hands back naive values; storing everything as UTC and
    re-attaching the zone on the way out means logic can compare any two stored times safely.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ThreadStateType(TypeDecorator[ThreadState]):
    """A help thread's state: stored as its plain name, read back as a :class:`ThreadState`.

    Code then compares states with the enum, never with bare strings, in Python and in queries.
    """

    impl = String(10)
    cache_ok = True

    def process_bind_param(self, value: ThreadState | str | None, dialect: Dialect) -> Any:
        return None if value is None else ThreadState(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> ThreadState | None:
        return None if value is None else ThreadState(value)
