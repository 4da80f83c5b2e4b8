"""The `unstuck` command line, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_run_without_a_token_points_to_the_demo(tmp_path: Path) -> None:
    result = unstuck("run", cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in result.stderr
    assert "unstuck demo" in result.stderr
    assert "Reset Token" in result.stderr


def test_db_upgrade_creates_a_current_sqlite_schema(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    result = unstuck("db", "upgrade", env={"UNSTUCK_DATABASE__URL": url})
    assert result.returncode == 0, result.stderr
    from storage.migrate import current_and_head

    current, head = off_loop(current_and_head, url)
    assert current == head is not None


async def test_postgres_start_up_refuses_an_out_of_date_schema() -> None:
    url = postgres_url()
    if not url:
        pytest.skip("needs UNSTUCK_TEST_POSTGRES_URL")
    from storage.engine import Database, SchemaOutOfDate
    from tests.conftest import _run_sql

    schema = "unstuck_test_empty_" + os.urandom(4).hex()
    await _run_sql(url, f"CREATE SCHEMA {schema}")
    db = Database(url, connect_args={"server_settings": {"search_path": schema}})
    try:
        with pytest.raises(SchemaOutOfDate, match="unstuck db upgrade"):
            await db.prepare(auto_upgrade=False)
    finally:
        await db.dispose()
        await _run_sql(url, f"DROP SCHEMA {schema} CASCADE")
