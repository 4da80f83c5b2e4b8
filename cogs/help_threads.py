"""Help threads on Discord: open them, welcome askers, follow replies, close, reopen, put to rest.

Messages and new forum posts go to :mod:`bot.services.intake`, the path the start-up catch-up
(:mod:`cogs.catch_up`) uses too. The cog's port opens threads and renders the welcome and dormancy
notes the services owe (the delivery worker posts them); it is handed to the services when the cog
loads, with the dormancy sweep as a timed job.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.formatting import humanize_duration
from bot.domain.naming import without_prefix
from bot.scheduler import Job
from bot.services.help_threads import HelpThreadService
from bot.services.owed import OwedMessage
from bot.services.port_errors import Unavailable
from bot.services.server_config import ServerConfig
from bot.services.similar import Suggestion
from cogs._common import actor_from_interaction, owed_message, posted_message, respond, thread_info
from cogs._nonces import COMMAND_NOTE, DORMANT_NOTE, WELCOME_NOTE, nonce
from cogs._threads import DiscordThreads
from cogs.archive import PUBLISHED_NOTE
from cogs.similar import welcome_message
from storage.models import HelpThread

if TYPE_CHECKING:
    from bot.app import UnstuckBot

log = logging.getLogger(__name__)

# Discord's answer when a thread already exists for a message (the event was delivered twice).
THREAD_ALREADY_CREATED = 160004
DORMANCY_SWEEP_SECONDS = 60  # how often idle threads are looked for


class DiscordThreadPort(DiscordThreads):
    """The help-thread use cases' window on Discord (:class:`bot.services.intake.IntakePort`). Every
    note carries a nonce derived from what it is about, so a retry after a crash returns the first
    message instead of posting a second one."""

    def welcome_note(
        self, thread: HelpThread, config: ServerConfig, suggestions: Sequence[Suggestion]
    ) -> OwedMessage:
        embed = welcome_embed(config)
        if thread.channel_id in config.archive_channels:
            embed.add_field(name="Public archive", value=PUBLISHED_NOTE, inline=False)
        embeds, view = welcome_message(embed, suggestions, thread.id)
        return owed_message(nonce(WELCOME_NOTE, thread.id), thread.id, embeds=embeds, view=view)

    def dormant_note(self, thread: HelpThread, config: ServerConfig) -> OwedMessage:
        idle = config.settings.help.dormant_after
        text = (
            f"💤 This thread has been quiet for {humanize_duration(idle)}, so I archived it. "
            f"<@{thread.asker_id}>, just write here if you still need help and it opens again."
        )
        # The asker is named but not pinged: a dormancy note is no reason to wake anyone.
        return OwedMessage(nonce(DORMANT_NOTE, thread.id), thread.id, content=text)

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int:
        channel = self.client.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            raise RuntimeError(f"help channel {channel_id} is not a text channel the bot can see")
        try:
            thread = await channel.get_partial_message(message_id).create_thread(
                name=name, auto_archive_duration=10080
            )
        except discord.DiscordServerError as error:
            # The intake tries again (a second try finds the thread if this one was made after all).
            raise Unavailable(f"Discord answered {error.status}", unknown=True) from None
        except discord.HTTPException as error:
            if error.code != THREAD_ALREADY_CREATED:
                raise
            return message_id  # made just before a crash: a thread started from a message shares its id
        except (aiohttp.ClientError, OSError) as error:
            raise Unavailable(f"connection failed: {error!r}", unknown=True) from None
        return thread.id


def welcome_embed(config: ServerConfig) -> discord.Embed:
    """The note every new help thread gets: how to get help, and how to say it worked."""
    help_settings = config.settings.help
    embed = discord.Embed(title="👋 Welcome to your help thread", description=help_settings.welcome_message)
    embed.add_field(
        name="When it's solved",
        value=(
            f"React with {help_settings.solved_emoji} on the answer that worked, or use "
            "**Mark as solution** from its message menu, or `/solved`."
        ),
        inline=False,
    )
    embed.set_footer(text="Use /close if you no longer need help.")
    return embed


def _members_tags(thread: discord.Thread, config: ServerConfig) -> set[str]:
    """The tags members gave a forum post: all but the bot's own Solved and Unanswered."""
    own = {config.settings.help.solved_tag.casefold(), config.settings.help.unanswered_tag.casefold()}
    return {tag.name for tag in thread.applied_tags if tag.name.casefold() not in own}


async def _forum_question(thread: discord.Thread) -> str:
    """A forum post's text. THREAD_CREATE often arrives before its starter message is cached: fetch
    it then, so that the welcome note's suggestions are matched on the whole question."""
    starter = thread.starter_message
    if starter is None:
        try:
            starter = await thread.fetch_message(thread.id)
        except discord.HTTPException:
            return ""
    return starter.content


class HelpThreads(commands.Cog):
    """Tracks questions in the configured help channels."""

    def __init__(self, bot: UnstuckBot) -> None:
        self.bot = bot
        self.port = DiscordThreadPort(bot)

    async def cog_load(self) -> None:
        self.bot.services.intake.thread_port = self.port
        self.bot.scheduler.register(Job("dormancy", self._sweep_dormant, seconds=DORMANCY_SWEEP_SECONDS))

    @property
    def service(self) -> HelpThreadService:
        return self.bot.services.threads

    async def _sweep_dormant(self) -> None:
        await self.service.sweep_dormant(self.port)

    async def _config(self, guild_id: int | None) -> ServerConfig | None:
        if guild_id is None or not self.bot.scope.owns(guild_id):
            return None
        return await self.bot.services.configs.get(guild_id)

    # ---- new questions and messages --------------------------------------------------------------

    @commands.Cog.listener()
    async def on_thread_create(self, thread: discord.Thread) -> None:
        async def track() -> None:
            config = await self._config(thread.guild.id)
            if config is not None and config.help_channels.get(thread.parent_id or 0) == "forum":
                await self.bot.services.intake.forum_post(thread_info(thread), await _forum_question(thread))

        await self._in_lane(thread.guild.id, thread.id, track)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is not None:
            await self.bot.services.intake.message(posted_message(message))

    async def _in_lane(self, guild_id: int | None, lane: int, job: Callable[[], Awaitable[None]]) -> None:
        """Run a listener's work in the thread's lane: in order, and retried through database hiccups."""
        if guild_id is not None and self.bot.scope.owns(guild_id):
            await self.bot.services.intake.in_order(guild_id, lane, job)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        # A starter message shares its thread's id (forum) or is the thread's id (text channel).
        content = payload.data.get("content")
        if content is None:
            return

        async def edited() -> None:
            thread = await self.service.get(payload.message_id)
            if thread is not None:
                await self.service.update_question(thread.id, content)

        await self._in_lane(payload.guild_id, payload.message_id, edited)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        async def deleted() -> None:
            if await self.service.get(payload.message_id):
                await self.service.starter_deleted(payload.message_id)

        await self._in_lane(payload.guild_id, payload.message_id, deleted)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self._in_lane(
            payload.guild_id, payload.thread_id, lambda: self.service.thread_deleted(payload.thread_id)
        )

    @commands.Cog.listener()
    async def on_thread_update(self, before: discord.Thread, after: discord.Thread) -> None:
        config = await self._config(after.guild.id)
        if config is not None and before.name != after.name:
            # Our own ✅ prefix is decoration, not part of the question's title.
            title = without_prefix(after.name, config.settings.help.solved_prefix)
            await self._in_lane(after.guild.id, after.id, lambda: self.service.renamed(after.id, title))
        if config is not None and _members_tags(before, config) != _members_tags(after, config):
            # The bot's own Solved/Unanswered tags change with every solve: no write for those.
            tags = [tag.name for tag in after.applied_tags]
            await self._in_lane(after.guild.id, after.id, lambda: self.service.retagged(after.id, tags))

    @commands.Cog.listener()
    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        # Raw: an archived thread is not in discord.py's cache, and its unarchiving matters most.
        archived = payload.data.get("thread_metadata", {}).get("archived")
        if archived is not None:
            await self._in_lane(
                payload.guild_id,
                payload.thread_id,
                lambda: self.service.archived_changed(payload.thread_id, bool(archived)),
            )

    # ---- commands ------------------------------------------------------------------------------

    @app_commands.command(name="close", description="Close this help thread")
    @app_commands.describe(reason="Why: solved, duplicate, stale, off-topic, or your own words")
    @app_commands.guild_only()
    async def close(self, interaction: discord.Interaction, reason: app_commands.Range[str, 1, 200]) -> None:
        reason_text = discord.utils.escape_markdown(" ".join(reason.split())[:200])
        text = f"🔒 Closed by {interaction.user.mention}: {reason_text}. Use `/reopen` if you need more help."
        channel_id = interaction.channel_id or 0
        key = nonce(COMMAND_NOTE, interaction.id)
        note = OwedMessage(key=key, channel_id=channel_id, content=text)
        await self.service.close(channel_id, actor_from_interaction(interaction), reason, note)
        await respond(interaction, "Done: the thread is closed.")  # the note and archive are owed

    @close.autocomplete("reason")
    async def _close_reasons(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        config = await self._config(interaction.guild_id)
        reasons = config.settings.help.close_reasons if config else []
        return [app_commands.Choice(name=r, value=r) for r in reasons if current.lower() in r.lower()][:25]

    @app_commands.command(name="reopen", description="Reopen this help thread")
    @app_commands.guild_only()
    async def reopen(self, interaction: discord.Interaction) -> None:
        text = f"🔓 Reopened by {interaction.user.mention}. Ask away!"
        key = nonce(COMMAND_NOTE, interaction.id)
        note = OwedMessage(key, channel_id=interaction.channel_id or 0, content=text)
        thread = await self.service.reopen(note.channel_id, actor_from_interaction(interaction), note)
        await respond(interaction, "Done: the thread is open again.")  # note and unarchive are owed
        log.info("thread %s reopened", thread.id)


async def setup(bot: UnstuckBot) -> None:
    await bot.add_cog(HelpThreads(bot))
