"""Durations written for people in chat (config values have their own compact form in bot.config)."""

from __future__ import annotations

import datetime as dt


def humanize_duration(value: dt.timedelta) -> str:
    """Describe a duration for people in chat: ``"3 days"``, ``"1 day 4 h"``, ``"4 h 5 min"``, ``"45 min"``.

    Precision drops as durations grow (days and hours, or hours and minutes),
    and anything under a minute, including negative values, is ``"just now"``.
    """
    total = int(value.total_seconds())
    if total < 60:
        return "just now"
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        parts = [f"{days} day" if days == 1 else f"{days} days"] + ([f"{hours} h"] if hours else [])
    elif hours:
        parts = [f"{hours} h"] + ([f"{minutes} min"] if minutes else [])
    else:
        parts = [f"{minutes} min"]
    return " ".join(parts)
