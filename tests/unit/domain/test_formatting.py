"""Durations written for people in chat."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.formatting import humanize_duration


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.timedelta(days=3), "3 days"),
        (dt.timedelta(days=1), "1 day"),
        (dt.timedelta(days=1, hours=4, minutes=59), "1 day 4 h"),
        (dt.timedelta(hours=4, minutes=5), "4 h 5 min"),
        (dt.timedelta(hours=2), "2 h"),
        (dt.timedelta(minutes=45, seconds=59), "45 min"),
        (dt.timedelta(minutes=1), "1 min"),
        (dt.timedelta(seconds=59), "just now"),
        (dt.timedelta(0), "just now"),
        (dt.timedelta(seconds=-30), "just now"),
    ],
)
def test_humanize_duration(value: dt.timedelta, expected: str) -> None:
    assert humanize_duration(value) == expected
