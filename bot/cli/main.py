"""The `unstuck` parser and the one place where a command's failure becomes lines on stderr."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.cli.archive import add_archive_commands
from bot.cli.common import CommandFailed
from bot.cli.config import add_config_commands
from bot.cli.database import add_database_commands
from bot.cli.invite import add_invite_command
from bot.cli.running import add_running_commands

log = logging.getLogger("unstuck.cli")

CONFIG_HELP = "path to config.toml (default: ./config.toml if present)"


def build_parser() -> argparse.ArgumentParser:
    """`unstuck [--config PATH] COMMAND …`; ``--config`` is also accepted after the command."""
    parser = argparse.ArgumentParser(prog="unstuck", description="A support bot for developer communities.")
    parser.add_argument("--config", metavar="PATH", help=CONFIG_HELP)
    # Each command accepts --config too; SUPPRESS keeps it from resetting a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=CONFIG_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_running_commands(commands, common)
    add_invite_command(commands, common)
    add_database_commands(commands, common)
    add_config_commands(commands, common)
    add_archive_commands(commands, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; a failure ends as a short explanation and a non-zero exit, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CommandFailed as failure:
        _report(failure.lines)
        return failure.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        from bot.cli.problems import explain, unexpected

        command = _command_name(args)
        log.debug("unstuck %s failed", command, exc_info=error)
        _report(explain(error) or unexpected(command, error))
        return 1


def _command_name(args: argparse.Namespace) -> str:
    """``db upgrade``, ``config check``, ``run``…: the command as typed, for messages."""
    words = [
        args.command,
        getattr(args, "db_command", None),
        getattr(args, "config_command", None),
        getattr(args, "archive_command", None),
    ]
    return " ".join(word for word in words if word)


def _report(lines: list[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)
