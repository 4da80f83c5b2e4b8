"""The pieces of the command line's messages: invite links, token decoding, error explanations."""

from __future__ import annotations

import base64

import discord
import pytest

from bot.cli.database import pg_dump_advice
from bot.cli.invite import client_id_from_token, invite_text, invite_url
from bot.cli.problems import explain, unexpected
from bot.config import IntentsSettings, settings_from_data
from bot.domain.bot_permissions import BOT_PERMISSIONS, permission_value

APP_ID = 1234567890123456789


def token_for(user_id: str) -> str:
    return base64.b64encode(user_id.encode()).decode().rstrip("=") + ".GaBcDe.hmac-part-of-the-token"


def test_the_invite_url_asks_for_exactly_the_bot_permissions_and_scopes() -> None:
    assert invite_url(APP_ID) == (
        f"https://discord.com/oauth2/authorize?client_id={APP_ID}"
        f"&scope=bot+applications.commands&permissions={permission_value()}"
    )
    assert invite_url(APP_ID, include_optional=True).endswith(
        f"permissions={permission_value(include_optional=True)}"
    )


def test_the_invite_text_gives_every_permission_its_reason() -> None:
    text = invite_text(APP_ID, IntentsSettings())
    for permission in BOT_PERMISSIONS:
        assert f"  - {permission.name}: {permission.why}" in text
    assert "Add Reactions" not in text
    assert f"https://discord.com/developers/applications/{APP_ID}/bot" in text


@pytest.mark.parametrize(
    ("message_content", "members", "shown", "hidden"),
    [
        (True, True, ["Message Content Intent", "Server Members Intent"], []),
        (False, True, ["Server Members Intent"], ["Message Content Intent"]),
        (False, False, ["No privileged intents needed"], ["Message Content Intent", "Server Members Intent"]),
    ],
)
def test_the_intents_to_switch_on_follow_the_settings(
    message_content: bool, members: bool, shown: list[str], hidden: list[str]
) -> None:
    text = invite_text(APP_ID, IntentsSettings(message_content=message_content, members=members))
    assert all(part in text for part in shown)
    assert not any(part in text for part in hidden)


@pytest.mark.parametrize("user_id", ["80351110224678912", "1234567890123456789", "999999999999999999"])
def test_the_application_id_is_read_from_a_bot_token(user_id: str) -> None:
    assert client_id_from_token(token_for(user_id)) == int(user_id)


@pytest.mark.parametrize("token", ["", "garbage", "x.y.z", "!!!.a.b", token_for("12ab")])
def test_a_token_that_is_not_a_bot_token_gives_no_id(token: str) -> None:
    assert client_id_from_token(token) is None


def test_a_refused_token_is_explained() -> None:
    lines = explain(discord.LoginFailure("Improper token has been passed."))
    assert lines is not None and len(lines) == 2
    assert "refused the token in DISCORD_TOKEN" in lines[0]
    assert "Reset Token" in lines[1]


def test_refused_privileged_intents_are_explained() -> None:
    lines = explain(discord.PrivilegedIntentsRequired(None))
    assert lines is not None and len(lines) == 2
    assert "Privileged Gateway Intents" in lines[1]


def test_an_unexpected_error_is_two_lines_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "tok.en.value")
    error = RuntimeError("failed with postgresql+asyncpg://bot:hunter2@db/x and tok.en.value\nmore")
    lines = unexpected("run", error)
    assert len(lines) == 2
    assert "hunter2" not in lines[0] and "tok.en.value" not in lines[0]
    assert lines[0].startswith("unstuck run stopped on an unexpected error (RuntimeError: ")
    assert "UNSTUCK_LOGGING__LEVEL=DEBUG" in lines[1]


def test_pg_dump_advice_never_contains_the_password() -> None:
    lines = pg_dump_advice("postgresql+asyncpg://bot:hunter2@db.internal:6543/unstuck", "b.dump")
    command = "pg_dump --host=db.internal --port=6543 --username=bot --format=custom --file=b.dump unstuck"
    assert f"  {command}" in lines
    assert "hunter2" not in "\n".join(lines)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///unstuck.db",
        "sqlite+aiosqlite:////data/unstuck.db",
        "sqlite+aiosqlite://",
        "postgresql+asyncpg://unstuck:pw@db:5432/unstuck",
    ],
)
def test_usable_database_urls_are_accepted(url: str) -> None:
    assert settings_from_data({"database": {"url": url}}, env={}).database.url == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("unstuck.db", "must be a database URL like sqlite+aiosqlite:///unstuck.db"),
        ("mysql://x", "must be an SQLite (sqlite+aiosqlite://) or PostgreSQL (postgresql+asyncpg://) URL; "),
        ("mysql+aiomysql://u@h/db", "mysql+aiomysql:// is not supported"),
        ("sqlite:///x.db", "must use the async driver: write sqlite+aiosqlite:// instead of sqlite://"),
        ("sqlite+pysqlite:///x.db", "write sqlite+aiosqlite:// instead of sqlite+pysqlite://"),
        ("postgresql://u:pw@h/db", "write postgresql+asyncpg:// instead of postgresql://"),
        ("postgres://u:pw@h/db", "write postgresql+asyncpg:// instead of postgres://"),
        ("postgres+asyncpg://u:pw@h/db", "write postgresql+asyncpg:// instead of postgres+asyncpg://"),
        ("postgresql+psycopg2://h/db", "write postgresql+asyncpg:// instead of postgresql+psycopg2://"),
        ("postgresql+asyncpg://u:pw@h:port/db", "is not a valid database URL"),
    ],
)
def test_database_urls_that_cannot_work_are_refused(url: str, reason: str) -> None:
    from bot.config import ConfigError

    with pytest.raises(ConfigError) as refused:
        settings_from_data({"database": {"url": url}}, env={})
    [line] = refused.value.problems
    assert line.startswith("database.url: ")
    assert reason in line
    assert "pw" not in line
