"""The `unstuck` command line, as a user runs it."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from storage.migrate import current_and_head, upgrade
from tests.conftest import off_loop, postgres_url

ROOT = Path(__file__).resolve().parents[2]


def unstuck(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=120,
    )


def test_the_example_config_is_valid() -> None:
    result = unstuck("config", "check", "config.example.toml")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_a_broken_config_names_every_bad_key(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(
        '[help]\ndormant_afterr = "1h"\n[leaderboard]\nweekday = "funday"\n'
        '[[escalation.tiers]]\nafter = "4h"\nrole = "helper"\nchannel = "escalation"\n'
        '[[escalation.tiers]]\nafter = "1h"\nrole = "staff"\nchannel = "escalation"\n'
    )
    result = unstuck("config", "check", "--config", str(broken))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("help.dormant_afterr:") for line in lines)
    assert any(line.startswith("leaderboard.weekday:") for line in lines)
    assert "escalation.tiers[1].after: must be longer than tiers[0].after" in lines
    assert "Traceback" not in result.stderr


def test_run_without_a_token_points_to_the_demo_and_to_invite(tmp_path: Path) -> None:
    result = unstuck("run", cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in result.stderr
    assert "unstuck demo" in result.stderr
    assert "Reset Token" in result.stderr
    assert "unstuck invite" in result.stderr
    assert "Add Reactions" not in result.stderr  # the old hand-written permission list is gone


def test_start_without_a_token_plays_the_demo_and_says_how_to_go_live(tmp_path: Path) -> None:
    result = unstuck("start", cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert "That's the whole flow." in result.stdout
    assert "That was the demo: no DISCORD_TOKEN is set" in result.stdout
    assert "unstuck invite" in result.stdout
    assert "Traceback" not in result.stderr


def test_db_upgrade_creates_a_current_sqlite_schema(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    url = f"sqlite+aiosqlite:///{path}"
    result = unstuck("db", "upgrade", env={"UNSTUCK_DATABASE__URL": url})
    assert result.returncode == 0, result.stderr
    current, head = off_loop(current_and_head, url)
    assert current == head is not None
    assert result.stdout == f"Created {path} and migrated it to revision {head}.\n"

    again = unstuck("db", "upgrade", env={"UNSTUCK_DATABASE__URL": url})
    assert again.stdout == f"{path} is already at the current revision ({head}).\n"


def test_db_upgrade_backs_up_and_migrates_an_older_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    off_loop(upgrade, url, None, "0005")
    head = off_loop(current_and_head, url)[1]
    result = unstuck("db", "upgrade", env={"UNSTUCK_DATABASE__URL": url})
    assert result.returncode == 0, result.stderr
    backup = tmp_path / f"old.db.before-{head}.bak"
    assert result.stdout.splitlines() == [
        f"Backed up {path} to {backup} before migrating it.",
        f"Migrated {path} from 0005 to {head}.",
    ]
    assert off_loop(current_and_head, f"sqlite+aiosqlite:///{backup}")[0] == "0005"


def test_a_database_migrated_by_a_newer_unstuck_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    url = f"sqlite+aiosqlite:///{path}"
    off_loop(upgrade, url)
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    result = unstuck("db", "upgrade", env={"UNSTUCK_DATABASE__URL": url})
    assert_explained(result, f"{path} is at revision 9999, which this version of Unstuck does not know")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["newer.db"]


def assert_explained(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """A failure a person can act on: non-zero, at most two lines on stderr, no traceback."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://x", "database.url: must be an SQLite (sqlite+aiosqlite://) or PostgreSQL"),
        ("sqlite:///x.db", "database.url: must use the async driver: write sqlite+aiosqlite://"),
        ("postgresql://u@h/db", "database.url: must use the async driver: write postgresql+asyncpg://"),
    ],
)
@pytest.mark.parametrize("command", [["db", "upgrade"], ["config", "check", "config.example.toml"], ["run"]])
def test_a_database_url_that_cannot_work_is_refused_before_connecting(
    url: str, expected: str, command: list[str]
) -> None:
    result = unstuck(*command, env={"UNSTUCK_DATABASE__URL": url, "DISCORD_TOKEN": "not-used"})
    assert_explained(result, expected)


def test_an_sqlite_file_that_is_not_a_database_is_explained(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("meeting notes\n" * 200)
    result = unstuck(
        "db", "upgrade", env={"UNSTUCK_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/notes.db"}
    )
    assert_explained(result, f"{tmp_path / 'notes.db'} is not an SQLite database", "database.url")


def test_an_sqlite_folder_that_cannot_be_created_is_explained(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the folder should be")
    url = f"sqlite+aiosqlite:///{tmp_path}/data/unstuck.db"
    result = unstuck("db", "upgrade", env={"UNSTUCK_DATABASE__URL": url})
    assert_explained(result, f"Cannot create the SQLite database {tmp_path / 'data' / 'unstuck.db'}")


def test_a_postgres_server_that_is_down_is_explained() -> None:
    url = f"postgresql+asyncpg://bot:s3cret@127.0.0.1:{closed_port()}/unstuck"
    result = unstuck("db", "upgrade", env={"UNSTUCK_DATABASE__URL": url})
    assert_explained(result, "Cannot connect to PostgreSQL at 127.0.0.1:", "is the server running?")
    assert "s3cret" not in result.stderr


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def private_postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database of its own, dropped afterwards (never the shared one)."""
    base = postgres_url()
    if not base:
        pytest.skip("needs UNSTUCK_TEST_POSTGRES_URL")
    import asyncpg

    plain = base.replace("postgresql+asyncpg://", "postgresql://")
    name = f"unstuck_cli_{uuid.uuid4().hex[:10]}"

    async def run(statement: str) -> None:
        connection = await asyncpg.connect(plain)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    off_loop(asyncio.run, run(f"CREATE DATABASE {name}"))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        off_loop(asyncio.run, run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def with_password(url: str, password: str) -> str:
    """The URL with a password (ignored by a trust-auth server, and never to be printed)."""
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user.split(':')[0]}:{password}@{host}"


def test_postgres_upgrade_names_the_database_without_its_password(private_postgres_url: str) -> None:
    url = with_password(private_postgres_url, "s3cret")
    result = unstuck("db", "upgrade", env={"UNSTUCK_DATABASE__URL": url})
    assert result.returncode == 0, result.stderr
    head = off_loop(current_and_head, url)[1]
    shown = url.replace(":s3cret@", ":***@")
    assert result.stdout == f"Migrated the empty database {shown} to revision {head}.\n"


def test_a_postgres_database_that_does_not_exist_is_explained(private_postgres_url: str) -> None:
    missing = private_postgres_url + "_missing"
    result = unstuck("db", "upgrade", env={"UNSTUCK_DATABASE__URL": missing})
    name = missing.rsplit("/", 1)[1]
    assert_explained(result, f'The database "{name}" does not exist', f"createdb {name}")


def test_an_out_of_date_postgres_schema_is_explained(private_postgres_url: str) -> None:
    url = with_password(private_postgres_url, "s3cret")
    env = {"UNSTUCK_DATABASE__URL": url, "DISCORD_TOKEN": "not-used-before-the-schema-check"}
    result = unstuck("backfill", "--guild", "1", env=env)
    shown = url.replace(":s3cret@", ":***@")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-2:] == [
        f"The database {shown} has no tables yet, and this version of Unstuck needs "
        f"{off_loop(current_and_head, url)[1]}.",
        "Run `unstuck db upgrade`, then start the bot again.",
    ]
    assert "Traceback" not in result.stderr


def test_a_missing_config_file_named_by_config_is_explained(tmp_path: Path) -> None:
    result = unstuck("run", "--config", str(tmp_path / "nope.toml"), env={"DISCORD_TOKEN": "x"})
    assert_explained(result, f"No config file at {tmp_path / 'nope.toml'}", "config.example.toml")


@pytest.mark.parametrize("before_command", [True, False])
def test_config_is_accepted_before_or_after_the_command(tmp_path: Path, before_command: bool) -> None:
    database = tmp_path / "from-config.db"
    config = tmp_path / "unstuck.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{database}"\n')
    option = ["--config", str(config)]
    args = [*option, "db", "upgrade"] if before_command else ["db", "upgrade", *option]
    result = unstuck(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Created {database} and migrated it")


def test_backup_copies_the_sqlite_database_and_never_overwrites(tmp_path: Path) -> None:
    database = tmp_path / "unstuck.db"
    env = {"UNSTUCK_DATABASE__URL": f"sqlite+aiosqlite:///{database}"}
    assert unstuck("db", "upgrade", env=env).returncode == 0
    copy = tmp_path / "copy.db"
    result = unstuck("backup", str(copy), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Backed up {database} to {copy}.\n"
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert_explained(unstuck("backup", str(copy), env=env), f"{copy} already exists")


def test_backup_of_postgres_points_to_pg_dump_without_the_password() -> None:
    env = {"UNSTUCK_DATABASE__URL": "postgresql+asyncpg://unstuck:s3cret@db:5432/unstuck"}
    result = unstuck("backup", "unstuck.dump", env=env)
    assert result.returncode == 1
    assert (
        "pg_dump --host=db --port=5432 --username=unstuck --format=custom --file=unstuck.dump unstuck"
        in result.stderr
    )
    assert "s3cret" not in result.stderr + result.stdout


def test_invite_prints_the_link_for_the_application_in_the_token() -> None:
    import base64

    user_id = "1234567890123456789"
    token = base64.b64encode(user_id.encode()).decode().rstrip("=") + ".GaBcDe.secret-part"
    result = unstuck("invite", env={"DISCORD_TOKEN": token})
    assert result.returncode == 0, result.stderr
    assert (
        f"https://discord.com/oauth2/authorize?client_id={user_id}"
        "&scope=bot+applications.commands&permissions=326417730560"
    ) in result.stdout
    assert "secret-part" not in result.stdout
    for expected in ["View Channels: ", "Mention Everyone: ", "Manage Channels: ", "Message Content Intent"]:
        assert expected in result.stdout


def test_invite_without_a_client_id_says_how_to_give_one() -> None:
    assert_explained(unstuck("invite"), "--client-id ID", "DISCORD_TOKEN")
    assert_explained(unstuck("invite", env={"DISCORD_TOKEN": "garbage"}), "does not look like a bot token")


async def test_postgres_start_up_refuses_an_out_of_date_schema(
    empty_postgres_schema: tuple[str, dict[str, object]],
) -> None:
    from storage.engine import Database
    from storage.migrate import SchemaOutOfDate, prepare_schema

    url, connect_args = empty_postgres_schema
    db = Database(url, connect_args=connect_args)
    try:
        with pytest.raises(SchemaOutOfDate, match="unstuck db upgrade"):
            await prepare_schema(db, auto_upgrade=False)
    finally:
        await db.dispose()
