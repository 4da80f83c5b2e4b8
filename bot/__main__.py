"""The `unstuck` command line: run, backfill, demo, db upgrade, config check."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings

NO_TOKEN = """\
No Discord token found: Unstuck reads it from the DISCORD_TOKEN environment variable.

To try Unstuck without Discord, run:  unstuck demo

To run it on your server:
  1. Open https://discord.com/developers/applications and create a New Application.
  2. Under "Bot", press "Reset Token" and copy it; turn on the "Message Content Intent"
     (and "Server Members Intent").
  3. Under "OAuth2 > URL Generator", pick the scopes "bot" and "applications.commands" and the
     permissions Send Messages, Send Messages in Threads, Create Public Threads, Manage Threads,
     Add Reactions, Read Message History and Embed Links; open the URL to invite the bot.
  4. export DISCORD_TOKEN=...   then   unstuck run
"""


def _config_path(args: argparse.Namespace) -> Path | None:
    chosen = getattr(args, "path", None) or args.config
    return Path(chosen) if chosen else None


def cmd_config_check(args: argparse.Namespace) -> int:
    from bot.config import check_config_file

    path = _config_path(args) or Path("config.toml")
    problems = check_config_file(path)
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        return 1
    print(f"{path}: OK")
    return 0


def _load(args: argparse.Namespace) -> Settings:
    """The settings, or a clean exit listing every problem in the file."""
    from bot.config import ConfigError, load_settings

    try:
        return load_settings(_config_path(args))
    except ConfigError as error:
        for line in error.problems:
            print(line, file=sys.stderr)
        raise SystemExit(1) from None


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from storage.migrate import upgrade

    settings = _load(args)
    upgrade(settings.database.url)
    print("Database schema is up to date.")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import UnstuckBot
    from bot.logs import setup_logging
    from storage.engine import SchemaOutOfDate

    settings = _load(args)
    token = settings.token_value()
    if not token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    setup_logging(settings.logging.level, secrets=[token])
    try:
        asyncio.run(UnstuckBot(settings).start(token))
    except SchemaOutOfDate as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


NO_TOKEN_BACKFILL = """\
No Discord token found: `unstuck backfill` logs in as your bot with the DISCORD_TOKEN
environment variable (the same token `unstuck run` uses), reads the server's history and exits.

  export DISCORD_TOKEN=...   then   unstuck backfill --guild <server id>
"""


def cmd_backfill(args: argparse.Namespace) -> int:
    from bot.logs import setup_logging
    from cogs.backfill import backfill_from_command_line
    from storage.engine import SchemaOutOfDate

    settings = _load(args)
    token = settings.token_value()
    if not token:
        print(NO_TOKEN_BACKFILL, file=sys.stderr)
        return 2
    setup_logging(settings.logging.level, secrets=[token])
    try:
        return asyncio.run(backfill_from_command_line(settings, token, args.guild, sys.stdout))
    except SchemaOutOfDate as error:
        print(error, file=sys.stderr)
        return 1


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(speed=args.speed))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="unstuck", description="A support bot for developer communities.")
    parser.add_argument("--config", help="path to config.toml (default: ./config.toml if present)")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("run", help="run the bot on Discord (needs DISCORD_TOKEN)").set_defaults(func=cmd_run)

    backfill = commands.add_parser(
        "backfill", help="import a server's solved help threads from its history (needs DISCORD_TOKEN)"
    )
    backfill.add_argument("--guild", type=int, required=True, help="the server's id")
    backfill.set_defaults(func=cmd_backfill)

    demo = commands.add_parser("demo", help="play a scripted community on a local Discord emulator")
    demo.add_argument("--speed", type=float, default=0.0, help="seconds to pause between steps (default 0)")
    demo.set_defaults(func=cmd_demo)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="migrate the database to the current schema")
    upgrade.set_defaults(func=cmd_db_upgrade)

    config = commands.add_parser("config", help="configuration tools").add_subparsers(
        dest="config_command", required=True
    )
    check = config.add_parser("check", help="validate a config file")
    check.add_argument("path", nargs="?", help="the file to check (default: --config or ./config.toml)")
    check.add_argument("--config", dest="config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    check.set_defaults(func=cmd_config_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
