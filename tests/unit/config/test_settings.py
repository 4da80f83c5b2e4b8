"""Bot-wide settings (bot.config.settings): loading a file, the environment over the file over
the defaults, and the token that never leaks."""

import datetime as dt
import logging
from pathlib import Path

import pytest

from bot.config import (
    ConfigError,
    DatabaseSettings,
    GuildSettings,
    QuietHours,
    Settings,
    Tier,
    load_settings,
    settings_summary,
)
from tests.unit.config.helpers import H, M, problems_for, write_config

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.super-secret-token-value"


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


def test_database_url_password_never_shows_in_repr() -> None:
    db = DatabaseSettings(url="postgresql+asyncpg://bot:hunter2@db:5432/unstuck")
    assert "hunter2" not in repr(db) and "hunter2" not in str(db)
    assert db.safe_url == "postgresql+asyncpg://bot:***@db:5432/unstuck"
    assert db.url.endswith("bot:hunter2@db:5432/unstuck")  # still usable for connecting


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
