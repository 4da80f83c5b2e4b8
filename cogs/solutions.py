"""Marking solutions on Discord: the ✅ reaction, the "Mark as solution" menu, `/solved`, `/unsolve`."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.services.errors import UserFacingError
from bot.services.port_errors import Refused
from bot.services.server_config import ServerConfig
from bot.services.solutions import AnswerRef, MarkKind, MarkOutcome, SolutionService, Via
from cogs._common import actor_from_interaction, actor_from_member, answer_ref, respond
from cogs._errors import classified
from cogs._threads import DiscordThreads
from storage.models import HelpThread

if TYPE_CHECKING:
    from bot.app import UnstuckBot

log = logging.getLogger(__name__)

MESSAGE_LINK = re.compile(r"(?:https?://)?(?:\w+\.)?discord(?:app)?\.com/channels/\d+/(\d+)/(\d+)")


def parse_message_ref(text: str) -> tuple[int | None, int] | None:
    """``(channel id or None, message id)`` from a message link or a bare id; ``None`` if neither."""
    text = text.strip()
    link = MESSAGE_LINK.fullmatch(text) or MESSAGE_LINK.search(text)
    if link:
        return int(link.group(1)), int(link.group(2))
    if text.isascii() and text.isdigit() and 15 <= len(text) <= 21:  # "1²" is a digit, not a number
        return None, int(text)
    return None


def outcome_text(outcome: MarkOutcome) -> str:
    """The private confirmation for whoever marked, with what happened to the points."""
    if outcome.kind is MarkKind.UNCHANGED:
        return "That answer already is the solution. 👍"
    verb = "moved to" if outcome.kind is MarkKind.MOVED else "marked as"
    solution = outcome.solution
    head = (
        f"✅ Solution {verb} <@{solution.author_id}>'s answer."
        if solution.message_id
        else "✅ Marked as solved."
    )
    lines = [head]
    lines += [f"• <@{a.member_id}> earned {a.amount} points ({a.rule})." for a in outcome.awards.awards]
    lines += [f"• <@{r.member_id}>: no points, {r.reason}." for r in outcome.awards.refusals]
    return "\n".join(lines)


class Solutions(commands.Cog):
    def __init__(self, bot: UnstuckBot) -> None:
        self.bot = bot
        self.threads = DiscordThreads(bot)
        self.menu = app_commands.ContextMenu(name="Mark as solution", callback=self.mark_from_menu)
        self.menu.guild_only = True
        bot.tree.add_command(self.menu)

    async def cog_load(self) -> None:
        self.bot.services.intake.takes_reactions = True

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @property
    def service(self) -> SolutionService:
        return self.bot.services.solutions

    async def _tracked(self, thread_id: int | None) -> HelpThread | None:
        if thread_id is None:
            return None
        return await self.bot.services.threads.get(thread_id)

    # ---- reactions (intake: the catch-up applies the ones it finds after downtime the same way) ----

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        # In the thread's lane: after its earlier events, and tried again if the database refuses it.
        if payload.guild_id is not None:
            await self.bot.services.intake.in_order(
                payload.guild_id, payload.channel_id, lambda: self._reaction_added(payload)
            )

    async def _reaction_added(self, payload: discord.RawReactionActionEvent) -> None:
        config = await self._reaction_config(payload)
        if config is None or payload.member is None or payload.member.bot:
            return
        tracked = await self._tracked(payload.channel_id)
        if tracked is None:
            return
        # Decided from the event (the member's roles, the message's author) and one read: a ✅
        # from someone who may not mark costs no REST call and no write.
        actor = actor_from_member(payload.member)
        me = self.bot.user.id if self.bot.user else None
        author = payload.message_author_id
        if not await self.service.reaction_may_mark(tracked, actor, payload.message_id, author, me):
            return
        # Not every thread is in discord.py's cache (archived ones, or right after a restart).
        thread = await self.threads.thread(payload.channel_id)
        if thread is None:
            return
        try:
            # A 5xx becomes Unavailable: the event's lane tries it again instead of dropping the ✅.
            answer = answer_ref(await classified(thread.fetch_message(payload.message_id)))
        except Refused:
            return  # deleted meanwhile (or no longer readable): nothing to mark
        await self.bot.services.intake.reaction_added(
            config.guild_id, thread.id, answer, actor, str(payload.emoji)
        )

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.guild_id is not None:
            await self.bot.services.intake.in_order(
                payload.guild_id, payload.channel_id, lambda: self._reaction_removed(payload)
            )

    async def _reaction_removed(self, payload: discord.RawReactionActionEvent) -> None:
        config = await self._reaction_config(payload)
        if config is not None:
            await self.bot.services.intake.reaction_removed(
                config.guild_id, payload.channel_id, payload.user_id, payload.message_id, str(payload.emoji)
            )

    @commands.Cog.listener()
    async def on_raw_reaction_clear(self, payload: discord.RawReactionClearEvent) -> None:
        """A moderator removed every reaction of a message: the solution stays (see the service)."""
        await self._in_lane(
            payload.guild_id,
            payload.channel_id,
            lambda: self.service.reactions_cleared(payload.channel_id, payload.message_id, None),
        )

    @commands.Cog.listener()
    async def on_raw_reaction_clear_emoji(self, payload: discord.RawReactionClearEmojiEvent) -> None:
        """A moderator removed every reaction of one emoji: the solution stays (see the service)."""
        emoji = str(payload.emoji)
        await self._in_lane(
            payload.guild_id,
            payload.channel_id,
            lambda: self.service.reactions_cleared(payload.channel_id, payload.message_id, emoji),
        )

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """A deleted accepted answer takes the solution with it (Discord sends no reaction removals)."""
        await self._answers_deleted(payload.guild_id, payload.channel_id, [payload.message_id])

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        """A moderator's purge: the same for each message (at most one is the accepted answer)."""
        await self._answers_deleted(payload.guild_id, payload.channel_id, sorted(payload.message_ids))

    async def _answers_deleted(self, guild_id: int | None, channel_id: int, message_ids: list[int]) -> None:
        async def forget() -> None:
            for message_id in message_ids:
                await self.bot.services.intake.answer_deleted(guild_id or 0, channel_id, message_id)

        await self._in_lane(guild_id, channel_id, forget)

    async def _in_lane(
        self, guild_id: int | None, thread_id: int, job: Callable[[], Awaitable[object]]
    ) -> None:
        """Run ``job`` for a help thread of a server this process owns, in the thread's lane: in
        order with its other events, and tried again while the database refuses it."""
        if guild_id is None or not self.bot.scope.owns(guild_id):
            return

        async def tracked_only() -> None:
            if await self._tracked(thread_id) is not None:
                await job()

        await self.bot.services.intake.in_order(guild_id, thread_id, tracked_only)

    async def _reaction_config(self, payload: discord.RawReactionActionEvent) -> ServerConfig | None:
        if payload.guild_id is None or not self.bot.scope.owns(payload.guild_id):
            return None
        config = await self.bot.services.configs.get(payload.guild_id)
        return config if str(payload.emoji) == config.settings.help.solved_emoji else None

    # ---- context menu and commands --------------------------------------------------------------

    async def mark_from_menu(self, interaction: discord.Interaction, message: discord.Message) -> None:
        thread_id = interaction.channel_id
        if message.channel.id != thread_id or await self._tracked(thread_id) is None:
            raise UserFacingError("Use **Mark as solution** on an answer inside a help thread.")
        outcome = await self.service.mark(
            thread_id, answer_ref(message), actor_from_interaction(interaction), Via.MENU
        )
        await respond(interaction, outcome_text(outcome))

    @app_commands.command(name="solved", description="Mark this help thread as solved")
    @app_commands.describe(
        message="Link to (or id of) the answer that solved it; leave empty to credit nobody"
    )
    @app_commands.guild_only()
    async def solved(self, interaction: discord.Interaction, message: str | None = None) -> None:
        thread_id = interaction.channel_id or 0
        if await self._tracked(thread_id) is None:
            raise UserFacingError("`/solved` works inside a help thread that Unstuck tracks.")
        answer = await self._answer_from_option(interaction, message) if message else None
        outcome = await self.service.mark(thread_id, answer, actor_from_interaction(interaction), Via.COMMAND)
        await respond(interaction, outcome_text(outcome))

    async def _answer_from_option(self, interaction: discord.Interaction, text: str) -> AnswerRef:
        ref = parse_message_ref(text)
        if ref is None:
            raise UserFacingError("Please give a message link (Copy Message Link) or a message id.")
        channel_id, message_id = ref
        if channel_id is not None and channel_id != interaction.channel_id:
            raise UserFacingError("That message is not in this thread: pick an answer from this thread.")
        channel = interaction.channel
        if not isinstance(channel, discord.Thread):
            raise UserFacingError("`/solved` works inside a help thread that Unstuck tracks.")
        try:
            return answer_ref(await channel.fetch_message(message_id))
        except discord.NotFound:
            raise UserFacingError("I couldn't find that message in this thread.") from None

    @app_commands.command(name="unsolve", description="Take back this thread's solution mark")
    @app_commands.guild_only()
    async def unsolve(self, interaction: discord.Interaction) -> None:
        await self.service.unmark(interaction.channel_id or 0, actor_from_interaction(interaction))
        await respond(interaction, "↩️ Solution removed; its points were taken back.")


async def setup(bot: UnstuckBot) -> None:
    await bot.add_cog(Solutions(bot))
