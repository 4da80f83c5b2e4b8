"""`unstuck config check` on random files and data: always lines of text, never a traceback."""

import datetime as dt
import json
import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import (
    GuildSettings,
    QuietHours,
    Settings,
    Tier,
    check_config_data,
    check_config_file,
)


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
