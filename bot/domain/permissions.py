"""Who may do what: one place for every permission rule, free of Discord types.

Cogs build an :class:`Actor` from the member who acted and ask these functions; the permission
matrix test walks them for every command.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    """The member behind an action, reduced to the facts the rules need."""

    user_id: int
    role_ids: frozenset[int] = field(default_factory=frozenset)
    manage_guild: bool = False
    manage_threads: bool = False
    administrator: bool = False
    is_bot: bool = False


@dataclass(frozen=True)
class ServerRoles:
    """The roles a server configured for Unstuck."""

    helper_roles: frozenset[int] = field(default_factory=frozenset)
    staff_roles: frozenset[int] = field(default_factory=frozenset)


def _holds_any(actor: Actor, roles: Collection[int]) -> bool:
    return not actor.role_ids.isdisjoint(roles)


def is_staff(actor: Actor, roles: ServerRoles) -> bool:
    """Staff: a configured staff role, Manage Server or Administrator."""
    if actor.is_bot:
        return False
    return actor.administrator or actor.manage_guild or _holds_any(actor, roles.staff_roles)


def is_helper(actor: Actor, roles: ServerRoles) -> bool:
    """Helpers: a configured helper role (staff count as helpers too)."""
    return not actor.is_bot and (_holds_any(actor, roles.helper_roles) or is_staff(actor, roles))


def can_configure(actor: Actor) -> bool:
    """Server settings need Manage Server (or Administrator)."""
    return not actor.is_bot and (actor.manage_guild or actor.administrator)


def can_moderate_thread(actor: Actor, asker_id: int, roles: ServerRoles) -> bool:
    """Close or reopen a help thread: its asker, staff, or anyone with Manage Threads."""
    if actor.is_bot:
        return False
    return actor.user_id == asker_id or actor.manage_threads or is_staff(actor, roles)


def can_mark_solution(actor: Actor, asker_id: int, roles: ServerRoles) -> bool:
    """Mark or move a solution: the asker, a helper or staff role, or Manage Threads."""
    if actor.is_bot:
        return False
    return actor.user_id == asker_id or actor.manage_threads or is_helper(actor, roles)


def skips_cooldowns(actor: Actor, roles: ServerRoles) -> bool:
    """Helpers and staff use `/similar`, `/stats` and the leaderboard as working tools: no cooldown."""
    return is_helper(actor, roles)


def reaction_may_mark(
    actor: Actor,
    asker_id: int,
    roles: ServerRoles,
    *,
    thread_id: int,
    message_id: int,
    author_id: int | None,
    bot_id: int | None,
) -> bool:
    """Whether a solved-emoji reaction could mark anything, judged from the gateway event alone.

    Who reacted must be allowed to mark, the message must not be the question itself (in a help
    thread the starter message shares the thread's id) nor one of this bot's own (``author_id``
    and ``bot_id``, when the event and the session tell them). Whatever this rejects is ignored
    before the bot fetches the message or opens a write transaction: a crowd of ✅ from members
    who may not mark costs nothing.
    """
    if message_id == thread_id or (author_id is not None and author_id == bot_id):
        return False
    return can_mark_solution(actor, asker_id, roles)
