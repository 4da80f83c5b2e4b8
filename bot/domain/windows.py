"""Leaderboard windows and the weekly post schedule, in a server's own time zone.

Weeks are ISO weeks (Monday to Sunday) in the server's zone, so "this week" in Tokyo starts
hours before it does in New York. All returned instants are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Window(StrEnum):
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


@dataclass(frozen=True)
class Span:
    """A half-open interval ``[start, end)`` of UTC instants, with a label for people."""

    start: datetime | None
    end: datetime | None
    label: str


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def week_key(day: date) -> str:
    """``2026-W03``: the ISO week a local date belongs to."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_span(day: date, zone: ZoneInfo) -> Span:
    """The ISO week containing the local ``day``."""
    monday = day - timedelta(days=day.weekday())
    sunday = monday + timedelta(days=6)
    label = (
        f"{monday:%b} {monday.day}–{sunday:%b} {sunday.day}"
        if monday.month != sunday.month
        else (f"{monday:%b} {monday.day}–{sunday.day}")
    )
    return Span(_local_midnight(monday, zone), _local_midnight(monday + timedelta(days=7), zone), label)


def month_span(day: date, zone: ZoneInfo) -> Span:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Span(_local_midnight(first, zone), _local_midnight(following, zone), f"{first:%B %Y}")


def window_span(window: Window, now: datetime, zone: ZoneInfo) -> Span:
    """The current week, month or all time, as seen in the server's zone at ``now``."""
    today = now.astimezone(zone).date()
    if window is Window.WEEK:
        return week_span(today, zone)
    if window is Window.MONTH:
        return month_span(today, zone)
    return Span(None, None, "all time")


@dataclass(frozen=True)
class WeeklySlot:
    """One weekly post: when it is due and which (completed) week it reports on."""

    due_at: datetime
    week: str
    span: Span


def latest_weekly_slot(now: datetime, zone: ZoneInfo, weekday: int, at: time) -> WeeklySlot:
    """The most recent scheduled post moment not after ``now`` (Monday = 0), and its week.

    The post reports the last complete ISO week before the one it is posted in, so a Monday 09:00
    post covers the week that ended the night before.
    """
    local_today = now.astimezone(zone).date()
    days_back = (local_today.weekday() - weekday) % 7
    day = local_today - timedelta(days=days_back)
    due = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
    if due > now:
        day -= timedelta(days=7)
        due = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
    reported = day - timedelta(days=7)
    return WeeklySlot(due_at=due, week=week_key(reported), span=week_span(reported, zone))
