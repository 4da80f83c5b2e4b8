"""`unstuck db upgrade` and `unstuck backup PATH`: looking after the database."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from bot.cli.common import CommandFailed, load

BACKUP_HELP = """\
copy the SQLite database to PATH, consistently, even while the bot runs; never overwrites a file.
For PostgreSQL it prints the pg_dump command to use instead and exits with status 1 (no backup made)."""


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Migrate the configured database and say what was done."""
    from storage.migrate import upgrade

    settings = load(args)
    done = upgrade(settings.database.url)
    for line in (done.backup_note(), done.summary()):
        if line:
            print(line)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Back up an SQLite database to a new file; point to pg_dump for PostgreSQL."""
    from storage.backup import backup_sqlite
    from storage.engine import is_sqlite
    from storage.errors import sqlite_file

    url = load(args).database.url
    if not is_sqlite(url):
        raise CommandFailed(pg_dump_advice(url, args.path))
    source = sqlite_file(url)
    if source is None:
        raise CommandFailed(["The database is in memory: there is no file to back up."])
    target = Path(args.path).expanduser().absolute()
    backup_sqlite(source, target)
    print(f"Backed up {source} to {target}.")
    return 0


def pg_dump_advice(url: str, path: str) -> list[str]:
    """The pg_dump command for a PostgreSQL URL, without its password."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    command = ["pg_dump"]
    if parsed.host:
        command.append(f"--host={parsed.host}")
    if parsed.port:
        command.append(f"--port={parsed.port}")
    if parsed.username:
        command.append(f"--username={parsed.username}")
    command += ["--format=custom", f"--file={path}", parsed.database or "postgres"]
    lines = [
        "Unstuck backs up SQLite files itself; for PostgreSQL use pg_dump, "
        "which takes a consistent copy while the bot runs:",
        "  " + shlex.join(command),
    ]
    if parsed.password:
        lines.append("(pg_dump asks for the password from database.url, or reads it from PGPASSWORD.)")
    return lines


def add_database_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register `db upgrade` and `backup PATH`."""
    db = commands.add_parser("db", parents=[common], help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="{upgrade}")
    upgrade = db_commands.add_parser(
        "upgrade",
        parents=[common],
        help="migrate the database to the current schema (an SQLite file with data is backed up first)",
    )
    upgrade.set_defaults(func=cmd_db_upgrade)

    backup = commands.add_parser("backup", parents=[common], help=BACKUP_HELP.splitlines()[0])
    backup.description = BACKUP_HELP.replace("\n", " ")
    backup.add_argument("path", metavar="PATH", help="the new file to write, e.g. unstuck-2026-01-05.db")
    backup.set_defaults(func=cmd_backup)
