"""What every `unstuck` command shares: loading the settings, and failing with a clear message."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings


class CommandFailed(Exception):
    """A command cannot do what was asked; ``lines`` say why and what to do, ``exit_code`` is returned."""

    def __init__(self, lines: Sequence[str], exit_code: int = 1) -> None:
        self.lines = list(lines)
        self.exit_code = exit_code
        super().__init__("\n".join(self.lines))


def config_path(args: argparse.Namespace) -> Path | None:
    """The config file named with ``--config PATH``, if any."""
    chosen = getattr(args, "config", None)
    return Path(chosen) if chosen else None


def missing_config(path: Path, *, named: bool = True) -> CommandFailed:
    """The explanation for a config file that is not there (``named``: the person gave its path)."""
    if named:
        return CommandFailed(
            [
                f"No config file at {path}: check the path.",
                "Without --config, Unstuck reads ./config.toml if there is one "
                "(config.example.toml lists every setting).",
            ]
        )
    return CommandFailed(
        [
            f"No config file at {path}, so there is nothing to check.",
            "Copy config.example.toml to config.toml to start one, or name a file: unstuck config check PATH",
        ]
    )


def load(args: argparse.Namespace) -> Settings:
    """The settings (file plus ``UNSTUCK_*`` variables), with logging set up at their level.

    Raises :class:`CommandFailed` listing every problem when the settings cannot be used.
    """
    from bot.config import ConfigError, load_settings
    from bot.logs import setup_logging

    path = config_path(args)
    if path is not None and not path.exists():
        raise missing_config(path)
    try:
        settings = load_settings(path)
    except ConfigError as error:
        raise CommandFailed(error.problems) from None
    setup_logging(settings.logging.level, secrets=[settings.token_value() or ""])
    return settings
