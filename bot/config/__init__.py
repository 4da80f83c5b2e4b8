"""Configuration for Unstuck: bot-wide settings and per-server settings.

* :func:`load_settings` reads ``config.toml`` with ``UNSTUCK_*`` environment
  overrides (the token only from ``DISCORD_TOKEN``) into :class:`Settings`.
* :class:`GuildSettings` is what one server can tune; start from
  ``settings.guild_defaults()`` and layer a server's stored overrides with
  :meth:`GuildSettings.merged`; store :meth:`GuildSettings.override_dict`.
* :func:`check_config_file` and :func:`format_validation_error` explain
  problems as ``<dotted.key.path>: <reason>`` lines.
"""

from bot.config.check import check_config_data, check_config_file
from bot.config.errors import ConfigError, format_location, format_validation_error
from bot.config.guild import (
    DEFAULT_WELCOME_MESSAGE,
    EscalationSettings,
    GuildSettings,
    HelpSettings,
    LeaderboardSettings,
    PointsSettings,
    QuietHours,
    SimilarSettings,
    StatsSettings,
    Tier,
    deep_merge,
)
from bot.config.settings import (
    DEFAULT_CONFIG_PATH,
    TOKEN_ENV_VAR,
    DatabaseSettings,
    IntentsSettings,
    LoggingSettings,
    Settings,
    ShardingSettings,
    load_settings,
    mask_url_password,
    read_config_file,
    settings_from_data,
    settings_summary,
)
from bot.config.types import (
    MAX_DURATION,
    WEEKDAYS,
    ClockTime,
    Duration,
    PositiveDuration,
    Snowflake,
    TimeZoneName,
    Weekday,
    format_clock_time,
    format_duration,
    parse_clock_time,
    parse_duration,
)

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_WELCOME_MESSAGE",
    "MAX_DURATION",
    "TOKEN_ENV_VAR",
    "WEEKDAYS",
    "ClockTime",
    "ConfigError",
    "DatabaseSettings",
    "Duration",
    "EscalationSettings",
    "GuildSettings",
    "HelpSettings",
    "IntentsSettings",
    "LeaderboardSettings",
    "LoggingSettings",
    "PointsSettings",
    "PositiveDuration",
    "QuietHours",
    "Settings",
    "ShardingSettings",
    "SimilarSettings",
    "Snowflake",
    "StatsSettings",
    "Tier",
    "TimeZoneName",
    "Weekday",
    "check_config_data",
    "check_config_file",
    "deep_merge",
    "format_clock_time",
    "format_duration",
    "format_location",
    "format_validation_error",
    "load_settings",
    "mask_url_password",
    "parse_clock_time",
    "parse_duration",
    "read_config_file",
    "settings_from_data",
    "settings_summary",
]
