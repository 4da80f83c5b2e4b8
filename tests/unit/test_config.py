"""Tests for the configuration layer (bot.config): loading, precedence, validation messages, overrides."""

import datetime as dt
import json
import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.config import (
    DEFAULT_WELCOME_MESSAGE,
    ConfigError,
    DatabaseSettings,
    GuildSettings,
    QuietHours,
    Settings,
    Tier,
    check_config_data,
    check_config_file,
    format_duration,
    format_validation_error,
    load_settings,
    parse_duration,
    settings_from_data,
    settings_summary,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = REPO_ROOT / "config.example.toml"
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.super-secret-token-value"

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def write_config(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    """Write a config file for one test and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_for(tmp_path: Path, text: str, env: Mapping[str, str] | None = None) -> list[str]:
    """The checker's lines for a config text, with an empty environment unless given."""
    return check_config_file(write_config(tmp_path, text), env={} if env is None else env)


# --------------------------------------------------------------------------- defaults


def test_guild_defaults_match_the_documented_values() -> None:
    g = GuildSettings()
    assert g.timezone == "UTC"
    assert g.help.dormant_after == 72 * H
    assert g.help.welcome_message == DEFAULT_WELCOME_MESSAGE
    assert len(g.help.welcome_message) <= 1500
    assert (g.help.solved_emoji, g.help.solved_tag, g.help.unanswered_tag) == ("✅", "Solved", "Unanswered")
    assert g.help.solved_prefix == "✅ "
    assert g.help.close_reasons == ["solved", "duplicate", "stale", "off-topic"]
    p = g.points
    assert (p.solution, p.assist_enabled, p.assist, p.assist_daily_cap, p.reuse) == (10, True, 2, 10, 5)
    assert (p.pair_cap, p.pair_window, p.excluded_roles) == (3, dt.timedelta(days=7), [])
    e = g.escalation
    assert e.enabled is True
    assert e.tiers == [
        Tier(after=4 * H, role="helper", channel="escalation"),
        Tier(after=24 * H, role="staff", channel="escalation"),
    ]
    assert (e.escalate_after, e.quiet_hours, e.sweep_interval) == (30 * M, None, 2 * M)
    lb = g.leaderboard
    assert (lb.enabled, lb.weekday, lb.time, lb.size) == (True, "monday", dt.time(9, 0), 10)
    assert (lb.post_empty_week, lb.health_report, lb.weekday_index) == (True, False, 0)
    s = g.similar
    assert (s.enabled, s.max_suggestions, s.threshold, s.scope) == (True, 3, 0.4, "all")
    assert g.stats.visibility == "staff"
    assert str(g.zone) == "UTC"


def test_bot_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.toml here: all defaults, no error
    s = load_settings(None, env={})
    assert s.database.url == "sqlite+aiosqlite:///unstuck.db"
    assert s.database.echo is False
    assert s.logging.level == "INFO"
    assert (s.intents.message_content, s.intents.members) == (True, True)
    assert (s.sharding.shard_count, s.sharding.shard_ids, s.sharding.auto) == (None, None, False)
    assert s.token is None and s.token_value() is None
    assert s.guild_defaults() == GuildSettings()


def test_settings_server_tables_are_exactly_the_guild_settings_fields() -> None:
    bot_wide = {"database", "logging", "intents", "sharding", "token"}
    assert set(Settings.model_fields) - bot_wide == set(GuildSettings.model_fields)


def test_guild_settings_are_immutable() -> None:
    g = GuildSettings()
    with pytest.raises(ValidationError):
        g.points.solution = 99  # type: ignore[misc]


# --------------------------------------------------------------------------- loading


def test_load_settings_reads_toml(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """
timezone = "Europe/Berlin"
[database]
url = "postgresql+asyncpg://bot:pw@db/unstuck"
[logging]
level = "debug"
[sharding]
shard_count = 4
shard_ids = [0, 1]
[help]
dormant_after = "1h30m"
close_reasons = ["solved", "wontfix"]
[points]
excluded_roles = [123456789012345678]
[escalation]
escalate_after = 0
[escalation.quiet_hours]
start = "22:00"
end = "07:00"
[[escalation.tiers]]
after = "30m"
role = 111
channel = 222
[[escalation.tiers]]
after = "2h"
role = "Staff"
[leaderboard]
weekday = "FRIDAY"
time = 17:30:00
[similar]
threshold = 1
scope = "Channel"
[stats]
visibility = "everyone"
""",
    )
    s = load_settings(path, env={})
    assert s.database.url == "postgresql+asyncpg://bot:pw@db/unstuck"
    assert s.logging.level == "DEBUG"
    assert (s.sharding.shard_count, s.sharding.shard_ids) == (4, [0, 1])
    g = s.guild_defaults()
    assert g.timezone == "Europe/Berlin"
    assert g.help.dormant_after == 90 * M
    assert g.help.close_reasons == ["solved", "wontfix"]
    assert g.points.excluded_roles == [123456789012345678]
    assert g.escalation.escalate_after == dt.timedelta(0)
    assert g.escalation.quiet_hours == QuietHours(start=dt.time(22), end=dt.time(7))
    assert g.escalation.tiers == [
        Tier(after=30 * M, role=111, channel=222),
        Tier(after=2 * H, role="staff", channel="escalation"),
    ]
    assert (g.leaderboard.weekday, g.leaderboard.weekday_index) == ("friday", 4)
    assert g.leaderboard.time == dt.time(17, 30)
    assert (g.similar.threshold, g.similar.scope, g.stats.visibility) == (1.0, "channel", "everyone")


def test_load_settings_uses_config_toml_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path, "[points]\nsolution = 42\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings(None, env={}).points.solution == 42


def test_explicit_missing_path_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(missing, env={})
    assert info.value.problems == [f"{missing}: file not found"]


def test_load_settings_reports_every_problem_in_the_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[points]\nsolution = -1\n[leaderboard]\nsize = 99\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert info.value.problems == [
        "points.solution: must be at least 0",
        "leaderboard.size: must be at most 25",
    ]
    assert str(info.value) == "points.solution: must be at least 0\nleaderboard.size: must be at most 25"


def test_timezone_letter_case_is_corrected() -> None:
    assert GuildSettings.model_validate({"timezone": "europe/berlin"}).timezone == "Europe/Berlin"


def test_database_url_password_never_shows_in_repr() -> None:
    db = DatabaseSettings(url="postgresql+asyncpg://bot:hunter2@db:5432/unstuck")
    assert "hunter2" not in repr(db) and "hunter2" not in str(db)
    assert db.safe_url == "postgresql+asyncpg://bot:***@db:5432/unstuck"
    assert db.url.endswith("bot:hunter2@db:5432/unstuck")  # still usable for connecting


# --------------------------------------------------------------------------- environment


def test_environment_beats_file_beats_defaults_in_nested_tables(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """
[database]
url = "sqlite+aiosqlite:///file.db"
echo = true
[logging]
level = "WARNING"
[points]
solution = 15
assist = 3
""",
    )
    env = {
        "UNSTUCK_DATABASE__URL": "postgresql+asyncpg://u@h/env",
        "UNSTUCK_LOGGING__LEVEL": "debug",
        "UNSTUCK_INTENTS__MESSAGE_CONTENT": "false",
        "UNSTUCK_POINTS__SOLUTION": "20",
        "UNSTUCK_SHARDING__SHARD_COUNT": "2",
        "UNSTUCK_SHARDING__SHARD_IDS": "[1]",
        "UNSTUCK_ESCALATION__TIERS": '[{"after": "1h", "role": "staff"}]',
        "UNSTUCK_TIMEZONE": "Asia/Tokyo",
    }
    s = load_settings(path, env=env)
    assert s.database.url == "postgresql+asyncpg://u@h/env"  # env beats file
    assert s.database.echo is True  # file value kept beside the env override
    assert s.logging.level == "DEBUG"
    assert s.intents.message_content is False  # env beats default
    assert s.intents.members is True
    assert (s.points.solution, s.points.assist) == (20, 3)
    assert (s.sharding.shard_count, s.sharding.shard_ids) == (2, [1])
    assert s.escalation.tiers == [Tier(after=H, role="staff", channel="escalation")]
    assert s.timezone == "Asia/Tokyo"


def test_environment_variable_names_are_case_insensitive_and_blanks_ignored(tmp_path: Path) -> None:
    env = {"unstuck_logging__level": "error", "UNSTUCK_DATABASE__URL": ""}
    s = load_settings(write_config(tmp_path, ""), env=env)
    assert s.logging.level == "ERROR"
    assert s.database.url == "sqlite+aiosqlite:///unstuck.db"


def test_bad_environment_values_are_reported_and_attributed(tmp_path: Path) -> None:
    env = {
        "UNSTUCK_POINTS__SOLUTION": "lots",
        "UNSTUCK_SHARDING__SHARD_IDS": "[0,",
        "UNSTUCK_POINTS__SOLUTON": "3",
    }
    assert problems_for(tmp_path, "", env) == [
        "sharding.shard_ids: must be a list (from environment variable UNSTUCK_SHARDING__SHARD_IDS)",
        "points.solution: must be a whole number (from environment variable UNSTUCK_POINTS__SOLUTION)",
        "points.soluton: unknown setting (from environment variable UNSTUCK_POINTS__SOLUTON)",
    ]


# --------------------------------------------------------------------------- the token


def test_token_comes_only_from_discord_token(tmp_path: Path) -> None:
    s = load_settings(write_config(tmp_path, ""), env={"DISCORD_TOKEN": f"  {TOKEN}\n"})
    assert s.token_value() == TOKEN
    other = load_settings(write_config(tmp_path, ""), env={"UNSTUCK_TOKEN": TOKEN})
    assert other.token_value() is None
    assert load_settings(write_config(tmp_path, ""), env={"DISCORD_TOKEN": ""}).token_value() is None


def test_token_never_appears_in_repr_str_dump_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = load_settings(write_config(tmp_path, ""), env={"DISCORD_TOKEN": TOKEN})
    renderings = [
        repr(s),
        str(s),
        repr(s.token),
        str(s.token),
        str(s.model_dump()),
        str(s.model_dump(mode="json")),
        s.model_dump_json(),
        settings_summary(s),
        f"{s}",
        f"{s!r}",
    ]
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("unstuck.test").info("settings: %s %r", s, s)
    renderings.append(caplog.text)
    for text in renderings:
        assert TOKEN not in text
    assert "token" not in s.model_dump()
    assert '"token": "(set)"' in settings_summary(s)


@pytest.mark.parametrize("key", ["token", "TOKEN", "discord_token", "DISCORD_TOKEN"])
def test_token_in_the_file_is_an_error(tmp_path: Path, key: str) -> None:
    text = f'{key} = "{TOKEN}"\n[points]\nsolution = -5\n'
    problems = problems_for(tmp_path, text, env={"DISCORD_TOKEN": "env-token"})
    assert problems == [
        f"{key}: the token is read only from the DISCORD_TOKEN environment variable; remove it from the file",
        "points.solution: must be at least 0",
    ]
    assert all(TOKEN not in line for line in problems)


# --------------------------------------------------------------------------- error messages

ERROR_CASES: list[tuple[str, str]] = [
    ('timezone = "Mars/Base"', "timezone: unknown time zone 'Mars/Base'"),
    ('[help]\ndormant_afterr = "3d"', "help.dormant_afterr: unknown setting"),
    (
        '[help]\ndormant_after = "4 hours"',
        "help.dormant_after: invalid duration '4 hours': use forms like 30m, 4h, 7d",
    ),
    ('[help]\ndormant_after = "0s"', "help.dormant_after: must be longer than zero"),
    ("[help]\ndormant_after = -5", "help.dormant_after: must not be negative"),
    ('[help]\ndormant_after = "400d"', "help.dormant_after: must be at most 365d"),
    ("[help]\ndormant_after = 1.5", "help.dormant_after: invalid duration '1.5': use forms like 30m, 4h, 7d"),
    (
        '[help]\nwelcome_message = "' + "x" * 1501 + '"',
        "help.welcome_message: must be at most 1500 characters",
    ),
    ('[help]\nsolved_tag = ""', "help.solved_tag: must not be empty"),
    ('[help]\nsolved_tag = "' + "t" * 21 + '"', "help.solved_tag: must be at most 20 characters"),
    ("[help]\nclose_reasons = []", "help.close_reasons: must have at least 1 item"),
    ('[help]\nclose_reasons = ["stale", "Stale"]', "help.close_reasons[1]: repeats close_reasons[0]"),
    ("[help]\nsolved_emoji = 5", "help.solved_emoji: must be text"),
    ("[points]\nsolution = -1", "points.solution: must be at least 0"),
    ('[points]\nsolution = "ten"', "points.solution: must be a whole number"),
    ("[points]\nsolution = true", "points.solution: must be a whole number, not true or false"),
    ("[points]\nsolution = 99999999", "points.solution: must be at most 10000"),
    ('[points]\nassist_enabled = "maybe"', "points.assist_enabled: must be true or false"),
    (
        "[points]\nassist = 5\nassist_daily_cap = 4",
        "points.assist_daily_cap: must be at least assist (5) when assist_enabled is true",
    ),
    ("[points]\nexcluded_roles = [0]", "points.excluded_roles[0]: must be at least 1"),
    ("[points]\nexcluded_roles = 5", "points.excluded_roles: must be a list"),
    ('[points]\npair_window = "0m"', "points.pair_window: must be longer than zero"),
    (
        '[[escalation.tiers]]\nafter = "4h"\nrole = "helper"\n'
        '[[escalation.tiers]]\nafter = "2h"\nrole = "staff"',
        "escalation.tiers[1].after: must be longer than tiers[0].after",
    ),
    ("[escalation]\ntiers = []", "escalation.tiers: must have at least 1 item"),
    (
        "[escalation]\ntiers = "
        + str([{"after": f"{n}h", "role": "staff"} for n in range(1, 7)]).replace(":", "="),
        "escalation.tiers: must have at most 5 items",
    ),
    (
        '[[escalation.tiers]]\nafter = "0s"\nrole = "staff"',
        "escalation.tiers[0].after: must be longer than zero",
    ),
    ('[[escalation.tiers]]\nrole = "staff"', "escalation.tiers[0].after: is required"),
    (
        '[[escalation.tiers]]\nafter = "1h"\nrole = "boss"',
        "escalation.tiers[0].role: invalid role 'boss': use 'helper', 'staff' or a role id",
    ),
    (
        '[[escalation.tiers]]\nafter = "1h"\nrole = "staff"\nchannel = "general"',
        "escalation.tiers[0].channel: invalid channel 'general': use 'escalation' or a channel id",
    ),
    (
        '[[escalation.tiers]]\nafter = "1h"\nrole = "staff"\nping = true',
        "escalation.tiers[0].ping: unknown setting",
    ),
    ('[escalation]\ntiers = ["4h"]', "escalation.tiers[0]: must be a table of settings"),
    (
        '[escalation.quiet_hours]\nstart = "22:00"\nend = "22:00"',
        "escalation.quiet_hours.end: must differ from start",
    ),
    ('[escalation.quiet_hours]\nstart = "22:00"', "escalation.quiet_hours.end: is required"),
    (
        '[escalation.quiet_hours]\nstart = "10pm"\nend = "07:00"',
        "escalation.quiet_hours.start: invalid time '10pm': use 24-hour HH:MM, like 09:00",
    ),
    ("[escalation]\nsweep_interval = 0", "escalation.sweep_interval: must be longer than zero"),
    ("[escalation]\nenabled = 1.5", "escalation.enabled: must be true or false"),
    (
        '[leaderboard]\nweekday = "funday"',
        "leaderboard.weekday: unknown weekday 'funday': use monday..sunday",
    ),
    (
        '[leaderboard]\ntime = "24:00"',
        "leaderboard.time: invalid time '24:00': use 24-hour HH:MM, like 09:00",
    ),
    ("[leaderboard]\nsize = 0", "leaderboard.size: must be at least 1"),
    ("[leaderboard]\nsize = 26", "leaderboard.size: must be at most 25"),
    ("[similar]\nmax_suggestions = 6", "similar.max_suggestions: must be at most 5"),
    ("[similar]\nthreshold = 1.5", "similar.threshold: must be at most 1.0"),
    ("[similar]\nthreshold = nan", "similar.threshold: must be a finite number"),
    ('[similar]\nscope = "server"', "similar.scope: must be 'all' or 'channel'"),
    ('[stats]\nvisibility = "admins"', "stats.visibility: must be 'staff' or 'everyone'"),
    ("stats = 3", "stats: must be a table of settings"),
    ('[logging]\nlevel = "loud"', "logging.level: must be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"),
    (
        '[database]\nurl = "unstuck.db"',
        "database.url: must be a database URL like sqlite+aiosqlite:///unstuck.db",
    ),
    ('[intents]\nmessage_content = "sometimes"', "intents.message_content: must be true or false"),
    ("[sharding]\nshard_ids = [0]", "sharding.shard_ids: requires shard_count"),
    (
        "[sharding]\nshard_count = 2\nshard_ids = [0, 2]",
        "sharding.shard_ids[1]: must be less than shard_count (2)",
    ),
    ("[sharding]\nshard_count = 2\nshard_ids = [1, 1]", "sharding.shard_ids[1]: repeats shard_ids[0]"),
    ("[sharding]\nshard_count = 0", "sharding.shard_count: must be at least 1"),
    ("[sharding]\nshard_count = 2\nshard_ids = []", "sharding.shard_ids: must have at least 1 item"),
    ('colour = "blue"', "colour: unknown setting"),
    ('"odd key" = 1', '"odd key": unknown setting'),
    (
        '[help]\nsolved_tag = "x"\ntimezone = "UTC"',
        "help.timezone: unknown setting (top-level keys like timezone must come before the first [table])",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERROR_CASES, ids=[line for _, line in ERROR_CASES])
def test_each_problem_has_its_exact_message(tmp_path: Path, text: str, expected: str) -> None:
    assert problems_for(tmp_path, text) == [expected]


def test_many_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = """
timezone = "Mars/Base"
[help]
dormant_afterr = "3d"
solved_emojii = "x"
[points]
solution = -1
[[escalation.tiers]]
after = "4h"
role = "helper"
[[escalation.tiers]]
after = "4h"
role = "staff"
[[escalation.tiers]]
after = "1h"
role = "staff"
[leaderboard]
weekday = "funday"
sizes = 3
[stats]
visiblity = "everyone"
[extras]
"""
    assert problems_for(tmp_path, text) == [
        "timezone: unknown time zone 'Mars/Base'",
        "help.dormant_afterr: unknown setting",
        "help.solved_emojii: unknown setting",
        "points.solution: must be at least 0",
        "escalation.tiers[1].after: must be longer than tiers[0].after",
        "escalation.tiers[2].after: must be longer than tiers[1].after",
        "leaderboard.weekday: unknown weekday 'funday': use monday..sunday",
        "leaderboard.sizes: unknown setting",
        "stats.visiblity: unknown setting",
        "extras: unknown setting",
    ]


def test_broken_file_names_each_bad_key(tmp_path: Path) -> None:
    text = """
[database]
uri = "sqlite:///x.db"
[help]
dormant_afterr = "3d"
close_reason = ["a"]
[points]
soluton = 5
asist = 1
[leaderboard]
weekdays = "monday"
[similiar]
enabled = false
"""
    problems = problems_for(tmp_path, text)
    for key in [
        "database.uri",
        "help.dormant_afterr",
        "help.close_reason",
        "points.soluton",
        "points.asist",
        "leaderboard.weekdays",
        "similiar",
    ]:
        assert f"{key}: unknown setting" in problems
    assert len(problems) == 7


def test_reasons_are_short_and_free_of_pydantic_noise(tmp_path: Path) -> None:
    for case, _ in ERROR_CASES:
        for line in problems_for(tmp_path, case):
            assert "type=" not in line and "http" not in line and "Traceback" not in line
            assert "Input should" not in line and "Value error" not in line
            assert len(line) < 200


def test_toml_syntax_error_gives_one_line_with_position(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[points]\nsolution = 10\nassist = = 2\n")
    problems = check_config_file(path, env={})
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: invalid TOML at line 3, column 10: ")
    at_end = write_config(tmp_path, "[points]\nsolution =", name="end.toml")
    assert check_config_file(at_end, env={}) == [
        f"{at_end}: invalid TOML at line 2, column 11: invalid value"
    ]


def test_file_problems_are_single_lines(tmp_path: Path) -> None:
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b'timezone = "\xff\xfe"\n')
    assert check_config_file(binary, env={}) == [f"{binary}: not valid UTF-8 text (bad byte at position 12)"]
    assert check_config_file(tmp_path, env={}) == [f"{tmp_path}: is a directory, not a file"]
    assert check_config_file(tmp_path / "missing.toml", env={}) == [
        f"{tmp_path / 'missing.toml'}: file not found"
    ]
    bom = tmp_path / "bom.toml"
    bom.write_bytes("\ufeff[points]\nsolution = 3\n".encode())
    assert check_config_file(bom, env={}) == []


def test_check_config_data_accepts_any_object() -> None:
    assert check_config_data([1, 2, 3], env={}) == [
        "<config>: the settings must be a table of keys and values"
    ]
    assert check_config_data({"points": [1]}, env={}) == ["points: must be a table of settings"]
    assert check_config_data({}, env={}) == []


def test_format_validation_error_with_prefix() -> None:
    with pytest.raises(ValidationError) as info:
        GuildSettings.model_validate({"points": {"solution": -3, "bogus": 1}})
    assert format_validation_error(info.value) == [
        "points.solution: must be at least 0",
        "points.bogus: unknown setting",
    ]
    with pytest.raises(ValidationError) as info:
        Tier.model_validate({"after": "soon", "role": "staff"})
    assert format_validation_error(info.value, prefix="escalation.tiers[2]") == [
        "escalation.tiers[2].after: invalid duration 'soon': use forms like 30m, 4h, 7d"
    ]


# --------------------------------------------------------------------------- per-server overrides


def test_merged_deep_merges_and_revalidates() -> None:
    base = GuildSettings()
    server = base.merged(
        {
            "timezone": "Europe/Paris",
            "points": {"solution": 25},
            "escalation": {"quiet_hours": {"start": "23:00", "end": "06:30"}},
            "leaderboard": {"weekday": "Sunday"},
        }
    )
    assert server.points.solution == 25
    assert server.points.assist == base.points.assist  # untouched keys keep the base value
    assert server.escalation.tiers == base.escalation.tiers
    assert server.escalation.quiet_hours == QuietHours(start=dt.time(23), end=dt.time(6, 30))
    assert server.leaderboard.weekday == "sunday"
    assert server.merged({"escalation": {"quiet_hours": None}}).escalation.quiet_hours is None
    assert base.points.solution == 10  # the base is not modified
    with pytest.raises(ValidationError) as info:
        base.merged({"points": {"solution": -1}, "leaderboard": {"weekday": "funday"}})
    assert format_validation_error(info.value) == [
        "points.solution: must be at least 0",
        "leaderboard.weekday: unknown weekday 'funday': use monday..sunday",
    ]


def test_override_dict_keeps_only_changes_and_round_trips() -> None:
    base = GuildSettings()
    server = base.merged(
        {
            "help": {"dormant_after": "1h30m", "close_reasons": ["solved"]},
            "escalation": {
                "tiers": [{"after": "2h", "role": 123}],
                "quiet_hours": {"start": "22:00", "end": "07:00"},
            },
            "similar": {"threshold": 0.75},
        }
    )
    overrides = server.override_dict(base)
    assert overrides == {
        "help": {"dormant_after": "1h30m", "close_reasons": ["solved"]},
        "escalation": {
            "tiers": [{"after": "2h", "role": 123, "channel": "escalation"}],
            "quiet_hours": {"start": "22:00", "end": "07:00"},
        },
        "similar": {"threshold": 0.75},
    }
    assert json.loads(json.dumps(overrides)) == overrides
    assert base.merged(overrides) == server
    assert base.override_dict(base) == {}
    assert base.override_dict(server) == {
        "help": {"dormant_after": "3d", "close_reasons": ["solved", "duplicate", "stale", "off-topic"]},
        "escalation": {"tiers": base.as_json()["escalation"]["tiers"], "quiet_hours": None},
        "similar": {"threshold": 0.4},
    }


def test_servers_pick_up_new_defaults_for_unchanged_settings() -> None:
    old_defaults = GuildSettings()
    server = old_defaults.merged({"points": {"solution": 30}})
    stored = server.override_dict(old_defaults)
    new_defaults = old_defaults.merged({"points": {"assist": 4}, "leaderboard": {"size": 15}})
    reloaded = new_defaults.merged(stored)
    assert (reloaded.points.solution, reloaded.points.assist, reloaded.leaderboard.size) == (30, 4, 15)


def test_merged_lenient_drops_only_the_bad_overrides() -> None:
    base = GuildSettings()
    server, problems = base.merged_lenient(
        {
            "points": {"solution": -1, "reuse": 7},
            "help": {"retired_setting": True},
            "escalation": {"tiers": [{"after": "5h", "role": "staff"}, {"after": "1h", "role": "staff"}]},
            "leaderboard": {"size": 20},
        }
    )
    assert (server.points.solution, server.points.reuse, server.leaderboard.size) == (10, 7, 20)
    assert server.escalation.tiers == base.escalation.tiers
    assert problems == [
        "help.retired_setting: unknown setting",
        "points.solution: must be at least 0",
        "escalation.tiers[1].after: must be longer than tiers[0].after",
    ]
    cross_field, problems = base.merged_lenient(
        {"points": {"assist": 50}, "stats": {"visibility": "everyone"}}
    )
    assert cross_field.points == base.points and cross_field.stats.visibility == "everyone"
    assert problems == ["points.assist_daily_cap: must be at least assist (50) when assist_enabled is true"]
    assert base.merged_lenient("garbage") == (base, ["overrides must be a table of settings, not str"])


valid_overrides = st.fixed_dictionaries(
    {},
    optional={
        "timezone": st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
        "help": st.fixed_dictionaries(
            {},
            optional={
                "dormant_after": st.integers(1, 365 * 86_400).map(
                    lambda s: format_duration(dt.timedelta(seconds=s))
                ),
                "solved_tag": st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=20),
                "solved_prefix": st.text(max_size=20),
                "close_reasons": st.lists(
                    st.sampled_from(["solved", "dupe", "stale", "nope"]), min_size=1, unique=True
                ),
            },
        ),
        "points": st.fixed_dictionaries(
            {},
            optional={
                "solution": st.integers(0, 10_000),
                "assist_enabled": st.just(False),
                "reuse": st.integers(0, 10_000),
                "excluded_roles": st.lists(st.integers(1, 2**63 - 1), max_size=3),
            },
        ),
        "escalation": st.fixed_dictionaries(
            {},
            optional={
                "tiers": st.lists(st.integers(60, 86_400), min_size=1, max_size=5, unique=True).map(
                    lambda secs: [{"after": s, "role": "staff"} for s in sorted(secs)]
                ),
                "quiet_hours": st.one_of(
                    st.none(),
                    st.just({"start": "22:00", "end": "07:00"}),
                    st.just({"start": "01:00", "end": "02:00"}),
                ),
                "enabled": st.booleans(),
            },
        ),
        "leaderboard": st.fixed_dictionaries(
            {},
            optional={"weekday": st.sampled_from(["monday", "Friday", "SUNDAY"]), "size": st.integers(1, 25)},
        ),
        "similar": st.fixed_dictionaries(
            {}, optional={"threshold": st.floats(0, 1), "scope": st.sampled_from(["all", "channel"])}
        ),
        "stats": st.fixed_dictionaries({}, optional={"visibility": st.sampled_from(["staff", "everyone"])}),
    },
)


@given(base_overrides=valid_overrides, overrides=valid_overrides)
@settings(max_examples=150, deadline=None)
def test_override_dict_round_trips_for_any_valid_settings(
    base_overrides: dict[str, Any], overrides: dict[str, Any]
) -> None:
    base = GuildSettings().merged(base_overrides)
    server = base.merged(overrides)
    stored = server.override_dict(base)
    assert json.loads(json.dumps(stored)) == stored
    assert base.merged(stored) == server
    assert server.override_dict(server) == {}
    assert GuildSettings.model_validate(server.as_json()) == server


# --------------------------------------------------------------------------- durations

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


# --------------------------------------------------------------------------- the example file


def test_example_config_is_valid_and_matches_the_defaults() -> None:
    assert check_config_file(EXAMPLE_CONFIG, env={}) == []
    example = load_settings(EXAMPLE_CONFIG, env={})
    assert example == settings_from_data({}, env={})
    assert example.guild_defaults() == GuildSettings()


def test_example_config_documents_every_setting() -> None:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    for section in ("database", "logging", "intents", "sharding"):
        model = Settings.model_fields[section].annotation
        assert f"[{section}]" in text
        for key in model.model_fields:  # type: ignore[union-attr]
            assert re.search(rf"^#? ?{key} =", text, re.MULTILINE), f"{section}.{key} is not in the example"
    for section, field in GuildSettings.model_fields.items():
        if section == "timezone":
            continue
        assert f"[{section}]" in text
        for key in field.annotation.model_fields:  # type: ignore[union-attr]
            documented = re.search(rf"^#? ?{key} =|^#? ?\[+{section}\.{key}\]+$", text, re.MULTILINE)
            assert documented, f"{section}.{key} is not in the example"
    for key in [*Tier.model_fields, *QuietHours.model_fields]:
        assert re.search(rf"^#? ?{key} =", text, re.MULTILINE), f"{key} is not in the example"
    assert "[[escalation.tiers]]" in text and re.search(r"^timezone = ", text, re.MULTILINE)
    token_lines = [line for line in text.splitlines() if "token" in line.lower()]
    assert token_lines and all(line.lstrip().startswith("#") for line in token_lines)
    assert any("DISCORD_TOKEN" in line for line in token_lines)


# --------------------------------------------------------------------------- fuzzing


def all_setting_keys() -> list[str]:
    """Every key name used anywhere in the settings, so fuzzing reaches the deep validators too."""
    keys = {"token", "discord_token", *Settings.model_fields}
    models = [Tier, QuietHours, *(field.annotation for field in Settings.model_fields.values())]
    for model in models:
        keys.update(getattr(model, "model_fields", {}))
    return sorted(keys)


KNOWN_KEYS = all_setting_keys()

toml_scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=30),
    st.sampled_from(["4h", "30m", "0s", "09:00", "25:99", "monday", "UTC", "helper", "staff", "escalation"]),
    st.times(),
    st.dates(),
    st.datetimes(),
)
toml_keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=12))
toml_values = st.recursive(
    toml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(toml_keys, children, max_size=4)
    ),
    max_leaves=20,
)


def toml_key(key: str) -> str:
    """A TOML key, quoted as a JSON string (a valid TOML basic string for ordinary text)."""
    return json.dumps(key)


def toml_value(value: object) -> str:
    """An inline TOML rendering of a generated value (may be invalid TOML for odd text; that is fine)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(data: dict[str, object]) -> str:
    """A TOML document with one inline line per top-level key."""
    return "\n".join(f"{toml_key(key)} = {toml_value(value)}" for key, value in data.items())


def assert_lines(problems: object) -> None:
    assert isinstance(problems, list)
    assert all(isinstance(line, str) and line and "\n" not in line for line in problems)
    noise = ("Traceback", "errors.pydantic.dev", "For further information", "validation error for")
    assert not [line for line in problems if any(marker in line for marker in noise)]


fuzz_settings = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@given(raw=st.binary(max_size=300))
@fuzz_settings
def test_fuzz_check_config_file_with_random_bytes(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(raw)
    assert_lines(check_config_file(path, env={}))


@given(text=st.text(alphabet=st.sampled_from(list('[]{}=",.\n #abc01:-_tzrs\'"')), max_size=200))
@fuzz_settings
def test_fuzz_check_config_file_with_toml_like_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    assert_lines(check_config_file(path, env={}))


@given(data=st.dictionaries(toml_keys, toml_values, max_size=6))
@fuzz_settings
def test_fuzz_check_config_file_with_random_structures(tmp_path: Path, data: dict[str, object]) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_text(toml_document(data), encoding="utf-8", errors="surrogatepass")
    assert_lines(check_config_file(path, env={}))


section_values = st.dictionaries(st.sampled_from(KNOWN_KEYS), toml_values, max_size=5)


@given(
    data=st.dictionaries(
        st.sampled_from([*GuildSettings.model_fields, "database", "sharding", "logging"]),
        st.one_of(section_values, toml_values),
        max_size=5,
    ),
    env=st.dictionaries(
        st.sampled_from(
            ["UNSTUCK_POINTS__SOLUTION", "UNSTUCK_ESCALATION__TIERS", "UNSTUCK_HELP", "DISCORD_TOKEN"]
        ),
        st.text(max_size=20),
        max_size=2,
    ),
)
@settings(max_examples=300, deadline=None)
def test_fuzz_check_config_data_with_wrong_types_at_every_level(
    data: dict[str, object], env: dict[str, str]
) -> None:
    assert_lines(check_config_data(data, env=env))


@given(data=toml_values)
@settings(max_examples=100, deadline=None)
def test_fuzz_check_config_data_with_any_top_level_value(data: object) -> None:
    assert_lines(check_config_data(data, env={}))
