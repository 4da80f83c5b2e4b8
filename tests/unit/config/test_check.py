"""`unstuck config check` (bot.config.check and bot.config.errors): every problem on one short line,
with its exact message."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import (
    GuildSettings,
    Tier,
    check_config_data,
    check_config_file,
    format_validation_error,
)
from tests.unit.config.helpers import problems_for, write_config

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
