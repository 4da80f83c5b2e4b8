"""Shared by the configuration tests: writing a config file, checking it, and duration shorthands."""

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from bot.config import check_config_file

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
