"""`/stats`: the health of the help channels, and the weekly health report for maintainers."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.cooldowns import Costly
from bot.domain.formatting import humanize_duration
from bot.domain.stats import HealthStats, Period, format_share
from bot.scheduler import Job
from bot.services.owed import OwedMessage
from bot.services.stats import HealthReportView, StatsService
from cogs._common import actor_from_interaction, owed_message, respond

if TYPE_CHECKING:
    from bot.app import UnstuckBot


NO_PINGS = discord.AllowedMentions.none()
HelpChannel = discord.TextChannel | discord.ForumChannel


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "–"
    return "under a minute" if value < timedelta(minutes=1) else humanize_duration(value)


def _count_and_share(stats: HealthStats, count: int) -> str:
    return f"**{format_share(stats.share(count))}** ({count})"


def health_embed(stats: HealthStats, title: str) -> discord.Embed:
    """The figures as one embed: shares are of the questions asked in the period."""
    embed = discord.Embed(title=title, colour=discord.Colour.teal())
    embed.add_field(name="Questions asked", value=f"**{stats.asked}**")
    answered = _count_and_share(stats, stats.answered)
    embed.add_field(
        name="Answered",
        value=f"{answered}\nfirst reply: median {_duration(stats.median_first_response)}, "
        f"p90 {_duration(stats.p90_first_response)}",
    )
    embed.add_field(name="Solved", value=_count_and_share(stats, stats.solved))
    escalated = [
        f"tier {tier + 1}: {_count_and_share(stats, count)}" for tier, count in stats.escalated.items()
    ]
    embed.add_field(name="Escalated", value="\n".join(escalated) or "none")
    embed.add_field(name="Went dormant unanswered", value=_count_and_share(stats, stats.dormant_unanswered))
    helpers = [
        f"<@{member}> — {count} first {'reply' if count == 1 else 'replies'}"
        for member, count in stats.top_helpers
    ]
    embed.add_field(
        name="Top helpers (first replies)", value="\n".join(helpers) or "nobody yet", inline=False
    )
    return embed


class Stats(commands.Cog):
    def __init__(self, bot: UnstuckBot) -> None:
        self.bot = bot
        self.report_port = DiscordHealthReportPort()

    async def cog_load(self) -> None:
        # Checked every minute like the weekly leaderboard post, and after it.
        self.bot.scheduler.register(Job("health-report", self._post_reports, on_the_minute=True))
        self.bot.services.catch_up.register(self._post_reports)  # a report missed while down goes out now

    async def _post_reports(self, only_guild: int | None = None) -> None:
        await self.service.sweep_health_reports(self.report_port, only_guild)

    @property
    def service(self) -> StatsService:
        return self.bot.services.stats

    @app_commands.command(name="stats", description="How healthy are the help channels?")
    @app_commands.describe(
        period="Questions asked in the last 7 days (default), 30 days, or all time",
        channel="Only this help channel",
    )
    @app_commands.guild_only()
    async def stats(
        self,
        interaction: discord.Interaction,
        period: Literal["7d", "30d", "all"] = "7d",
        channel: HelpChannel | None = None,
    ) -> None:
        guild_id = interaction.guild_id or 0
        actor = actor_from_interaction(interaction)
        await self.service.require_viewer(guild_id, actor)
        await self.bot.services.cooldowns.use(guild_id, actor, Costly.STATS)
        chosen = Period(period)
        figures = await self.service.stats(guild_id, chosen, channel.id if channel else None)
        title = f"📊 Help-channel health, {chosen.label}"
        embed = health_embed(figures, title)
        if channel is not None:
            embed.description = f"Questions asked in {channel.mention}"
        await respond(interaction, embed=embed, allowed_mentions=NO_PINGS)


class DiscordHealthReportPort:
    """The weekly health report's window on Discord: renders it to be owed."""

    def health_report(self, view: HealthReportView) -> OwedMessage:
        embed = health_embed(view.stats, f"📊 Help-channel health, week of {view.span.label}")
        embed.set_footer(text="Questions asked that week. /stats shows any period.")
        return owed_message(view.nonce, view.channel_id, embeds=[embed])


async def setup(bot: UnstuckBot) -> None:
    await bot.add_cog(Stats(bot))
