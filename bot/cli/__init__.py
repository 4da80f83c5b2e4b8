"""The `unstuck` command line: run, backfill, demo, invite, backup, db upgrade, config check, archive."""

from bot.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
