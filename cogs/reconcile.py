"""Start-up catch-up: Discord does not replay what happened while the bot was down, so read it back.

For each help channel of a guild: track forum posts and text-channel questions that appeared, and
feed every thread's messages after the last one seen through the same code path as live events.
Threads known to be archived are skipped: Discord lets an archived thread change only by making it
active again, and active threads are all looked at. Everything it calls is idempotent, so running
it while live events arrive is safe.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.services.server_config import ServerConfig
from storage.models import HelpThread
from storage.repositories import HelpChannelRepo, ThreadRepo

if TYPE_CHECKING:
    from cogs.help_threads import HelpThreads

log = logging.getLogger(__name__)

# How far back the restart catch-up looks for solved-emoji reactions in each active thread.
REACTION_HISTORY = 200


async def reconcile_guild(cog: HelpThreads, guild: discord.Guild, config: ServerConfig) -> None:
    if not config.help_channels:
        return
    try:
        active = [t for t in await guild.active_threads() if config.is_help_channel(t.parent_id)]
    except discord.HTTPException:
        log.warning("could not list active threads of guild %s", guild.id)
        active = []
    async with cog.bot.services.db.reading() as session:
        threads = ThreadRepo(session)
        # Active threads whatever their state here (a dormant one may have been woken up), and
        # the tracked ones that may have been archived or deleted meanwhile. Threads known to be
        # archived are skipped: they change only by becoming active again.
        rows = await threads.get_many({t.id for t in active}, lock=False)
        unsettled = {t.id: t for t in await threads.not_known_archived(guild.id)}
        channels = {c.channel_id: c for c in await HelpChannelRepo(session).for_guild(guild.id)}
    for channel_id, row in channels.items():
        if row.kind == "text":
            await _catch_up_text_channel(cog, guild, channel_id, row.last_seen_message_id)
    for thread in active:
        if thread.id not in rows and config.help_channels.get(thread.parent_id or 0) == "forum":
            await cog._open_forum_thread(thread, await _starter_text(thread))
        await _catch_up_thread(cog, thread, rows.get(thread.id))
    for thread in active:
        await _catch_up_reactions(cog, thread, config)
        row = rows.get(thread.id)
        if row is not None and row.archived_on_discord:  # unarchived while the bot was away
            await cog.service.archived_changed(thread.id, False)
    active_ids = {t.id for t in active}
    for thread_id, row in unsettled.items():
        if thread_id not in active_ids:
            await _check_inactive_thread(cog, thread_id, row, config)


async def _starter_text(thread: discord.Thread) -> str:
    try:
        return (await thread.fetch_message(thread.id)).content
    except discord.HTTPException:
        return ""


async def _catch_up_text_channel(
    cog: HelpThreads, guild: discord.Guild, channel_id: int, last_seen: int | None
) -> None:
    """Open threads for questions posted in a help text channel while the bot was away."""
    channel = guild.get_channel(channel_id)
    if not isinstance(channel, discord.TextChannel) or last_seen is None:
        return  # a channel added while running starts with what comes next, not with old history
    try:
        async for message in channel.history(limit=500, after=discord.Object(last_seen), oldest_first=True):
            if message.author.bot or message.type not in (
                discord.MessageType.default,
                discord.MessageType.reply,
            ):
                continue
            await cog._open_text_thread(message)
    except discord.HTTPException:
        log.warning("could not read the history of help channel %s", channel_id)


async def _catch_up_thread(cog: HelpThreads, thread: discord.Thread, row: HelpThread | None) -> None:
    """Feed the messages a thread received during downtime through the live path."""
    after = (row.last_seen_message_id if row else None) or thread.id
    try:
        async for message in thread.history(limit=None, after=discord.Object(after), oldest_first=True):
            await cog._thread_message(thread, message, await cog.bot.services.configs.get(thread.guild.id))
    except discord.HTTPException:
        log.warning("could not read the history of thread %s", thread.id)


async def _catch_up_reactions(cog: HelpThreads, thread: discord.Thread, config: ServerConfig) -> None:
    """Apply the solved-emoji reactions added or removed while the bot was away.

    Discord sends no events for them later, so the reactions it shows now are compared with the
    ones the bot last handled: removals first, then additions in message order.
    """
    emoji = config.settings.help.solved_emoji
    solutions = cog.bot.get_cog("Solutions")
    if solutions is None:
        return
    try:
        shown, window = await _shown_reactions(thread, emoji)
    except discord.HTTPException:
        log.warning("could not read the reactions of thread %s", thread.id)
        return
    seen = {
        (m, u) for m, u in await cog.bot.services.solutions.seen_reactions(thread.id, emoji) if m in window
    }
    for message_id, user_id in sorted(seen - shown):
        await solutions.reaction_removed(thread.id, user_id, message_id, emoji)  # type: ignore[attr-defined]
    for message_id, user_id in sorted(shown - seen):
        member = thread.guild.get_member(user_id) or await _member(thread.guild, user_id)
        if member is not None:
            await solutions.reaction_added(thread, message_id, member, emoji)  # type: ignore[attr-defined]


async def _shown_reactions(thread: discord.Thread, emoji: str) -> tuple[set[tuple[int, int]], set[int]]:
    """(message, user) pairs of human solved-emoji reactions on the thread's recent messages."""
    shown: set[tuple[int, int]] = set()
    window: set[int] = set()
    async for message in thread.history(limit=REACTION_HISTORY):
        window.add(message.id)
        for reaction in message.reactions:
            if str(reaction.emoji) == emoji:
                shown |= {(message.id, user.id) async for user in reaction.users() if not user.bot}
    return shown, window


async def _member(guild: discord.Guild, user_id: int) -> discord.Member | None:
    try:
        return await guild.fetch_member(user_id)
    except discord.HTTPException:
        return None


async def _check_inactive_thread(
    cog: HelpThreads, thread_id: int, row: HelpThread, config: ServerConfig
) -> None:
    """A tracked thread that is no longer active was archived or deleted while the bot was away."""
    try:
        channel = await cog.bot.fetch_channel(thread_id)
    except discord.NotFound:
        await cog.service.thread_deleted(thread_id)
        return
    except discord.HTTPException:
        return
    if isinstance(channel, discord.Thread):
        await _catch_up_thread(cog, channel, row)
        # An archived thread's reactions changed too: a later restart must not find them "new".
        await _catch_up_reactions(cog, channel, config)
        if channel.archived:
            await cog.service.archived_changed(thread_id, True)  # not looked at again until active
