"""`unstuck archive build OUT/`, as a user runs it."""

from __future__ import annotations

from pathlib import Path

from tests.unit.test_cli import unstuck


def test_archive_build_writes_a_site_and_then_only_what_changed(tmp_path: Path) -> None:
    env = {"UNSTUCK_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"}
    assert unstuck("db", "upgrade", env=env).returncode == 0
    out = tmp_path / "site"
    first = unstuck("archive", "build", str(out), "--base-url", "https://help.example.org/", env=env)
    assert first.returncode == 0, first.stderr
    assert f"Built the archive in {out}" in first.stdout and "written" in first.stdout
    assert {"index.html", "404.html", "robots.txt", "sitemap.xml"} <= {p.name for p in out.iterdir()}
    assert "https://help.example.org/index.html" in (out / "sitemap.xml").read_text()
    again = unstuck("archive", "build", str(out), "--base-url", "https://help.example.org/", env=env)
    assert "0 written, 0 removed" in again.stdout


def test_archive_build_on_a_database_that_was_never_created_says_what_to_do(tmp_path: Path) -> None:
    env = {"UNSTUCK_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'missing.db'}"}
    result = unstuck("archive", "build", str(tmp_path / "site"), env=env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "unstuck db upgrade" in result.stderr
