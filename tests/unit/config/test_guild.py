"""Per-server settings (bot.config.guild): the documented defaults, and a server's overrides
layered over them."""

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.config import (
    DEFAULT_WELCOME_MESSAGE,
    GuildSettings,
    QuietHours,
    Tier,
    format_duration,
    format_validation_error,
)
from tests.unit.config.helpers import H, M


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


def test_guild_settings_are_immutable() -> None:
    g = GuildSettings()
    with pytest.raises(ValidationError):
        g.points.solution = 99  # type: ignore[misc]


def test_timezone_letter_case_is_corrected() -> None:
    assert GuildSettings.model_validate({"timezone": "europe/berlin"}).timezone == "Europe/Berlin"


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
