"""Small translations from Discord objects to the Discord-free types the services take."""

from __future__ import annotations

import discord

from bot.domain.permissions import Actor


def actor_from_interaction(interaction: discord.Interaction) -> Actor:
    """The member behind an interaction, with their permissions in that channel."""
    user = interaction.user
    permissions = interaction.permissions
    roles = frozenset(role.id for role in getattr(user, "roles", ()))
    return Actor(
        user_id=user.id,
        role_ids=roles,
        manage_guild=permissions.manage_guild,
        manage_threads=permissions.manage_threads,
        administrator=permissions.administrator,
        is_bot=user.bot,
    )


def actor_from_member(member: discord.Member | discord.User) -> Actor:
    """The member behind a gateway event (a reaction), with their server-wide permissions."""
    if not isinstance(member, discord.Member):
        return Actor(user_id=member.id, is_bot=member.bot)
    permissions = member.guild_permissions
    return Actor(
        user_id=member.id,
        role_ids=frozenset(role.id for role in member.roles),
        manage_guild=permissions.manage_guild,
        manage_threads=permissions.manage_threads,
        administrator=permissions.administrator,
        is_bot=member.bot,
    )


def thread_link(guild_id: int, thread_id: int, message_id: int | None = None) -> str:
    tail = f"/{message_id}" if message_id else ""
    return f"https://discord.com/channels/{guild_id}/{thread_id}{tail}"
