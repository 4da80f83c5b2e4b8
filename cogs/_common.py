"""Small translations from Discord objects to the Discord-free types the services take."""

from __future__ import annotations

from typing import Any

import discord

from bot.domain.permissions import Actor
from bot.services.intake import PostedMessage, ThreadInfo
from bot.services.outbox import NoteLink
from bot.services.solutions import AnswerRef

#: Members' messages and replies; other types are system messages ("pinned a message", ...).
CHAT_MESSAGE_TYPES = (discord.MessageType.default, discord.MessageType.reply)


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


def thread_info(thread: discord.Thread) -> ThreadInfo:
    return ThreadInfo(
        thread_id=thread.id,
        guild_id=thread.guild.id,
        parent_id=thread.parent_id,
        owner_id=thread.owner_id,
        name=thread.name,
        created_at=thread.created_at or discord.utils.snowflake_time(thread.id),
        archived=thread.archived,
    )


def posted_message(message: discord.Message) -> PostedMessage:
    """A guild message as intake takes it (``message.guild`` must be set)."""
    channel = message.channel
    assert message.guild is not None
    return PostedMessage(
        message_id=message.id,
        guild_id=message.guild.id,
        channel_id=channel.id,
        author_id=message.author.id,
        author_name=message.author.display_name,
        author_is_bot=message.author.bot,
        content=message.content,
        created_at=message.created_at,
        is_chat=message.type in CHAT_MESSAGE_TYPES,
        thread=thread_info(channel) if isinstance(channel, discord.Thread) else None,
        own_thread_id=message.thread.id if message.thread is not None else None,
    )


def answer_ref(message: discord.Message) -> AnswerRef:
    return AnswerRef(
        message_id=message.id,
        channel_id=message.channel.id,
        author_id=message.author.id,
        author_is_bot=message.author.bot,
        content=message.content,
    )


def link_button(link: NoteLink) -> discord.ui.Button[Any]:
    return discord.ui.Button[Any](label=link.label, url=link.url, emoji=link.emoji or None)


def thread_link(guild_id: int, thread_id: int, message_id: int | None = None) -> str:
    tail = f"/{message_id}" if message_id else ""
    return f"https://discord.com/channels/{guild_id}/{thread_id}{tail}"
