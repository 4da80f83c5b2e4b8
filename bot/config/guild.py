"""Per-server settings: what a server's admins can tune, with sensible defaults.

The bot-wide defaults come from the ``[help]``, ``[points]``, ... tables of the
config file; each server stores only the values its admins changed (a small
JSON dict of overrides) and layers them over those defaults with
:meth:`GuildSettings.merged`.  Servers therefore pick up new defaults
automatically, and :meth:`GuildSettings.override_dict` computes what to store.

Every model is frozen (settings objects are shared between tasks, so nobody
may change one in place) and forbids unknown keys (a typo is an error, not a
silently ignored setting).
"""

import copy
import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import (
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.config.errors import format_validation_error, located_errors
from bot.config.types import (
    WEEKDAYS,
    ClockTime,
    Duration,
    LowerCase,
    PositiveDuration,
    SettingsSection,
    Snowflake,
    TierChannel,
    TierRole,
    TimeZoneName,
    Weekday,
    WholeNumber,
)

DEFAULT_WELCOME_MESSAGE = (
    "Thanks for asking! To get help faster:\n"
    "• Say what you expected to happen and what happened instead.\n"
    "• Paste the full error message and a minimal code sample (in a code block).\n"
    "• Mention your versions (language, library, OS)."
)

Points = Annotated[WholeNumber, Field(ge=0, le=10_000)]
"""A points amount or cap: a whole number from 0 to 10,000."""

TagName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
"""A forum tag name (Discord allows at most 20 characters)."""

CloseReason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
"""One choice of the close-reason menu (Discord menu labels hold at most 100 characters)."""


class HelpSettings(SettingsSection):
    """How help threads look and when they go quiet."""

    dormant_after: PositiveDuration = dt.timedelta(hours=72)
    welcome_message: Annotated[str, Field(max_length=1500)] = DEFAULT_WELCOME_MESSAGE
    solved_emoji: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] = "✅"
    solved_tag: TagName = "Solved"
    unanswered_tag: TagName = "Unanswered"
    solved_prefix: Annotated[str, Field(max_length=20)] = "✅ "
    close_reasons: Annotated[list[CloseReason], Field(min_length=1, max_length=25)] = [
        "solved",
        "duplicate",
        "stale",
        "off-topic",
    ]

    @field_validator("close_reasons")
    @classmethod
    def _close_reasons_are_distinct(cls, reasons: list[str]) -> list[str]:
        """Refuse a close reason listed twice (ignoring case): the menu would show it twice."""
        seen: dict[str, int] = {}
        problems: list[tuple[tuple[int | str, ...], str]] = []
        for index, reason in enumerate(reasons):
            first = seen.setdefault(reason.casefold(), index)
            if first != index:
                problems.append(((index,), f"repeats close_reasons[{first}]"))
        if problems:
            raise located_errors("close_reasons", problems)
        return reasons


class PointsSettings(SettingsSection):
    """How many points helpers earn, and the limits that keep the leaderboard fair."""

    solution: Points = 10
    assist_enabled: bool = True
    assist: Points = 2
    assist_daily_cap: Points = 10
    reuse: Points = 5
    pair_cap: Points = 3
    pair_window: PositiveDuration = dt.timedelta(days=7)
    excluded_roles: Annotated[list[Snowflake], Field(max_length=100)] = []

    @model_validator(mode="after")
    def _daily_cap_allows_one_assist(self) -> Self:
        """A daily cap below a single assist award would make assists worth nothing."""
        if self.assist_enabled and self.assist_daily_cap < self.assist:
            message = f"must be at least assist ({self.assist}) when assist_enabled is true"
            raise located_errors("PointsSettings", [(("assist_daily_cap",), message)])
        return self


class Tier(SettingsSection):
    """One escalation step: after ``after`` without an answer, ping ``role`` in ``channel``."""

    after: PositiveDuration
    role: TierRole
    channel: TierChannel = "escalation"


class QuietHours(SettingsSection):
    """A daily window (server time zone) in which escalations wait instead of pinging people.

    ``start`` is inclusive and ``end`` exclusive; ``start`` later than ``end``
    means the window wraps past midnight (``22:00`` to ``07:00``).  The rule
    itself is :class:`bot.domain.escalation.QuietWindow`.
    """

    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        """Equal start and end would be an empty (or whole-day) window; neither is meant."""
        if self.start == self.end:
            raise located_errors("QuietHours", [(("end",), "must differ from start")])
        return self


def _default_tiers() -> list[Tier]:
    """Helpers after 4 hours, staff after a day, both in the escalation channel."""
    return [
        Tier(after=dt.timedelta(hours=4), role="helper", channel="escalation"),
        Tier(after=dt.timedelta(hours=24), role="staff", channel="escalation"),
    ]


class EscalationSettings(SettingsSection):
    """When unanswered questions are brought to helpers' and maintainers' attention."""

    enabled: bool = True
    tiers: Annotated[list[Tier], Field(min_length=1, max_length=5)] = Field(default_factory=_default_tiers)
    escalate_after: Duration = dt.timedelta(minutes=30)
    # One `/escalate` per member per this long, across all their threads ("0s": no cooldown).
    escalate_cooldown: Duration = dt.timedelta(minutes=30)
    quiet_hours: QuietHours | None = None
    sweep_interval: PositiveDuration = dt.timedelta(minutes=2)

    @field_validator("tiers")
    @classmethod
    def _tiers_grow_longer(cls, tiers: list[Tier]) -> list[Tier]:
        """Each tier must wait longer than the one before, or the later one would never fire first."""
        problems: list[tuple[tuple[int | str, ...], str]] = [
            ((index, "after"), f"must be longer than tiers[{index - 1}].after")
            for index in range(1, len(tiers))
            if tiers[index].after <= tiers[index - 1].after
        ]
        if problems:
            raise located_errors("tiers", problems)
        return tiers


class LeaderboardSettings(SettingsSection):
    """The weekly helper leaderboard post."""

    enabled: bool = True
    weekday: Weekday = "monday"
    time: ClockTime = dt.time(9, 0)
    size: Annotated[WholeNumber, Field(ge=1, le=25)] = 10
    post_empty_week: bool = True
    health_report: bool = False

    @property
    def weekday_index(self) -> int:
        """The weekday as ``datetime.weekday()`` numbers it (Monday is 0)."""
        return WEEKDAYS.index(self.weekday)


class SimilarSettings(SettingsSection):
    """Suggestions of similar, already solved threads when someone asks a question."""

    enabled: bool = True
    max_suggestions: Annotated[WholeNumber, Field(ge=0, le=5)] = 3
    # bot.domain.matching.DEFAULT_MIN_SCORE, tuned by `python -m benchmarks.similar`.
    threshold: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.4
    scope: Annotated[Literal["all", "channel"], LowerCase] = "all"


class StatsSettings(SettingsSection):
    """Who may see help-channel statistics."""

    visibility: Annotated[Literal["staff", "everyone"], LowerCase] = "staff"


class ServerSections(SettingsSection):
    """The settings a server can tune, declared once: the bot-wide defaults (``Settings``) and each
    server's own settings (:class:`GuildSettings`) are both made of these."""

    timezone: TimeZoneName = "UTC"
    help: HelpSettings = HelpSettings()
    points: PointsSettings = PointsSettings()
    escalation: EscalationSettings = EscalationSettings()
    leaderboard: LeaderboardSettings = LeaderboardSettings()
    similar: SimilarSettings = SimilarSettings()
    stats: StatsSettings = StatsSettings()


class GuildSettings(ServerSections):
    """Everything one server can tune; defaults come from the config file's server tables."""

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The server's time zone, ready for ``datetime.astimezone``."""
        return zoneinfo.ZoneInfo(self.timezone)

    def as_json(self) -> dict[str, Any]:
        """All settings as JSON-ready data (durations as ``"4h"``, times as ``"09:00"``)."""
        return self.model_dump(mode="json")

    def merged(self, overrides: Mapping[str, Any]) -> "GuildSettings":
        """These settings with a server's stored ``overrides`` deep-merged on top, re-validated.

        Tables merge key by key; lists and plain values replace what was there
        (so ``escalation.tiers`` is replaced as a whole).  A ``None`` replaces too,
        which is how ``escalation.quiet_hours`` is switched back off.  Raises
        ``pydantic.ValidationError`` for bad overrides (explain it with
        :func:`format_validation_error`); ``TypeError`` if ``overrides`` is not a mapping.
        """
        if not isinstance(overrides, Mapping):
            raise TypeError(f"overrides must be a mapping, not {type(overrides).__name__}")
        return GuildSettings.model_validate(deep_merge(self.as_json(), overrides))

    def merged_lenient(self, overrides: object) -> tuple["GuildSettings", list[str]]:
        """Like :meth:`merged`, but drops bad overrides instead of failing, and says which.

        Meant for loading stored overrides at runtime: a value that a newer
        version no longer accepts (or a setting that was removed) should not
        take a whole server offline.  Returns the settings and the problem lines.
        """
        if not isinstance(overrides, Mapping):
            return self, [f"overrides must be a table of settings, not {type(overrides).__name__}"]
        remaining: dict[str, Any] = copy.deepcopy(dict(overrides))
        problems: list[str] = []
        while True:
            try:
                return self.merged(remaining), problems
            except ValidationError as err:
                problems.extend(line for line in format_validation_error(err) if line not in problems)
                if not _drop_failing_overrides(remaining, err):
                    return self, problems

    def override_dict(self, base: "GuildSettings") -> dict[str, Any]:
        """Only the settings that differ from ``base``, as JSON-ready nested data.

        ``base.merged(settings.override_dict(base)) == settings`` always holds,
        so storing this dict keeps a server's changes while leaving every other
        setting to follow ``base`` (the bot-wide defaults) as they evolve.
        """
        return json_difference(self.as_json(), base.as_json())


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: ``base`` with ``overrides`` laid over it, recursing where both sides are tables."""
    result = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        current = result.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            result[key] = deep_merge(current, value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def json_difference(current: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """The smallest nested dict that :func:`deep_merge` turns ``base`` back into ``current``."""
    difference: dict[str, Any] = {}
    for key, value in current.items():
        previous = base.get(key, _MISSING)
        if isinstance(value, Mapping) and isinstance(previous, Mapping):
            nested = json_difference(value, previous)
            if nested:
                difference[key] = nested
        elif value != previous:
            difference[key] = copy.deepcopy(value)
    return difference


_MISSING = object()


def _drop_failing_overrides(overrides: dict[str, Any], err: ValidationError) -> bool:
    """Remove the overrides blamed by ``err``; False when none could be found to remove.

    For each error, the deepest overridden table key on the error's path is
    dropped (lists are replaced as a whole, so the walk stops at them).  When an
    error points at a key the overrides never set (a cross-field rule), the
    whole overridden section it lives in is dropped instead.
    """
    dropped = False
    for error in err.errors(include_url=False, include_input=False):
        location = [part for part in error.get("loc", ()) if isinstance(part, str | int)]
        dropped = _drop_along(overrides, location) or dropped
    return dropped


def _drop_along(overrides: dict[str, Any], location: list[str | int]) -> bool:
    """Delete the deepest key of ``overrides`` lying on ``location`` (or its top section)."""
    if not location or not isinstance(location[0], str) or location[0] not in overrides:
        return False
    table: dict[str, Any] = overrides
    key = location[0]
    for part in location[1:]:
        child = table.get(key)
        if not isinstance(child, dict) or not isinstance(part, str) or part not in child:
            break
        table, key = child, part
    del table[key]
    return True
