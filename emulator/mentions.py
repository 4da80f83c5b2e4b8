"""Mentions in message content, and who a bot message would actually ping.

Discord separates the two: ``mentions``/``mention_roles`` list what the content mentions, while
``allowed_mentions`` decides who is notified. Tests assert on the latter (``Emulator.pings``) so a bot
that accidentally pings a role or @everyone is caught.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EVERYONE_MENTION = re.compile(r"@(everyone|here)\b")


@dataclass
class ContentMentions:
    """What the content of a message mentions, before allowed_mentions is applied."""

    users: list[int] = field(default_factory=list)
    roles: list[int] = field(default_factory=list)
    everyone: bool = False


def parse_content(content: str) -> ContentMentions:
    """Ids of users and roles mentioned in ``content``, in first-seen order, and @everyone/@here."""
    users = list(dict.fromkeys(int(m) for m in USER_MENTION.findall(content)))
    roles = list(dict.fromkeys(int(m) for m in ROLE_MENTION.findall(content)))
    return ContentMentions(users, roles, bool(EVERYONE_MENTION.search(content)))


@dataclass
class Pings:
    """Who one message notifies."""

    users: set[int]
    roles: set[int]
    everyone: bool


def compute_pings(
    content: str,
    allowed_mentions: dict[str, Any] | None,
    replied_user_id: int | None,
    can_mention_everyone: bool,
    mentionable_roles: set[int],
) -> Pings:
    """Apply Discord's allowed_mentions rules to the mentions in ``content``.

    Absent ``allowed_mentions`` means Discord's default: parse users, roles and everyone, and ping
    the author of a replied-to message. Explicit ``users``/``roles`` lists whitelist ids (and
    Discord rejects combining a list with the same key in ``parse``, which the spec check catches).
    Role pings need the role to be mentionable (or the sender to hold MENTION_EVERYONE);
    @everyone needs MENTION_EVERYONE.
    """
    found = parse_content(content)
    if allowed_mentions is None:
        parse = {"users", "roles", "everyone"}
        allowed_users: set[int] = set()
        allowed_roles: set[int] = set()
        replied = True
    else:
        parse = set(allowed_mentions.get("parse") or [])
        allowed_users = {int(u) for u in allowed_mentions.get("users") or []}
        allowed_roles = {int(r) for r in allowed_mentions.get("roles") or []}
        replied = bool(allowed_mentions.get("replied_user", False))
    users = {u for u in found.users if "users" in parse or u in allowed_users}
    roles = {r for r in found.roles if "roles" in parse or r in allowed_roles}
    roles = {r for r in roles if r in mentionable_roles or can_mention_everyone}
    if replied and replied_user_id is not None:
        users.add(replied_user_id)
    everyone = found.everyone and "everyone" in parse and can_mention_everyone
    return Pings(users, roles, everyone)


def attempts_everyone(content: str, allowed_mentions: dict[str, Any] | None) -> bool:
    """Whether the bot tried to ping @everyone/@here (allowed_mentions would let it through)."""
    if not EVERYONE_MENTION.search(content):
        return False
    return allowed_mentions is None or "everyone" in (allowed_mentions.get("parse") or [])
