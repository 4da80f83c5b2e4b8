"""Who can view which channel, read off discord.py's cache as the plain values the domain takes."""

from __future__ import annotations

from collections.abc import Collection

import discord

from bot.domain.channel_access import GuildAccess, Overwrite, Viewer

OverwriteTarget = discord.Role | discord.Member | discord.Object


def _is_role(target: OverwriteTarget) -> bool:
    # discord.py gives an Object (typed Role or User) for a target missing from its cache.
    return isinstance(target, discord.Role) or (
        isinstance(target, discord.Object) and target.type is discord.Role
    )


def channel_overwrites(channel: discord.abc.GuildChannel) -> tuple[Overwrite, ...]:
    """A channel's permission overwrites, for roles (@everyone's included) and members."""
    found = []
    for target, overwrite in channel.overwrites.items():
        allow, deny = overwrite.pair()
        found.append(Overwrite(target.id, is_member=not _is_role(target), allow=allow.value, deny=deny.value))
    return tuple(found)


def guild_access(guild: discord.Guild, channel_ids: Collection[int]) -> GuildAccess:
    """The server's roles and the overwrites of those of ``channel_ids`` the bot can see (a thread
    stands for its parent channel: threads have no overwrites of their own)."""
    overwrites: dict[int, tuple[Overwrite, ...]] = {}
    for channel_id in channel_ids:
        channel = guild.get_channel_or_thread(channel_id)
        if isinstance(channel, discord.Thread):
            channel = channel.parent
        if channel is not None and not isinstance(channel, discord.Thread):
            overwrites[channel_id] = channel_overwrites(channel)
    return GuildAccess(
        guild_id=guild.id,
        owner_id=guild.owner_id or 0,
        role_permissions={role.id: role.permissions.value for role in guild.roles},
        overwrites=overwrites,
    )


def viewer_of(user: discord.Member | discord.User) -> Viewer:
    """The member who will read an answer (a user outside a server holds no role)."""
    roles = frozenset(role.id for role in getattr(user, "roles", ()))
    return Viewer(user.id, roles)


class DiscordAccess:
    """:class:`bot.services.similar.AccessPort` on discord.py's cache (no REST call)."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    def guild_access(self, guild_id: int, channel_ids: Collection[int]) -> GuildAccess | None:
        guild = self.client.get_guild(guild_id)
        return None if guild is None else guild_access(guild, channel_ids)
