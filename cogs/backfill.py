"""Importing solved history from Discord: the history reader and `/unstuck backfill`.

:class:`DiscordHistory` reads archived threads through the REST API only, so the same code serves
the running bot (the `/unstuck backfill` command, whose progress message is edited as it goes) and
the command line (`unstuck backfill`, in :mod:`bot.cli.running`).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.domain.permissions import Actor
from bot.services.backfill import BackfillStatus, HistoricThread, MarkedMessage, ThreadStub
from cogs._common import actor_from_member, respond

if TYPE_CHECKING:
    from bot.app import UnstuckBot

log = logging.getLogger(__name__)

MESSAGES_PER_THREAD = 1000  # a help thread longer than this is read up to here
EDIT_EVERY = 1.5  # seconds between edits of the progress message (Discord rate-limits edits)


class DiscordHistory:
    """The backfill's window on one server's history (a :class:`bot.services.backfill.HistoryPort`)."""

    def __init__(self, guild: discord.Guild, solved_tag: str) -> None:
        self.guild = guild
        self.solved_tag = solved_tag.casefold()
        self._threads: dict[int, discord.Thread] = {}
        self._actors: dict[int, Actor] = {}

    async def _channel(self, channel_id: int) -> discord.abc.GuildChannel | None:
        channel = self.guild.get_channel(channel_id)
        if channel is not None:
            return channel
        try:
            return await self.guild.fetch_channel(channel_id)
        except (discord.NotFound, discord.Forbidden):
            return None

    async def archived(self, channel_id: int, kind: str, before: datetime | None) -> list[ThreadStub]:
        channel = await self._channel(channel_id)
        if not isinstance(channel, discord.ForumChannel | discord.TextChannel):
            log.warning("backfill: help channel %s is gone or not readable", channel_id)
            return []
        solved = [
            t.id for t in getattr(channel, "available_tags", []) if t.name.casefold() == self.solved_tag
        ]
        stubs = []
        async for thread in channel.archived_threads(limit=None, before=before):
            self._threads[thread.id] = thread
            # Tag ids, not `applied_tags`: that resolves names through the cache, empty on the command line.
            candidate = kind == "text" or any(tag in solved for tag in thread._applied_tags)
            archived_at = thread.archive_timestamp or discord.utils.snowflake_time(thread.id)
            stubs.append(ThreadStub(thread.id, archived_at, candidate))
        return stubs

    async def read(self, channel_id: int, kind: str, stub: ThreadStub, emoji: str) -> HistoricThread | None:
        thread = self._threads.get(stub.thread_id)
        if thread is None:
            return None
        starter = await self._starter(thread, channel_id, kind)
        asker_id = starter.author.id if starter is not None else thread.owner_id or 0
        created_at = thread.created_at or discord.utils.snowflake_time(thread.id)
        last_id, last_at, first_reply = None, created_at, None
        marked: list[MarkedMessage] = []
        try:
            async for message in thread.history(limit=MESSAGES_PER_THREAD, oldest_first=True):
                last_id, last_at = message.id, message.created_at
                if first_reply is None and message.author.id != asker_id and not message.author.bot:
                    first_reply = (message.author.id, message.created_at)
                reaction = next((r for r in message.reactions if str(r.emoji) == emoji), None)
                if reaction is not None:
                    marked.append(await self._marked(message, reaction))
        except (discord.NotFound, discord.Forbidden):
            return None
        return HistoricThread(
            thread_id=thread.id,
            guild_id=self.guild.id,
            channel_id=channel_id,
            kind=kind,
            asker_id=asker_id,
            title=thread.name,
            question=starter.content if starter is not None else "",
            created_at=created_at,
            last_message_id=last_id,
            last_activity_at=last_at,
            first_reply=first_reply,
            marked=tuple(marked),
        )

    async def _starter(self, thread: discord.Thread, channel_id: int, kind: str) -> discord.Message | None:
        """The question: a forum post's first message, or the text-channel message the thread grew from
        (both share the thread's id)."""
        where = thread if kind == "forum" else await self._channel(channel_id)
        if not isinstance(where, discord.Thread | discord.TextChannel):
            return None
        try:
            return await where.fetch_message(thread.id)
        except (discord.NotFound, discord.Forbidden):
            return None

    async def _marked(self, message: discord.Message, reaction: discord.Reaction) -> MarkedMessage:
        reactors = [await self._actor(user) async for user in reaction.users()]
        return MarkedMessage(
            message_id=message.id,
            author_id=message.author.id,
            author_is_bot=message.author.bot,
            content=message.content,
            created_at=message.created_at,
            reactors=tuple(reactors),
        )

    async def _actor(self, user: discord.User | discord.Member) -> Actor:
        """Who reacted, with their roles today (members who left count without any)."""
        if user.id not in self._actors:
            member = user if isinstance(user, discord.Member) else self.guild.get_member(user.id)
            if member is None:
                try:
                    member = await self.guild.fetch_member(user.id)
                except discord.NotFound:
                    member = None
            self._actors[user.id] = actor_from_member(member or user)
        return self._actors[user.id]


class ProgressMessage:
    """`/unstuck backfill`'s answer, edited as the import goes (at most every ``EDIT_EVERY`` s)."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.message: discord.PartialMessage | None = None
        self._last_edit = 0.0

    async def __call__(self, status: BackfillStatus) -> None:
        text = progress_text(status)
        if self.message is None:
            await respond(self.interaction, text, ephemeral=False)
            sent = await self.interaction.original_response()
            # Edited as a channel message, not through the interaction token (which expires in 15 min).
            self.message = sent.channel.get_partial_message(sent.id)  # type: ignore[union-attr]
            self._last_edit = time.monotonic()
            return
        if not status.finished and time.monotonic() - self._last_edit < EDIT_EVERY:
            return
        self._last_edit = time.monotonic()
        try:
            await self.message.edit(content=text)
        except discord.HTTPException:
            log.info("could not update the backfill progress message")


def progress_text(status: BackfillStatus) -> str:
    if status.finished:
        return (
            f"✅ Backfill done: imported {status.imported} solved thread{'s' * (status.imported != 1)} "
            f"({status.done} archived threads checked). They are suggested from now on."
        )
    return f"📥 Importing solved threads from the help channels' history…\n{status.describe()}"


async def backfill_from_command(bot: UnstuckBot, interaction: discord.Interaction) -> None:
    """`/unstuck backfill`: import this server's history; the answer is the progress message."""
    guild = interaction.guild
    assert guild is not None
    config = await bot.services.configs.get(guild.id)
    history = DiscordHistory(guild, config.settings.help.solved_tag)
    await bot.services.backfill.run(guild.id, history, ProgressMessage(interaction))
