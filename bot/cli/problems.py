"""Errors a command can end with, told as one or two lines that say what is wrong and what to do.

The traceback still matters to whoever debugs Unstuck, so the command line logs it at DEBUG
(``UNSTUCK_LOGGING__LEVEL=DEBUG``); people see only these lines.
"""

from __future__ import annotations

import os

from bot.config import TOKEN_ENV_VAR, mask_url_password

PORTAL = "https://discord.com/developers/applications"


def explain(error: BaseException) -> list[str] | None:
    """The lines for an error a person can fix, or ``None`` for one nobody anticipated."""
    import aiohttp
    import discord

    from storage.backup import BackupError
    from storage.errors import DatabaseUnavailable
    from storage.migrate import SchemaOutOfDate

    if isinstance(error, DatabaseUnavailable | SchemaOutOfDate | BackupError):
        return str(error).splitlines()
    if isinstance(error, discord.LoginFailure):
        return [
            f"Discord refused the token in {TOKEN_ENV_VAR}: it is mistyped, or it was reset.",
            f"Copy a new one (Bot > Reset Token at {PORTAL}) and export {TOKEN_ENV_VAR} again.",
        ]
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return [
            "Discord refused the privileged intents Unstuck asks for (Message Content, Server Members).",
            "Switch them on under Bot > Privileged Gateway Intents (`unstuck invite` shows where), "
            "or turn them off under [intents] in config.toml.",
        ]
    if isinstance(error, aiohttp.ClientConnectionError):
        return [
            f"Cannot reach Discord ({type(error).__name__}).",
            "Check this machine's internet connection, then try again.",
        ]
    return None


def unexpected(command: str, error: BaseException) -> list[str]:
    """Two lines for an error nobody anticipated: what happened, and how to see more."""
    detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    detail = mask_url_password(detail)
    token = os.environ.get(TOKEN_ENV_VAR)
    if token:
        detail = detail.replace(token, "[redacted]")
    what = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    return [
        f"unstuck {command} stopped on an unexpected error ({what}).",
        "Run it again with UNSTUCK_LOGGING__LEVEL=DEBUG to see the details, and please report it.",
    ]
