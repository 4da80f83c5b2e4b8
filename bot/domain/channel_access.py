"""Who can view a channel, worked out from its permission overwrites the way Discord does.

Suggestions and `/similar` show a solved thread's title and answer, so they may only show threads
from channels the reader can view. Two questions, both answered from plain values the cog reads
off discord.py (roles, their permissions, each channel's overwrites):

* :func:`can_view`: may this member view this channel? Exact, Discord's own order: the server-wide
  permissions of @everyone and the member's roles (the owner and ADMINISTRATOR see everything),
  then the channel's @everyone overwrite, then its role overwrites together (any allow beats any
  deny), then the member's own overwrite.
* :func:`audience_can_view`: can everyone who can view channel A also view channel B? That is what
  a note posted in a thread of A may show from B, since anyone in A reads it. The members of A are
  not enumerated (that needs the members intent and changes all the time); instead the check asks
  whether *some* member, holding any combination of the server's roles, could view A but not B.
  This is exact over every role combination and every member named in an overwrite, and so
  conservative for the members actually there: it refuses when no member holds the combination
  that tells the channels apart today (e.g. B denies a "Muted" role that A lets staff in with:
  a muted staff member would see A but not B).

A thread has no overwrites of its own: pass its parent channel's id.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from bot.domain.bot_permissions import ADMINISTRATOR

VIEW_CHANNEL = 1 << 10
ALL_PERMISSIONS = (1 << 53) - 1  # what the owner and ADMINISTRATOR hold in every channel


@dataclass(frozen=True)
class Overwrite:
    """One overwrite of a channel: for a role (the @everyone role's id is the server's) or a member."""

    target_id: int
    is_member: bool
    allow: int = 0
    deny: int = 0


@dataclass(frozen=True)
class GuildAccess:
    """A server's permission set-up as plain values: enough to say who can view which channel.

    A channel missing from ``overwrites`` is one the bot cannot see (deleted, or hidden from it):
    nobody, not even an administrator, is taken to view it, so nothing from it is shown.
    """

    guild_id: int  # also the id of the @everyone role
    owner_id: int
    role_permissions: Mapping[int, int] = field(default_factory=dict)  # server-wide, @everyone included
    overwrites: Mapping[int, tuple[Overwrite, ...]] = field(default_factory=dict)  # by channel id


@dataclass(frozen=True)
class Viewer:
    """The member who will read what is shown."""

    user_id: int
    role_ids: frozenset[int] = frozenset()


def _union(values: Iterable[int]) -> int:
    result = 0
    for value in values:
        result |= value
    return result


def server_permissions(access: GuildAccess, viewer: Viewer) -> int:
    """The member's server-wide permissions: @everyone's and their roles' together."""
    if viewer.user_id == access.owner_id:
        return ALL_PERMISSIONS
    perms = access.role_permissions.get(access.guild_id, 0)
    perms |= _union(access.role_permissions.get(r, 0) for r in viewer.role_ids)
    return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms


def channel_permissions(access: GuildAccess, channel_id: int, viewer: Viewer) -> int:
    """The member's permissions in a channel (0 in a channel the bot cannot see)."""
    overwrites = access.overwrites.get(channel_id)
    if overwrites is None:
        return 0
    perms = server_permissions(access, viewer)
    if perms == ALL_PERMISSIONS:
        return perms  # the owner and administrators are above overwrites
    roles = [o for o in overwrites if not o.is_member]
    everyone = [o for o in roles if o.target_id == access.guild_id]
    held = [o for o in roles if o.target_id in viewer.role_ids and o.target_id != access.guild_id]
    own = [o for o in overwrites if o.is_member and o.target_id == viewer.user_id]
    for layer in (everyone, held, own):
        perms &= ~_union(o.deny for o in layer)
        perms |= _union(o.allow for o in layer)
    return perms


def can_view(access: GuildAccess, channel_id: int, viewer: Viewer) -> bool:
    """Whether the member can view the channel (and so read its threads)."""
    return bool(channel_permissions(access, channel_id, viewer) & VIEW_CHANNEL)


def viewable(access: GuildAccess, viewer: Viewer, channel_ids: Iterable[int]) -> frozenset[int]:
    """The channels of ``channel_ids`` the member can view."""
    return frozenset(c for c in channel_ids if can_view(access, c, viewer))


# ---- a channel's audience ---------------------------------------------------------------------


class _Says(Enum):
    """What one overwrite says about VIEW_CHANNEL (an allow wins over a deny, as on Discord)."""

    ALLOW = "allow"
    DENY = "deny"
    NOTHING = "nothing"


def _says(overwrite: Overwrite | None) -> _Says:
    if overwrite is None:
        return _Says.NOTHING
    if overwrite.allow & VIEW_CHANNEL:
        return _Says.ALLOW
    return _Says.DENY if overwrite.deny & VIEW_CHANNEL else _Says.NOTHING


@dataclass(frozen=True)
class _ViewRules:
    """A channel's overwrites, reduced to what each says about VIEW_CHANNEL."""

    everyone: _Says
    allowing: frozenset[int]  # roles whose overwrite allows viewing
    denying: frozenset[int]  # roles whose overwrite denies it (and does not allow it)
    members: Mapping[int, _Says]

    @classmethod
    def of(cls, access: GuildAccess, overwrites: Collection[Overwrite]) -> _ViewRules:
        roles = {o.target_id: _says(o) for o in overwrites if not o.is_member}
        return cls(
            everyone=roles.pop(access.guild_id, _Says.NOTHING),
            allowing=frozenset(r for r, s in roles.items() if s is _Says.ALLOW),
            denying=frozenset(r for r, s in roles.items() if s is _Says.DENY),
            members={o.target_id: _says(o) for o in overwrites if o.is_member},
        )


@dataclass(frozen=True)
class _Roles:
    """The server's roles as the audience check needs them."""

    everyone_views: bool  # @everyone's server-wide permissions include VIEW_CHANNEL
    granting_view: frozenset[int]  # roles whose server-wide permissions include VIEW_CHANNEL
    ordinary: frozenset[int]  # every role but @everyone and administrator roles


def _can_view_with_some(
    rules: _ViewRules, roles: _Roles, pool: frozenset[int], need: frozenset[int] | None
) -> bool:
    """Whether some set of roles taken from ``pool`` (holding one of ``need``, when given) lets a
    member without an overwrite of their own view the channel."""
    if need is not None and not need & pool:
        return False
    if rules.allowing & pool:
        return True  # hold an allowing role (and the needed one): any allow beats any deny
    pool -= rules.denying
    if need is not None and not need & pool:
        return False
    if rules.everyone is not _Says.NOTHING:
        return rules.everyone is _Says.ALLOW
    return roles.everyone_views or bool(roles.granting_view & pool)


def _hidden_with_some(a: _ViewRules | None, b: _ViewRules, roles: _Roles) -> bool:
    """Whether some role combination lets a member without an overwrite of their own in B view A
    (any member, when ``a`` is None: A's own overwrite lets them in) but not B."""
    pool = roles.ordinary - b.allowing  # holding a role B allows would let them into B
    ways_out: list[tuple[frozenset[int], frozenset[int] | None]] = [(pool, b.denying)]  # hold a denied role
    if b.everyone is _Says.DENY:
        ways_out.append((pool, None))  # hold no role B allows
    elif b.everyone is _Says.NOTHING and not roles.everyone_views:
        ways_out.append((pool - roles.granting_view, None))  # hold no role granting View Channel
    for usable, need in ways_out:
        if a is None:
            if need is None or need & usable:
                return True
        elif _can_view_with_some(a, roles, usable, need):
            return True
    return False


def audience_can_view(access: GuildAccess, channel_id: int, other_id: int) -> bool:
    """Whether everyone who can view ``channel_id`` can view ``other_id`` too (see the module's
    docstring: exact over role combinations, conservative for the members actually there)."""
    if channel_id == other_id:
        return True
    a_overwrites, b_overwrites = access.overwrites.get(channel_id), access.overwrites.get(other_id)
    if a_overwrites is None or b_overwrites is None:
        return False  # a channel the bot cannot see: its audience is unknown
    everyone = access.role_permissions.get(access.guild_id, 0)
    if everyone & ADMINISTRATOR:
        return True
    roles = _Roles(
        everyone_views=bool(everyone & VIEW_CHANNEL),
        granting_view=frozenset(r for r, p in access.role_permissions.items() if p & VIEW_CHANNEL),
        ordinary=frozenset(
            r
            for r in {*access.role_permissions, *(o.target_id for o in (*a_overwrites, *b_overwrites))}
            if r != access.guild_id and not access.role_permissions.get(r, 0) & ADMINISTRATOR
        ),
    )
    a, b = _ViewRules.of(access, a_overwrites), _ViewRules.of(access, b_overwrites)
    members = {*a.members, *b.members} - {access.owner_id}
    in_a = {m: a.members.get(m, _Says.NOTHING) for m in members}
    in_b = {m: b.members.get(m, _Says.NOTHING) for m in members}
    if _hidden_with_some(a, b, roles):  # a member with no overwrite of their own
        return False
    for member in members:
        if in_b[member] is _Says.ALLOW or in_a[member] is _Says.DENY:
            continue
        a_rules = None if in_a[member] is _Says.ALLOW else a
        if in_b[member] is _Says.DENY:
            # Kept out of B whatever their roles: safe only if no role combination shows them A.
            if a_rules is None or _can_view_with_some(a_rules, roles, roles.ordinary, None):
                return False
        elif _hidden_with_some(a_rules, b, roles):
            return False
    return True


def shared_with_audience(access: GuildAccess, channel_id: int, other_ids: Iterable[int]) -> frozenset[int]:
    """The channels of ``other_ids`` that everyone who can view ``channel_id`` can view."""
    return frozenset(c for c in other_ids if audience_can_view(access, channel_id, c))
