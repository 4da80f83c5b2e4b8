"""Leaderboard windows (bot.domain.windows): ISO weeks in the server's zone, the weekly post's slot."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.windows import Window, latest_weekly_slot, week_key, week_span, window_span


def test_weeks_are_iso_weeks_in_the_servers_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    # Sunday 20:00 UTC is already Monday in Tokyo: a new week there, not in UTC.
    moment = datetime(2026, 1, 11, 20, 0, tzinfo=UTC)
    assert window_span(Window.WEEK, moment, tokyo).start == datetime(2026, 1, 11, 15, 0, tzinfo=UTC)
    assert window_span(Window.WEEK, moment, ZoneInfo("UTC")).start == datetime(2026, 1, 5, tzinfo=UTC)
    assert week_key(date(2026, 1, 1)) == "2026-W01"
    assert week_key(date(2027, 1, 1)) == "2026-W53"
    assert week_span(date(2026, 1, 28), ZoneInfo("UTC")).label == "Jan 26–Feb 1"


def test_the_weekly_slot_reports_the_previous_week() -> None:
    utc = ZoneInfo("UTC")
    monday_nine = time(9, 0)
    slot = latest_weekly_slot(datetime(2026, 1, 12, 9, 0, tzinfo=UTC), utc, 0, monday_nine)
    assert slot.due_at == datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
    assert slot.week == "2026-W02"
    before = latest_weekly_slot(datetime(2026, 1, 12, 8, 59, tzinfo=UTC), utc, 0, monday_nine)
    assert before.due_at == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert before.week == "2026-W01"


def test_the_weekly_slot_follows_the_zone_and_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # Monday 30 March 2026 09:00 in Berlin is 07:00 UTC (summer time began on the 29th).
    slot = latest_weekly_slot(datetime(2026, 3, 30, 12, 0, tzinfo=UTC), berlin, 0, time(9, 0))
    assert slot.due_at == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert slot.week == "2026-W13"
    friday = latest_weekly_slot(datetime(2026, 3, 30, 12, 0, tzinfo=UTC), berlin, 4, time(17, 30))
    assert friday.due_at == datetime(2026, 3, 27, 16, 30, tzinfo=UTC)
    assert friday.due_at + timedelta(days=3) > friday.due_at
