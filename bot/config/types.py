"""Value types shared by the configuration models.

Each type here turns a friendly, hand-written value (``"4h"``, ``"09:00"``,
``"Monday"``, ``"Europe/Berlin"``) into a checked Python value and back, and
explains a bad value in one short, polite sentence.  The same types validate
the TOML file, ``UNSTUCK_*`` environment variables and per-server overrides
stored as JSON, so every source gets the same rules and the same messages.
"""

import datetime as dt
import functools
import re
import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic_core import PydanticCustomError

MAX_DURATION = dt.timedelta(days=365)
"""The longest duration any setting accepts; also keeps date arithmetic far from overflow."""

MAX_SNOWFLAKE = 2**63 - 1
"""Discord ids are unsigned 64-bit, but TOML and most databases top out at signed 64-bit."""

WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""Weekday names in ``datetime.weekday()`` order (Monday is 0)."""

_DURATION_UNITS: tuple[tuple[str, int], ...] = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))
_DURATION_RE = re.compile(
    r"\s*(?:(?P<d>\d{1,9})\s*d)?\s*(?:(?P<h>\d{1,9})\s*h)?\s*(?:(?P<m>\d{1,9})\s*m)?\s*(?:(?P<s>\d{1,9})\s*s)?\s*",
    re.IGNORECASE,
)
_CLOCK_RE = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_SHOWN_VALUE_LIMIT = 40


def printable(text: str) -> str:
    """Escape line breaks and other invisible characters, so a message stays one readable line."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text
    )


def show_value(value: object) -> str:
    """Render a user-supplied value for an error message, shortened so junk cannot flood the output."""
    text = printable(value if isinstance(value, str) else repr(value))
    if len(text) > _SHOWN_VALUE_LIMIT:
        text = text[: _SHOWN_VALUE_LIMIT - 1] + "…"
    return text


# --------------------------------------------------------------------------- durations


def _invalid_duration(value: object) -> PydanticCustomError:
    """The one message every unparseable duration gets, naming the accepted forms."""
    return PydanticCustomError(
        "duration",
        "invalid duration '{value}': use forms like 30m, 4h, 7d",
        {"value": show_value(value)},
    )


def _too_long() -> PydanticCustomError:
    """The message for durations past :data:`MAX_DURATION`."""
    return PydanticCustomError("duration_too_long", "must be at most {limit}", {"limit": "365d"})


def _seconds_from_text(text: str) -> int:
    """Parse ``"1h30m"``-style text (or bare digits, meaning seconds) into whole seconds."""
    if text.strip().isdecimal():
        return int(text.strip()) if len(text.strip()) <= 12 else 10**12
    match = _DURATION_RE.fullmatch(text)
    if match is None or not any(match.groupdict().values()):
        raise _invalid_duration(text)
    return sum(int(match[unit]) * size for unit, size in _DURATION_UNITS if match[unit])


def _seconds_to_timedelta(seconds: int) -> dt.timedelta:
    """Range-check whole seconds (before ``timedelta`` could overflow) and convert them."""
    if seconds < 0:
        raise PydanticCustomError("duration_negative", "must not be negative")
    if seconds > MAX_DURATION.total_seconds():
        raise _too_long()
    return dt.timedelta(seconds=seconds)


def parse_duration(value: object) -> dt.timedelta:
    """Turn a duration setting (``"4h"``, ``"1h30m"``, ``90``, a timedelta) into a timedelta.

    Integers count seconds.  Negative and absurdly long values are refused here,
    once, so no setting has to repeat those checks.  Raises ``PydanticCustomError``
    (a ``ValueError``) with a message meant for the person who wrote the value.
    """
    if isinstance(value, dt.timedelta):
        if value < dt.timedelta(0):
            raise PydanticCustomError("duration_negative", "must not be negative")
        if value > MAX_DURATION:
            raise _too_long()
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return _seconds_to_timedelta(value)
    if isinstance(value, str):
        return _seconds_to_timedelta(_seconds_from_text(value))
    raise _invalid_duration(value)


def format_duration(value: dt.timedelta) -> str:
    """Write a timedelta in the compact form the config uses: ``"4h"``, ``"1h30m"``, ``"7d"``, ``"0s"``.

    The output always parses back to the same whole number of seconds
    (sub-second parts are dropped), so it is safe for storing overrides.
    """
    total = int(value.total_seconds())
    sign, total = ("-", -total) if total < 0 else ("", total)
    parts: list[str] = []
    for unit, size in _DURATION_UNITS:
        amount, total = divmod(total, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return sign + ("".join(parts) or "0s")


def _require_positive(value: dt.timedelta) -> dt.timedelta:
    """Refuse a zero duration where "wait zero time" makes no sense (tiers, sweeps, windows)."""
    if value <= dt.timedelta(0):
        raise PydanticCustomError("duration_not_positive", "must be longer than zero")
    return value


Duration = Annotated[
    dt.timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]
"""A non-negative duration written as ``"30m"``, ``"4h"``, ``"7d"``, ``"1h30m"``, ``"90s"`` or seconds."""

PositiveDuration = Annotated[Duration, AfterValidator(_require_positive)]
"""A :data:`Duration` that must be longer than zero."""


# --------------------------------------------------------------------------- clock times


def parse_clock_time(value: object) -> dt.time:
    """Turn ``"09:00"`` (24-hour ``HH:MM``) or a TOML local time into a ``datetime.time``."""
    if isinstance(value, dt.time) and value.tzinfo is None and not (value.second or value.microsecond):
        return value
    if isinstance(value, str) and (match := _CLOCK_RE.fullmatch(value.strip())):
        return dt.time(int(match[1]), int(match[2]))
    raise PydanticCustomError(
        "clock_time",
        "invalid time '{value}': use 24-hour HH:MM, like 09:00",
        {"value": show_value(value)},
    )


def format_clock_time(value: dt.time) -> str:
    """Write a clock time as ``"HH:MM"``, the form the config file uses."""
    return value.strftime("%H:%M")


ClockTime = Annotated[
    dt.time,
    BeforeValidator(parse_clock_time),
    PlainSerializer(format_clock_time, return_type=str),
]
"""A time of day written as 24-hour ``"HH:MM"``; stored as ``datetime.time``."""


# --------------------------------------------------------------------------- names


def parse_weekday(value: object) -> str:
    """Accept a weekday name in any case and store it lower-case."""
    if isinstance(value, str) and value.strip().lower() in WEEKDAYS:
        return value.strip().lower()
    raise PydanticCustomError(
        "weekday", "unknown weekday '{value}': use monday..sunday", {"value": show_value(value)}
    )


Weekday = Annotated[str, BeforeValidator(parse_weekday)]
"""A weekday name, ``"monday"`` to ``"sunday"``, stored lower-case."""


@functools.lru_cache(maxsize=1)
def _zone_names_by_folded_case() -> dict[str, str]:
    """Map lower-cased IANA zone names to their proper spelling (computed once, it scans tzdata)."""
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def _zone_exists(name: str) -> bool:
    """Whether ``zoneinfo`` can load ``name``; any failure (bad key, odd path, missing file) means no."""
    try:
        zoneinfo.ZoneInfo(name)
    except Exception:
        return False
    return True


def parse_timezone(value: object) -> str:
    """Check an IANA time zone name (``"Europe/Berlin"``), fixing only its letter case."""
    if isinstance(value, str):
        name = value.strip()
        if name and len(name) < 100:
            if _zone_exists(name):
                return name
            canonical = _zone_names_by_folded_case().get(name.casefold())
            if canonical is not None and _zone_exists(canonical):
                return canonical
    raise PydanticCustomError("timezone", "unknown time zone '{value}'", {"value": show_value(value)})


TimeZoneName = Annotated[str, BeforeValidator(parse_timezone)]
"""An IANA time zone name that ``zoneinfo`` can load, such as ``"UTC"`` or ``"America/New_York"``."""


# --------------------------------------------------------------------------- numbers and ids


def _reject_bool(value: Any) -> Any:
    """Refuse ``true``/``false`` where a number is meant; pydantic would quietly read them as 1 and 0."""
    if isinstance(value, bool):
        raise PydanticCustomError("bool_as_number", "must be a whole number, not true or false")
    return value


def _snowflake_from_text(value: Any) -> Any:
    """Accept Discord ids written as digit strings (JSON and env vars often carry them that way)."""
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 20:
        return int(value.strip())
    return _reject_bool(value)


WholeNumber = Annotated[int, BeforeValidator(_reject_bool)]
"""An integer that refuses booleans; add ``Field(ge=..., le=...)`` for its range."""


Snowflake = Annotated[int, BeforeValidator(_snowflake_from_text), Field(ge=1, le=MAX_SNOWFLAKE)]
"""A Discord id (role, channel, ...): a positive integer, also accepted as a digit string."""


def _tier_target(keywords: tuple[str, ...], what: str) -> Any:
    """Build a validator accepting one of ``keywords`` (any case) or a Discord id, with one clear message."""

    def validate(value: object) -> str | int:
        if isinstance(value, str) and value.strip().lower() in keywords:
            return value.strip().lower()
        if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 19:
            value = int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_SNOWFLAKE:
            return value
        choices = ", ".join(f"'{word}'" for word in keywords)
        raise PydanticCustomError(
            "tier_target",
            "invalid {what} '{value}': use {choices} or a {what} id",
            {"what": what, "value": show_value(value), "choices": choices},
        )

    return BeforeValidator(validate)


TierRole = Annotated[Literal["helper", "staff"] | int, _tier_target(("helper", "staff"), "role")]
"""Whom a tier pings: ``"helper"``/``"staff"`` (the server's configured role) or a role id."""

TierChannel = Annotated[Literal["escalation"] | int, _tier_target(("escalation",), "channel")]
"""Where a tier posts: ``"escalation"`` (the server's escalation channel) or a channel id."""


def _lower(value: Any) -> Any:
    """Lower-case text before a choice check so ``"Everyone"`` and ``"everyone"`` both work."""
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    """Upper-case text before a choice check (log levels are conventionally upper-case)."""
    return value.strip().upper() if isinstance(value, str) else value


LowerCase = BeforeValidator(_lower)
UpperCase = BeforeValidator(_upper)


class SettingsSection(BaseModel):
    """Base of every settings table: frozen (settings objects are shared, never edited in place),
    rejecting unknown keys (a typo must be an error, not a silently ignored setting), and
    validating defaults too (so a wrong default fails the tests, not a server)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
