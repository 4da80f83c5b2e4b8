"""Help threads on Discord: open them, welcome askers, follow replies, close, reopen, catch up."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import HelpSettings
from bot.domain.formatting import humanize_duration
from bot.domain.naming import thread_name_from_message, with_prefix, without_prefix
from bot.services.help_threads import HelpThreadService, NewThread
from bot.services.outbox import Note, NoteLink
from bot.services.server_config import ServerConfig
from cogs._common import actor_from_interaction
from cogs.similar import link_button, welcome_message
from storage.models import HelpThread

if TYPE_CHECKING:
    from bot.app import UnstuckBot

log = logging.getLogger(__name__)

# Discord's answer when a thread already exists for a message (the event was delivered twice).
THREAD_ALREADY_CREATED = 160004
THREAD_MESSAGE_TYPES = (discord.MessageType.default, discord.MessageType.reply)


class DiscordThreadPort:
    """The thread service's window on Discord. Every post carries a nonce derived from what it is
    about, so a retry after a crash returns the first message instead of posting a second one."""

    def __init__(self, bot: UnstuckBot) -> None:
        self.bot = bot

    async def thread(self, thread_id: int) -> discord.Thread | None:
        channel = self.bot.get_channel(thread_id)
        if isinstance(channel, discord.Thread):
            return channel
        try:
            fetched = await self.bot.fetch_channel(thread_id)
        except (discord.NotFound, discord.Forbidden):
            return None
        return fetched if isinstance(fetched, discord.Thread) else None

    async def _post(self, thread_id: int, nonce: str, **kwargs: object) -> int | None:
        thread = await self.thread(thread_id)
        if thread is None:
            return None
        try:
            message = await thread.send(nonce=nonce, **kwargs)  # type: ignore[call-overload]
        except (discord.NotFound, discord.Forbidden):
            return None
        return message.id

    async def post_welcome(self, thread: HelpThread, config: ServerConfig) -> int | None:
        """The welcome note, with the similar solved threads worth suggesting (if any)."""
        suggestions = await self.bot.services.similar.suggest_for(thread, config)
        embeds, view = welcome_message(welcome_embed(config), suggestions, thread.id)
        return await self._post(thread.id, f"w{thread.id}", embeds=embeds, view=view)

    async def post_dormant_note(self, thread: HelpThread, config: ServerConfig) -> int | None:
        idle = config.settings.help.dormant_after
        text = (
            f"💤 This thread has been quiet for {humanize_duration(idle)}, so I archived it. "
            f"<@{thread.asker_id}>, just write here if you still need help and it opens again."
        )
        # The asker is named but not pinged: a dormancy note is no reason to wake anyone.
        return await self._post(thread.id, f"d{thread.id}", content=text)

    async def sync_appearance(self, row: HelpThread, config: ServerConfig) -> None:
        """Make a thread look like its state: forum tags (Solved/Unanswered) or the ✅ name prefix."""
        thread = await self.thread(row.id)
        if thread is None or thread.archived:
            return  # an archived thread is left as it is; editing it would wake it up
        help_settings = config.settings.help
        try:
            if isinstance(thread.parent, discord.ForumChannel):
                tags = desired_tags(thread.parent, thread.applied_tags, row.state, help_settings)
                if tags is not None:
                    await thread.edit(applied_tags=tags)
            else:
                name = desired_name(thread.name, row.state, help_settings.solved_prefix)
                if name != thread.name:
                    await thread.edit(name=name)
        except (discord.NotFound, discord.Forbidden):
            log.info("could not update the look of thread %s", row.id)

    async def send(
        self, channel_id: int, content: str, nonce: str, links: tuple[NoteLink, ...] = ()
    ) -> int | None:
        """Post an owed message (the outbox's port); ``None`` when the channel is gone."""
        channel = self.bot.get_channel(channel_id) or await self.thread(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return None
        view: discord.ui.View = discord.utils.MISSING  # no components at all unless there are links
        if links:
            view = discord.ui.View(timeout=None)
            for link in links:
                view.add_item(link_button(link))
        try:
            return (await channel.send(content, nonce=nonce, view=view)).id
        except (discord.NotFound, discord.Forbidden):
            return None

    async def archive(self, thread_id: int) -> None:
        thread = await self.thread(thread_id)
        if thread is not None and not thread.archived:
            try:
                await thread.edit(archived=True)
            except (discord.NotFound, discord.Forbidden):
                log.info("could not archive thread %s", thread_id)


def desired_tags(
    forum: discord.ForumChannel, current: list[discord.ForumTag], state: str, settings: HelpSettings
) -> list[discord.ForumTag] | None:
    """The tags a forum post should carry for ``state``; ``None`` when nothing needs to change."""
    by_name = {tag.name.casefold(): tag for tag in forum.available_tags}
    solved = by_name.get(settings.solved_tag.casefold())
    unanswered = by_name.get(settings.unanswered_tag.casefold())
    wanted = {solved: state == "solved", unanswered: state == "open"}
    tags = [t for t in current if wanted.get(t, True)]
    for tag, on in wanted.items():
        if tag is not None and on and tag not in tags:
            tags.append(tag)
    tags = tags[:5]  # Discord allows five tags on a post; ours come last and the oldest stay
    return None if {t.id for t in tags} == {t.id for t in current} else tags


def desired_name(name: str, state: str, prefix: str) -> str:
    """A text-channel thread is named with the ✅ prefix exactly while it is solved."""
    return with_prefix(name, prefix) if state == "solved" else without_prefix(name, prefix)


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

    @property
    def service(self) -> HelpThreadService:
        return self.bot.services.threads

    async def _config(self, guild_id: int | None) -> ServerConfig | None:
        if guild_id is None or not self.bot.scope.owns(guild_id):
            return None
        return await self.bot.services.configs.get(guild_id)

    # ---- new questions -------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_thread_create(self, thread: discord.Thread) -> None:
        config = await self._config(thread.guild.id)
        if config is None or config.help_channels.get(thread.parent_id or 0) != "forum":
            return
        await self._open_forum_thread(thread, await _forum_question(thread))

    async def _open_forum_thread(self, thread: discord.Thread, question: str) -> bool:
        new = NewThread(
            thread_id=thread.id,
            guild_id=thread.guild.id,
            channel_id=thread.parent_id or 0,
            kind="forum",
            asker_id=thread.owner_id or 0,
            title=thread.name,
            question=question,
            created_at=thread.created_at or discord.utils.snowflake_time(thread.id),
        )
        return await self.service.open_thread(new, self.port)

    async def _open_text_thread(self, message: discord.Message) -> None:
        """A top-level message in a help text channel becomes a public thread named after it."""
        name = thread_name_from_message(message.content, f"Help for {message.author.display_name}")
        if await self.service.get(message.id) is not None:
            # An event delivered twice, or history read again after a restart.
            await self._note_channel_seen(message.channel.id, message.id)
            return
        thread_id = (
            message.thread.id if message.thread is not None else await self._create_thread(message, name)
        )
        await self.service.open_thread(
            NewThread(
                thread_id=thread_id,
                guild_id=message.guild.id,  # type: ignore[union-attr]
                channel_id=message.channel.id,
                kind="text",
                asker_id=message.author.id,
                title=name,
                question=message.content,
                created_at=message.created_at,
            ),
            self.port,
        )
        await self._note_channel_seen(message.channel.id, message.id)

    async def _create_thread(self, message: discord.Message, name: str) -> int:
        try:
            return (await message.create_thread(name=name, auto_archive_duration=10080)).id
        except discord.HTTPException as error:
            if error.code != THREAD_ALREADY_CREATED:
                raise
            return message.id  # made just before a crash: a thread started from a message shares its id

    async def _note_channel_seen(self, channel_id: int, message_id: int) -> None:
        from storage.repositories import HelpChannelRepo

        async with self.bot.services.db.session() as session:
            await HelpChannelRepo(session).note_seen(channel_id, message_id)

    # ---- messages ------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is None:
            return
        config = await self._config(message.guild.id)
        if config is None:
            return
        channel = message.channel
        if isinstance(channel, discord.Thread) and config.is_help_channel(channel.parent_id):
            await self._thread_message(channel, message, config)
        elif config.help_channels.get(channel.id) == "text" and message.type in THREAD_MESSAGE_TYPES:
            await self._open_text_thread(message)

    async def _thread_message(
        self, thread: discord.Thread, message: discord.Message, config: ServerConfig
    ) -> None:
        if message.id == thread.id:  # a forum post's starter message shares the thread's id
            if not await self._open_forum_thread(thread, message.content):
                await self.service.update_question(thread.id, message.content)
            return
        outcome = await self.service.record_message(
            thread_id=thread.id,
            message_id=message.id,
            author_id=message.author.id,
            author_is_bot=message.author.bot,
            created_at=message.created_at,
        )
        if outcome is not None and (outcome.first_response or outcome.reopened):
            row = await self.service.get(thread.id)
            if row is not None:
                await self.port.sync_appearance(row, config)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        # A starter message shares its thread's id (forum) or is the thread's id (text channel).
        content = payload.data.get("content")
        if content is None or not self.bot.scope.owns(payload.guild_id or 0):
            return
        thread = await self.service.get(payload.message_id)
        if thread is not None:
            await self.service.update_question(thread.id, content)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        if self.bot.scope.owns(payload.guild_id or 0) and await self.service.get(payload.message_id):
            await self.service.starter_deleted(payload.message_id)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        if self.bot.scope.owns(payload.guild_id):
            await self.service.thread_deleted(payload.thread_id)

    @commands.Cog.listener()
    async def on_thread_update(self, before: discord.Thread, after: discord.Thread) -> None:
        config = await self._config(after.guild.id)
        if config is not None and before.name != after.name:
            # Our own ✅ prefix is decoration, not part of the question's title.
            await self.service.renamed(
                after.id, without_prefix(after.name, config.settings.help.solved_prefix)
            )

    @commands.Cog.listener()
    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        # Raw: an archived thread is not in discord.py's cache, and its unarchiving matters most.
        archived = payload.data.get("thread_metadata", {}).get("archived")
        if archived is not None and self.bot.scope.owns(payload.guild_id):
            await self.service.archived_changed(payload.thread_id, bool(archived))

    # ---- commands ------------------------------------------------------------------------------

    @app_commands.command(name="close", description="Close this help thread")
    @app_commands.describe(reason="Why: solved, duplicate, stale, off-topic, or your own words")
    @app_commands.guild_only()
    async def close(self, interaction: discord.Interaction, reason: app_commands.Range[str, 1, 200]) -> None:
        reason_text = discord.utils.escape_markdown(" ".join(reason.split())[:200])
        text = f"🔒 Closed by {interaction.user.mention}: {reason_text}. Use `/reopen` if you need more help."
        channel_id = interaction.channel_id or 0
        note = Note(key=f"i{interaction.id}", channel_id=channel_id, content=text, archive_after=True)
        await self.service.close(channel_id, actor_from_interaction(interaction), reason, note)
        await interaction.response.send_message("Done: the thread is closed.", ephemeral=True)
        await self.bot.services.outbox.send(note.key, self.port)  # the note, then the archive

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
        note = Note(key=f"i{interaction.id}", channel_id=interaction.channel_id or 0, content=text)
        thread = await self.service.reopen(note.channel_id, actor_from_interaction(interaction), note)
        await interaction.response.send_message("Done: the thread is open again.", ephemeral=True)
        await self.bot.services.outbox.send(note.key, self.port)
        channel = interaction.channel
        if isinstance(channel, discord.Thread) and channel.archived:
            await channel.edit(archived=False)
        log.info("thread %s reopened", thread.id)

    # ---- catching up after downtime ------------------------------------------------------------

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self.reconcile(guild)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.reconcile(guild)

    async def reconcile(self, guild: discord.Guild) -> None:
        """Catch up with what happened while the bot was away: Discord does not replay events."""
        from cogs.reconcile import reconcile_guild

        config = await self._config(guild.id)
        if config is None:
            return
        try:
            await reconcile_guild(self, guild, config)
            await self.service.deliver_pending_notes(self.port)
            await self.bot.services.outbox.send_owed(guild.id, self.port)
            await self.bot.services.solutions.sync_pending(guild.id, self.bot.ports.solutions)
            await self.bot.services.escalation.schedule_unscheduled(guild.id)
            await self.bot.run_weekly_posts(guild.id)  # a post missed while down goes out now
        finally:
            self.bot.mark_reconciled(guild.id)


async def setup(bot: UnstuckBot) -> None:
    await bot.add_cog(HelpThreads(bot))
