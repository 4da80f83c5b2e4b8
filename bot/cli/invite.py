"""`unstuck invite`: the link that adds the bot to a server, with exactly the permissions it uses.

The permissions and scopes come from :mod:`bot.domain.bot_permissions`, the same list the set-up
check uses, so the link never asks for more (or less) than the bot needs.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import re
from urllib.parse import urlencode

from bot.cli.common import CommandFailed, load
from bot.config import TOKEN_ENV_VAR, IntentsSettings
from bot.domain.bot_permissions import BOT_PERMISSIONS, SCOPES, permission_value

AUTHORIZE_URL = "https://discord.com/oauth2/authorize"
PORTAL = "https://discord.com/developers/applications"
_SNOWFLAKE = re.compile(r"[0-9]{15,20}")

WHERE_TO_FIND_IT = f"(The Application ID is on your application's General Information page at {PORTAL}.)"
NO_CLIENT_ID = [
    f"Unstuck needs your application's id for the invite link: pass --client-id ID, or set {TOKEN_ENV_VAR}.",
    WHERE_TO_FIND_IT,
]
NOT_A_BOT_TOKEN = [
    f"{TOKEN_ENV_VAR} does not look like a bot token, so it holds no application id: pass --client-id ID.",
    WHERE_TO_FIND_IT,
]


def client_id_argument(text: str) -> int:
    """``--client-id``: an application id is a Discord snowflake, 15 to 20 digits."""
    if not _SNOWFLAKE.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(
            "must be the Application ID from the developer portal, a number like 1234567890123456789"
        )
    return int(text)


def client_id_from_token(token: str) -> int | None:
    """The application id inside a bot token, or ``None`` if the token does not look like one.

    A bot token's first dot-separated part is the base64 of the bot's user id, and a bot's user id
    is its application's id.
    """
    first = token.strip().split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if _SNOWFLAKE.fullmatch(decoded) else None


def invite_url(client_id: int, *, include_optional: bool = False) -> str:
    """The OAuth2 URL that adds the bot with its scopes and permissions."""
    query = {
        "client_id": client_id,
        "scope": " ".join(SCOPES),
        "permissions": permission_value(include_optional=include_optional),
    }
    return f"{AUTHORIZE_URL}?{urlencode(query)}"


def invite_text(client_id: int, intents: IntentsSettings) -> str:
    """Everything `unstuck invite` prints: the links, what each permission is for, and the intents."""
    required = [p for p in BOT_PERMISSIONS if p.required]
    optional = [p for p in BOT_PERMISSIONS if not p.required]
    lines = [
        "Open this link to add Unstuck to a server (you need Manage Server there):",
        "",
        f"  {invite_url(client_id)}",
        "",
        "It asks for the scopes bot and applications.commands (slash commands), and these permissions:",
        *(f"  - {p.name}: {p.why}" for p in required),
    ]
    if optional:
        lines += ["", "Optional, not in the link above:"]
        lines += [f"  - {p.name}: {p.why}" for p in optional]
        lines += [
            "To grant it too, use this link instead:",
            "",
            f"  {invite_url(client_id, include_optional=True)}",
        ]
    lines += ["", *_intent_lines(client_id, intents)]
    return "\n".join(lines)


def _intent_lines(client_id: int, intents: IntentsSettings) -> list[str]:
    """Which privileged intents to switch on in the portal, following the ``[intents]`` settings."""
    wanted = []
    if intents.message_content:
        wanted.append("  - Message Content Intent: read questions and answers to find similar solved threads")
    if intents.members:
        wanted.append("  - Server Members Intent: know who holds the helper, staff and excluded roles")
    if not wanted:
        return ["No privileged intents needed: [intents] turns both off."]
    return [
        f"Then switch on these privileged intents at {PORTAL}/{client_id}/bot",
        '(section "Privileged Gateway Intents"), or Discord refuses to connect the bot:',
        *wanted,
        "(They follow [intents] in config.toml; turn one off there to run without it.)",
    ]


def cmd_invite(args: argparse.Namespace) -> int:
    """Print the invite links and the intents to switch on."""
    settings = load(args)
    client_id: int | None = args.client_id
    token = settings.token_value()
    if client_id is None and token:
        client_id = client_id_from_token(token)
        if client_id is None:
            raise CommandFailed(NOT_A_BOT_TOKEN)
    if client_id is None:
        raise CommandFailed(NO_CLIENT_ID)
    print(invite_text(client_id, settings.intents))
    return 0


def add_invite_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register `unstuck invite [--client-id ID]`."""
    invite = commands.add_parser(
        "invite",
        parents=[common],
        help="print the link that adds the bot to a server, and the intents to switch on",
    )
    invite.add_argument(
        "--client-id",
        type=client_id_argument,
        metavar="ID",
        help=f"the Application ID (default: read from {TOKEN_ENV_VAR})",
    )
    invite.set_defaults(func=cmd_invite)
