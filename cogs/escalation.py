"""Escalation on Discord: digests with Claim buttons, `/escalate`, and the queue staff can read."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import UnstuckBot
from bot.config import HelpSettings
from bot.domain.channel_access import GuildAccess, shared_with_audience
from bot.domain.escalation import TierTarget, tier_label, waiting_roles
from bot.domain.formatting import humanize_duration
from bot.domain.permissions import is_staff
from bot.scheduler import Job
from bot.services.errors import NotAllowed, UserFacingError
from bot.services.escalation import EscalateResult, EscalationService
from bot.services.escalation_digests import DigestEntry, DigestPart, DigestView
from bot.services.escalation_queue import QueuedThread, QueueReport
from bot.services.owed import DIGEST_EDIT
from bot.services.port_errors import Refused, Unavailable
from cogs._access import guild_access, viewer_of
from cogs._common import (
    DISCORD_CALL_TIMEOUT,
    PUBLIC,
    actor_from_interaction,
    defer_update,
    respond,
    respond_ephemeral,
    thread_link,
)
from cogs._errors import classified
from cogs._retry import patiently
from cogs._threads import shown_tags

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
ESCALATION_TICK_SECONDS = 30
FIELD_LIMIT = 1024
DESCRIPTION_LIMIT = 4096
PRIVATE_TITLE = "🔒 A question in a help channel not everyone here can view"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _timestamp(moment: Any, style: str = "R") -> str:
    return f"<t:{int(moment.timestamp())}:{style}>"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ClaimButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"esc:claim:(?P<thread>\d+)"):
    """A digest's Claim button: the thread id lives in the custom id, so it works after a restart."""

    def __init__(self, thread_id: int, number: int = 0, claimed: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Claimed" if claimed else f"Claim #{number}",
                custom_id=f"esc:claim:{thread_id}",
                style=discord.ButtonStyle.secondary if claimed else discord.ButtonStyle.primary,
                emoji="✋",
                disabled=claimed,
            )
        )
        self.thread_id = thread_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> ClaimButton:
        return cls(int(match["thread"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("Escalation")
        assert isinstance(cog, Escalation)
        await cog.claim_clicked(interaction, self.thread_id)


def entry_field(number: int, entry: DigestEntry, tags: list[str], private: bool = False) -> tuple[str, str]:
    """One waiting question: title, link, how long it waited, where, its tags, and any claim.

    A ``private`` one (its help channel hidden from some who read the digest) keeps its title and
    tags out: the link and the channel mention show nothing to those who cannot view it.
    """
    name = _clip(f"{number}. {PRIVATE_TITLE if private else entry.title}", 256)
    parts = [
        f"[Open the thread]({thread_link(entry.guild_id, entry.thread_id)})",
        f"waiting {humanize_duration(entry.waited)}",
        f"in <#{entry.channel_id}>",
    ]
    if tags and not private:
        parts.append("🏷️ " + ", ".join(discord.utils.escape_markdown(t) for t in tags))
    value = " · ".join(parts)
    if entry.claimed_by_id:
        value += f"\n✋ **Claimed by <@{entry.claimed_by_id}>**"
    return name, _clip(value, FIELD_LIMIT)


def digest_content(view: DigestView, part: DigestPart) -> str:
    """The message text: the role ping and a headline in the first part, a continuation note after."""
    total = sum(len(p.entries) for p in view.parts)
    if part.index > 0:
        return f"(continued, {part.index + 1}/{part.count})"
    waited = f" for over {humanize_duration(view.tier_after)}" if view.tier_after else ""
    shortest = min((entry.waited for p in view.parts for entry in p.entries), default=None)
    if shortest is not None and (view.tier_after is None or shortest < view.tier_after):
        # An asker's /escalate reaches the tier before its delay: say how long they really waited.
        waited = f" for {humanize_duration(shortest)}"
    noun = "question has" if total == 1 else "questions have"
    return f"{waiting_roles(view.role_ids)} {total} {noun} been waiting{waited} without an answer."


def digest_embed(
    view: DigestView, part: DigestPart, tags_of: dict[int, list[str]], private: Collection[int] = ()
) -> discord.Embed:
    title = f"🆘 Waiting for help · {tier_label(view.tier)}"
    if part.count > 1:
        title += f" ({part.index + 1}/{part.count})"
    embed = discord.Embed(title=title, colour=discord.Colour.orange(), timestamp=view.created_at)
    first = sum(len(p.entries) for p in view.parts[: part.index]) + 1
    for offset, entry in enumerate(part.entries):
        private_entry = entry.thread_id in private
        name, value = entry_field(first + offset, entry, tags_of.get(entry.thread_id, []), private_entry)
        embed.add_field(name=name, value=value, inline=False)
    embed.set_footer(text="Claim a question to take it off the queue and let others know you're on it.")
    return embed


def digest_buttons(view: DigestView, part: DigestPart) -> discord.ui.View:
    buttons = discord.ui.View(timeout=None)
    first = sum(len(p.entries) for p in view.parts[: part.index]) + 1
    for offset, entry in enumerate(part.entries):
        buttons.add_item(
            ClaimButton(entry.thread_id, first + offset, claimed=entry.claimed_by_id is not None)
        )
    return buttons


class DiscordEscalationPort:
    """Escalation's window on Discord: checks targets, posts digests, renders their owed edits.

    Each Discord call waits at most ``timeout``: a digest Discord does not confirm in time raises
    ``TimeoutError`` and stays owed (the next sweep sends it again, with the same nonce), so one
    hanging call never holds up the other digests, `/escalate` or the claims.
    """

    def __init__(self, bot: UnstuckBot) -> None:
        self.bot = bot
        self.timeout = DISCORD_CALL_TIMEOUT

    async def target_problem(self, guild_id: int, target: TierTarget) -> str | None:
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            return "the server is not available to the bot right now."
        for role_id in target.role_ids:
            role = guild.get_role(role_id)
            if role is None:
                return f"the role it pings (id {role_id}) no longer exists."
            if not role.mentionable and not guild.me.guild_permissions.mention_everyone:
                return (
                    f"{role.mention} cannot be pinged: make it mentionable, or let Unstuck mention all roles."
                )
        channel = guild.get_channel(target.channel_id)
        if channel is None:
            return f"its channel (id {target.channel_id}) no longer exists."
        if not isinstance(channel, discord.TextChannel):
            return f"{channel.mention} is not a text channel."
        permissions = channel.permissions_for(guild.me)
        if not (permissions.view_channel and permissions.send_messages):
            return f"Unstuck cannot post in {channel.mention}."
        return None

    def embed(self, view: DigestView, part: DigestPart) -> discord.Embed:
        """One digest message's embed, its tags as the database says (private titles kept out)."""
        return digest_embed(view, part, self.tags(part, view.help), self.private(view, part))

    def tags(self, part: DigestPart, settings: HelpSettings) -> dict[int, list[str]]:
        """Forum tags of the listed threads: the Solved and Unanswered tags from each thread's state
        in the database (Discord's lag while an edit waits out a 429), the others from the cache (a
        digest must not fetch 50 threads)."""
        tags: dict[int, list[str]] = {}
        for entry in part.entries:
            if entry.kind != "forum":
                continue
            thread, forum = self.bot.get_channel(entry.thread_id), self.bot.get_channel(entry.channel_id)
            current = thread.applied_tags if isinstance(thread, discord.Thread) else []
            tags[entry.thread_id] = shown_tags(
                forum if isinstance(forum, discord.ForumChannel) else None, current, entry.state, settings
            )
        return tags

    def private(self, view: DigestView, part: DigestPart) -> set[int]:
        """Listed threads from a help channel that not everyone who can read the digest's channel
        can view (a staff-only forum, digest in a helpers' channel): their titles stay out of it."""
        guild = self.bot.get_guild(view.guild_id)
        if guild is None:
            return {entry.thread_id for entry in part.entries}
        channels = {entry.channel_id for entry in part.entries}
        shared = shared_with_audience(
            guild_access(guild, {view.channel_id, *channels}), view.channel_id, channels
        )
        return {entry.thread_id for entry in part.entries if entry.channel_id not in shared}

    def guild_access(self, guild_id: int, channel_ids: Collection[int]) -> GuildAccess | None:
        guild = self.bot.get_guild(guild_id)
        return None if guild is None else guild_access(guild, channel_ids)

    def _channel(self, channel_id: int) -> discord.TextChannel | None:
        channel = self.bot.get_channel(channel_id)
        return channel if isinstance(channel, discord.TextChannel) else None

    async def send_digest_part(self, view: DigestView, part: DigestPart) -> int | None:
        channel = self._channel(view.channel_id)
        if channel is None:
            return None
        # The roles are pinged once per digest: in its first message, and nobody else ever.
        mentions = (
            discord.AllowedMentions(
                everyone=False,
                users=False,
                replied_user=False,
                roles=[discord.Object(r) for r in view.role_ids],
            )
            if part.index == 0
            else NO_PINGS
        )
        try:
            # A 5xx, a long 429, a lost connection or no answer in time reaches the sweep, which
            # tries again later.
            message = await classified(
                asyncio.wait_for(
                    channel.send(
                        digest_content(view, part),
                        embed=self.embed(view, part),
                        view=digest_buttons(view, part),
                        nonce=part.nonce,
                        allowed_mentions=mentions,
                    ),
                    self.timeout,
                )
            )
        except Refused as refusal:
            log.warning(
                "could not post escalation digest %s in %s: %s", view.digest_id, view.channel_id, refusal
            )
            return None
        return message.id

    async def show_digest_message(self, channel_id: int, owed: dict[str, Any]) -> None:
        """An owed edit of a digest message (:attr:`DeliveryWorker.editors`): its claims as the
        database has them now. Raises Refused, RetryAfter or Unavailable for the delivery worker."""
        message_id = int(owed["message_id"])
        view = await self.bot.services.escalation.digests.view(int(owed["digest_id"]))
        part = view.part_of_message(message_id) if view else None
        if view is None or part is None:
            return  # nothing of it left to show
        if self.bot.get_guild(view.guild_id) is None:
            # Its tags and who may read it come from the server: wait until it is available.
            raise Unavailable("the server is not available right now")
        message = self.bot.get_partial_messageable(channel_id).get_partial_message(message_id)
        await classified(
            message.edit(
                embed=self.embed(view, part),
                view=digest_buttons(view, part),
                allowed_mentions=NO_PINGS,
            )
        )


def _link(queued: QueuedThread) -> str:
    return thread_link(queued.thread.guild_id, queued.thread.thread_id)


def queue_embed(report: QueueReport) -> discord.Embed:
    """What `/escalations` shows: each tier with its next delivery, then the waiting questions."""
    embed = discord.Embed(title="📣 Escalation queue", colour=discord.Colour.orange())
    status = []
    if not report.enabled:
        status.append("⏸️ Escalation is **off** on this server (`escalation.enabled`).")
    if report.quiet_now and report.quiet_until:
        status.append(f"🌙 Quiet hours now: deliveries wait until {_timestamp(report.quiet_until, 't')}.")
    for tier in report.tiers:
        who = (
            f"{waiting_roles(tier.target.role_ids)} in <#{tier.target.channel_id}>"
            if tier.target
            else f"⚠️ {tier.problem}"
        )
        # The times of questions the reader cannot view are not shown: only how many there are.
        when = f" · next {_timestamp(tier.next_fire)}" if tier.next_fire else ""
        if not when and not tier.hidden:
            when = " · nothing scheduled"
        counted = f"{_plural(tier.waiting, 'question')} waiting{_unseen(tier.hidden, ', and ')}"
        embed.add_field(
            name=f"Tier {tier.index + 1} · after {humanize_duration(tier.tier.after)}",
            value=_clip(f"{who}\n{counted}{when}", FIELD_LIMIT),
            inline=False,
        )
    lines = [
        f"[{discord.utils.escape_markdown(q.thread.title)}]({_link(q)}) · waiting "
        f"{humanize_duration(q.waited)} · {tier_label(q.next_tier)} {_timestamp(q.fires_at)}"
        for q in report.threads
    ]
    shown: list[str] = []
    for line in lines:
        if sum(len(s) + 1 for s in shown) + len(line) > DESCRIPTION_LIMIT - 600:
            shown.append(f"… and {len(lines) - len(shown)} more")
            break
        shown.append(line)
    if report.hidden and shown:
        shown.append(f"… and {_unseen(report.hidden)}")
    body = "\n".join(shown) if shown else "No question is waiting. 🎉"
    if report.hidden and not shown:
        body = f"No question you can view is waiting; {_unseen(report.hidden)}."
    embed.description = "\n".join([*status, "", body]) if status else body
    footer = (
        f"{_plural(len(report.threads), 'question')} waiting for an answer{_unseen(report.hidden, ', and ')}"
    )
    embed.set_footer(text=footer)
    return embed


def _unseen(count: int, before: str = "") -> str:
    """Questions only counted for the reader: "2 in channels you can't view" (nothing when none)."""
    if not count:
        return ""
    return f"{before}{count} in {'a channel' if count == 1 else 'channels'} you can't view"


def escalated_text(who: str, result: EscalateResult, now: datetime) -> str:
    """The public note in the thread: the question joins the next digest, and when that goes out."""
    if result.digest_at is None:
        return (
            f"📣 {who} escalated this question. Escalation is not fully set up on this server yet, "
            "so it waits in the queue; staff can see why with `/escalations`."
        )
    if result.quiet:
        return (
            f"📣 {who} escalated this question. It is quiet hours on this server, so the helpers "
            f"will be notified {_timestamp(result.digest_at)}."
        )
    # The sweep ticks every ESCALATION_TICK_SECONDS: "now" means at the next tick.
    at = max(result.digest_at, now + timedelta(seconds=ESCALATION_TICK_SECONDS))
    where = f" in <#{result.channel_id}>" if result.channel_id else ""
    return (
        f"📣 {who} escalated this question: it goes to the helpers with the next escalation "
        f"digest{where}, {_timestamp(at)}."
    )


class Escalation(commands.Cog):
    """Brings unanswered questions to helpers and maintainers, and lets them claim one."""

    def __init__(self, bot: UnstuckBot) -> None:
        self.bot = bot
        self.port = DiscordEscalationPort(bot)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ClaimButton)
        # A claim owes the edits of the digests listing it; the delivery worker has them rendered here.
        self.bot.services.delivery.editors[DIGEST_EDIT] = self.port.show_digest_message
        # Ticks often; each server is swept once per its own `escalation.sweep_interval`.
        self.bot.scheduler.register(Job("escalation", self._sweep, seconds=ESCALATION_TICK_SECONDS))
        self.bot.services.catch_up.register(self.service.schedule_unscheduled)

    async def cog_unload(self) -> None:
        self.bot.services.delivery.editors.pop(DIGEST_EDIT, None)

    @property
    def service(self) -> EscalationService:
        return self.bot.services.escalation

    async def _sweep(self) -> None:
        await self.service.sweep(self.port)

    @app_commands.command(
        name="escalate",
        description="Nobody answered? Bring your question to the helpers",
        extras={PUBLIC: True},  # the thread sees that the helpers were called
    )
    @app_commands.guild_only()
    async def escalate(self, interaction: discord.Interaction) -> None:
        result = await self.service.escalate(
            interaction.channel_id or 0, actor_from_interaction(interaction), self.port
        )
        text = escalated_text(interaction.user.mention, result, self.bot.clock.now())
        await respond(interaction, text, ephemeral=False, allowed_mentions=NO_PINGS)

    # Not under `/unstuck`: that group is offered to Manage Server only, and staff need the queue.
    @app_commands.command(name="escalations", description="Staff: the questions waiting to be escalated")
    @app_commands.guild_only()
    async def escalations(self, interaction: discord.Interaction) -> None:
        config = await self.bot.services.configs.get(interaction.guild_id or 0)
        if not is_staff(actor_from_interaction(interaction), config.roles):
            raise NotAllowed("Sorry, only staff can see the escalation queue.")
        report = await self.service.queue.report(config.guild_id, self.port, viewer_of(interaction.user))
        await respond(interaction, embed=queue_embed(report))

    async def claim_clicked(self, interaction: discord.Interaction, thread_id: int) -> None:
        """A Claim button was clicked: record it and confirm. The claim owes the edits of every digest
        listing the thread (this one too): the delivery worker makes them, retrying if Discord fails."""
        await defer_update(interaction)  # acknowledged before the write, within Discord's deadline
        try:
            await patiently(
                lambda: self.service.claim(
                    interaction.guild_id or 0, thread_id, actor_from_interaction(interaction), self.port
                )
            )
        except UserFacingError as error:
            await respond_ephemeral(interaction, str(error))
            return
        link = thread_link(interaction.guild_id or 0, thread_id)
        text = f"✋ You claimed [this question]({link}). Thanks for taking it!"
        await respond(interaction, text)


async def setup(bot: UnstuckBot) -> None:
    await bot.add_cog(Escalation(bot))
