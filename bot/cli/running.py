"""`unstuck start`, `run`, `backfill` and `demo`: the commands that start the bot."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, TextIO

from bot.cli.common import load

if TYPE_CHECKING:
    from bot.config import Settings

NO_TOKEN = """\
No Discord token found: Unstuck reads it from the DISCORD_TOKEN environment variable.

To try Unstuck without Discord, run:  unstuck demo

To run it on your server:
  1. Open https://discord.com/developers/applications and create a New Application.
  2. Under "Bot", press "Reset Token" and copy the token.
  3. export DISCORD_TOKEN=...   then   unstuck invite
     It prints the link that adds the bot to your server with the permissions it needs,
     and the privileged intents to switch on under "Bot".
  4. unstuck run
"""

NO_TOKEN_BACKFILL = """\
No Discord token found: `unstuck backfill` logs in as your bot with the DISCORD_TOKEN
environment variable (the same token `unstuck run` uses), reads the server's history and exits.

  export DISCORD_TOKEN=...   then   unstuck backfill --guild <server id>
"""


def cmd_run(args: argparse.Namespace) -> int:
    """Run the bot until Discord ends the session, or Ctrl-C / SIGTERM stops it cleanly."""
    from bot.app import UnstuckBot, run_until_stopped

    settings = load(args)
    token = _token_or_explain(settings, NO_TOKEN)
    if not token:
        return 2
    asyncio.run(run_until_stopped(UnstuckBot(settings), token))
    return 0


def _token_or_explain(settings: Settings, explanation: str) -> str | None:
    """The bot token, ready to log in with; without one, print how to get one and return None."""
    token = settings.token_value()
    if not token:
        print(explanation, file=sys.stderr)
        return None
    _no_voice_warnings()
    return token


def _no_voice_warnings() -> None:
    """Unstuck never joins voice, so discord.py's warnings about missing voice libraries are noise."""
    import discord

    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False


def cmd_backfill(args: argparse.Namespace) -> int:
    """Import a server's solved help threads from its history, then exit."""
    settings = load(args)
    token = _token_or_explain(settings, NO_TOKEN_BACKFILL)
    if not token:
        return 2
    return asyncio.run(backfill_from_command_line(settings, token, args.guild, sys.stdout))


async def backfill_from_command_line(settings: Settings, token: str, guild_id: int, out: TextIO) -> int:
    """`unstuck backfill --guild ID`: log in (REST only), import with a progress bar, exit.

    It never connects to the gateway, so it never handles live events next to a running bot.
    """
    import discord

    from bot.app import build_services
    from bot.clock import SystemClock
    from bot.domain.sharding import ShardScope
    from bot.services.backfill import BackfillStatus
    from bot.services.errors import UserFacingError
    from cogs.backfill import DiscordHistory
    from storage.engine import Database, is_sqlite
    from storage.migrate import prepare_schema

    client = discord.Client(intents=discord.Intents.none())
    db = Database(settings.database.url)
    try:
        await prepare_schema(db, auto_upgrade=is_sqlite(db.url))
        services = build_services(db, SystemClock(), ShardScope(), settings)
        await client.login(token)
        try:
            guild = await client.fetch_guild(guild_id)
        except (discord.NotFound, discord.Forbidden):
            print(f"The bot is not in a server with id {guild_id}.", file=sys.stderr)
            return 1
        config = await services.configs.get(guild.id)
        history = DiscordHistory(guild, config.settings.help.solved_tag)

        async def bar(status: BackfillStatus) -> None:
            print(f"\r{status.describe()}", end="\n" if status.finished else "", file=out, flush=True)

        print(f"Importing solved threads of {guild.name}…", file=out)
        try:
            status = await services.backfill.run(guild.id, history, bar)
        except UserFacingError as error:
            print(error, file=sys.stderr)
            return 1
        print(
            f"Done: {status.imported} imported. A running bot suggests them after its next start.", file=out
        )
        return 0
    finally:
        await client.close()
        await db.dispose()


DEMO_INSTEAD = """
That was the demo: no DISCORD_TOKEN is set, so `unstuck start` played it instead of connecting.
To run Unstuck on your server: export DISCORD_TOKEN=...  then  unstuck invite  and  unstuck start
"""


def cmd_start(args: argparse.Namespace) -> int:
    """The newcomer's command: the bot on Discord when a token is set, else the local demo.

    `run` stays strict (no token is an error), so a deployment that lost its token fails loudly
    instead of quietly playing a demo.
    """
    if load(args).token_value():
        return cmd_run(args)
    status = cmd_demo(args)
    if status == 0:
        print(DEMO_INSTEAD, end="")
    return status


def cmd_demo(args: argparse.Namespace) -> int:
    """Play the scripted community on the local emulator."""
    from bot.demo import run_demo

    return asyncio.run(run_demo(speed=getattr(args, "speed", 0.0)))


def add_running_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register `start`, `run`, `backfill` and `demo`."""
    start = commands.add_parser(
        "start",
        parents=[common],
        help="run the bot if DISCORD_TOKEN is set, otherwise play the local demo",
    )
    start.set_defaults(func=cmd_start)

    run = commands.add_parser(
        "run", parents=[common], help="run the bot on Discord (needs DISCORD_TOKEN); Ctrl-C stops it"
    )
    run.set_defaults(func=cmd_run)

    backfill = commands.add_parser(
        "backfill",
        parents=[common],
        help="import a server's solved help threads from its history (needs DISCORD_TOKEN)",
    )
    backfill.add_argument("--guild", type=int, required=True, help="the server's id")
    backfill.set_defaults(func=cmd_backfill)

    demo = commands.add_parser(
        "demo", parents=[common], help="play a scripted community on a local Discord emulator"
    )
    demo.add_argument("--speed", type=float, default=0.0, help="seconds to pause between steps (default 0)")
    demo.set_defaults(func=cmd_demo)
