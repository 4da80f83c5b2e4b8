"""The Discord permissions Unstuck uses, and why: one list for the invite link and the set-up check.

Bits are Discord's own (https://discord.com/developers/docs/topics/permissions). Every permission
the bot needs is here with the reason an admin will read; nothing else is ever asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Where(Enum):
    """Where a permission is needed: every help channel, or the channel a post goes to."""

    HELP_CHANNEL = "help channel"
    ESCALATION_CHANNEL = "escalation channel"
    LEADERBOARD_CHANNEL = "leaderboard channel"


@dataclass(frozen=True)
class BotPermission:
    """One permission bit the bot asks for, with its Discord name and why Unstuck needs it."""

    name: str
    bit: int
    why: str
    where: frozenset[Where]
    required: bool = True

    @property
    def value(self) -> int:
        return 1 << self.bit


# The bits other modules test on their own (Discord's values).
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS_BIT = 4
MENTION_EVERYONE_BIT = 17
MANAGE_CHANNELS = 1 << MANAGE_CHANNELS_BIT
MENTION_EVERYONE = 1 << MENTION_EVERYONE_BIT

_HELP = frozenset({Where.HELP_CHANNEL})
_POSTS = frozenset({Where.HELP_CHANNEL, Where.ESCALATION_CHANNEL, Where.LEADERBOARD_CHANNEL})

BOT_PERMISSIONS: tuple[BotPermission, ...] = (
    BotPermission("View Channels", 10, "see the help channels and the channels it posts in", _POSTS),
    BotPermission("Send Messages", 11, "post digests and leaderboards, and answer in text channels", _POSTS),
    BotPermission("Send Messages in Threads", 38, "welcome askers and post notes in help threads", _HELP),
    BotPermission(
        "Create Public Threads", 35, "open a thread for each question in text help channels", _HELP
    ),
    BotPermission(
        "Manage Threads", 34, "tag, rename, archive and reopen help threads it did not start", _HELP
    ),
    BotPermission("Embed Links", 14, "show suggestions, digests and leaderboards as embeds", _POSTS),
    BotPermission("Read Message History", 16, "catch up on what happened while it was offline", _HELP),
    BotPermission(
        "Mention Everyone",
        MENTION_EVERYONE_BIT,
        "ping a tier's role in escalation digests when that role is not mentionable",
        frozenset({Where.ESCALATION_CHANNEL}),
    ),
    BotPermission(
        "Manage Channels",
        MANAGE_CHANNELS_BIT,
        "create a forum's Solved and Unanswered tags when you add it as a help channel",
        _HELP,
        required=False,
    ),
)

SCOPES: tuple[str, ...] = ("bot", "applications.commands")


def permission_value(*, include_optional: bool = False) -> int:
    """The permissions integer of an OAuth2 invite URL."""
    value = 0
    for permission in BOT_PERMISSIONS:
        if permission.required or include_optional:
            value |= permission.value
    return value


def missing_in(granted: int, where: Where) -> list[BotPermission]:
    """The required permissions for a channel of this kind that `granted` lacks."""
    if granted & ADMINISTRATOR:
        return []
    return [p for p in BOT_PERMISSIONS if p.required and where in p.where and not granted & p.value]
