"""`unstuck config check [PATH]`: every problem in a config file, one line each."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.common import config_path, missing_config


def cmd_config_check(args: argparse.Namespace) -> int:
    """Check the file (and the ``UNSTUCK_*`` variables) the way the bot's start-up would."""
    from bot.config import DEFAULT_CONFIG_PATH, check_config_file

    named = Path(args.file) if args.file else config_path(args)
    path = named or DEFAULT_CONFIG_PATH
    if not path.exists():
        raise missing_config(path, named=named is not None)
    problems = check_config_file(path)
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        return 1
    print(f"{path}: OK")
    return 0


def add_config_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register `config check [PATH]`."""
    config = commands.add_parser("config", parents=[common], help="configuration tools")
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="{check}")
    check = config_commands.add_parser("check", parents=[common], help="validate a config file")
    check.add_argument(
        "file", nargs="?", metavar="PATH", help="the file to check (default: --config or ./config.toml)"
    )
    check.set_defaults(func=cmd_config_check)
