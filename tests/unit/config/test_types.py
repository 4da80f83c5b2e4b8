"""The value types of the settings (bot.config.types): durations written like 4h or 1h30m."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import (
    GuildSettings,
    format_duration,
    parse_duration,
)
from tests.unit.config.helpers import H, M

PARSE_CASES: list[tuple[object, dt.timedelta]] = [
    ("4h", 4 * H),
    ("30m", 30 * M),
    ("72h", 72 * H),
    ("7d", dt.timedelta(days=7)),
    ("1h30m", 90 * M),
    ("90s", dt.timedelta(seconds=90)),
    ("1d2h3m4s", dt.timedelta(days=1, hours=2, minutes=3, seconds=4)),
    (" 1h 30m ", 90 * M),
    ("2H", 2 * H),
    ("0s", dt.timedelta(0)),
    (3600, H),
    ("45", dt.timedelta(seconds=45)),
    (0, dt.timedelta(0)),
    (dt.timedelta(minutes=5), 5 * M),
]


@pytest.mark.parametrize(("value", "expected"), PARSE_CASES)
def test_parse_duration(value: object, expected: dt.timedelta) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize(
    "value", ["4 hours", "", "h", "1.5h", "4h30", "30m4h", "-5m", "soon", None, True, 2.5, [1]]
)
def test_parse_duration_rejects_bad_values(value: object) -> None:
    with pytest.raises(ValueError, match=r"invalid duration .*: use forms like 30m, 4h, 7d"):
        parse_duration(value)


def test_parse_duration_limits() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        parse_duration(-1)
    with pytest.raises(ValueError, match="must be at most 365d"):
        parse_duration("999999999d")
    with pytest.raises(ValueError, match="must be at most 365d"):
        parse_duration(10**30)
    assert parse_duration("365d") == dt.timedelta(days=365)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (4 * H, "4h"),
        (90 * M, "1h30m"),
        (30 * M, "30m"),
        (dt.timedelta(days=7), "7d"),
        (72 * H, "3d"),
        (dt.timedelta(seconds=90), "1m30s"),
        (dt.timedelta(days=1, hours=2, minutes=3, seconds=4), "1d2h3m4s"),
        (dt.timedelta(0), "0s"),
        (dt.timedelta(seconds=1, microseconds=999), "1s"),
    ],
)
def test_format_duration(value: dt.timedelta, expected: str) -> None:
    assert format_duration(value) == expected


@given(st.integers(0, 365 * 86_400))
def test_format_then_parse_is_identity(seconds: int) -> None:
    value = dt.timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


def test_durations_serialise_to_compact_strings() -> None:
    g = GuildSettings()
    data = g.as_json()
    assert data["escalation"]["tiers"][0]["after"] == "4h"
    assert data["escalation"]["escalate_after"] == "30m"
    assert data["help"]["dormant_after"] == "3d"
    assert data["leaderboard"]["time"] == "09:00"
    assert GuildSettings.model_validate(g.model_dump()) == g
