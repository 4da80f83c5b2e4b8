"""`/points` and `/leaderboard`, and the weekly leaderboard post."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.cooldowns import Costly
from bot.domain.windows import Window
from bot.scheduler import Job
from bot.services.errors import UserFacingError
from bot.services.owed import OwedMessage
from bot.services.points import LeaderboardPage, MemberStanding, PointsService
from bot.services.weekly_posts import WeeklyPostView
from cogs._common import (
    actor_from_interaction,
    defer_update,
    owed_message,
    respond,
    respond_ephemeral,
    update,
)
from storage.models import PointEntry

if TYPE_CHECKING:
    from bot.app import UnstuckBot

MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
WINDOW_TITLES = {Window.WEEK: "this week", Window.MONTH: "this month", Window.ALL: "all time"}
NO_PINGS = discord.AllowedMentions(everyone=False, users=False, roles=False, replied_user=False)


def excluded_members(guild: discord.Guild | None, role_ids: Collection[int]) -> set[int]:
    """Members holding an excluded role: they keep their points but stay off leaderboards."""
    if guild is None or not role_ids:
        return set()
    wanted = set(role_ids)
    return {m.id for m in guild.members if any(r.id in wanted for r in m.roles)}


def leaderboard_lines(page: LeaderboardPage) -> str:
    lines = []
    for rank, member_id, points in page.rows:
        badge = MEDALS.get(rank, f"`{rank}.`")
        lines.append(f"{badge} <@{member_id}> — **{points}** point{'s' if points != 1 else ''}")
    return "\n".join(lines)


def leaderboard_embed(page: LeaderboardPage, title: str | None = None) -> discord.Embed:
    when = WINDOW_TITLES[page.window] if page.window is not Window.WEEK else f"this week ({page.span.label})"
    embed = discord.Embed(title=title or f"🏆 Top helpers, {when}", colour=discord.Colour.gold())
    embed.description = leaderboard_lines(page) or "Nobody has earned points here yet. Be the first to help!"
    embed.set_footer(
        text=f"Page {page.page + 1} of {page.pages} · Mark the answer that helped to thank its author"
    )
    return embed


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"lb:(?P<window>week|month|all):(?P<page>\d+)"
):
    """A leaderboard page button; its custom id carries everything, so it works after a restart."""

    def __init__(self, window: Window, page: int, label: str = "Next ▶", disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                custom_id=f"lb:{window.value}:{page}",
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
            )
        )
        self.window, self.page = window, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> PageButton:
        return cls(Window(match["window"]), int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("Points")
        assert isinstance(cog, Points)
        await defer_update(interaction)  # a page of a large server's board takes a while to count
        try:
            embed, view = await cog.leaderboard_message(interaction, self.window, self.page)
        except UserFacingError as error:  # a cooldown: the page stays as it is
            await respond_ephemeral(interaction, str(error))
            return
        await update(interaction, embed=embed, view=view, allowed_mentions=NO_PINGS)


def pager(page: LeaderboardPage) -> discord.ui.View | None:
    if page.pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton(page.window, max(page.page - 1, 0), "◀ Previous", disabled=page.page == 0))
    view.add_item(PageButton(page.window, page.page + 1, "Next ▶", disabled=page.page + 1 >= page.pages))
    return view


def standing_embed(member: discord.abc.User, standing: MemberStanding, excluded: bool) -> discord.Embed:
    embed = discord.Embed(title=f"⭐ Points of {member.display_name}", colour=discord.Colour.blurple())
    embed.add_field(name="Total", value=str(standing.total))
    embed.add_field(name="This week", value=str(standing.week))
    embed.add_field(name="Accepted solutions", value=str(standing.solutions))
    if excluded:
        embed.add_field(name="Leaderboards", value="Not listed (excluded role)", inline=False)
    else:
        week = f"#{standing.week_rank}" if standing.week_rank else "not ranked yet"
        ever = f"#{standing.all_rank}" if standing.all_rank else "not ranked yet"
        embed.add_field(name="Rank this week", value=week)
        embed.add_field(name="Rank all time", value=ever)
    return embed


def history_line(entry: PointEntry) -> str:
    sign = f"{entry.amount:+d}"
    where = f" in <#{entry.thread_id}>" if entry.thread_id else ""
    why = f": {discord.utils.escape_markdown(entry.reason)}" if entry.reason else ""
    when = discord.utils.format_dt(entry.created_at, "R")
    line = f"`{sign}` <@{entry.member_id}> {entry.rule}{where}{why} · {when}"
    if entry.revoked_at is not None:
        by = f" by <@{entry.revoked_by_id}>" if entry.revoked_by_id else ""
        line = f"~~{line}~~ — revoked{by}: {entry.revoke_reason or 'no reason'}"
    return line[:300]


class Points(commands.Cog):
    points_group = app_commands.Group(name="points", description="Helper points", guild_only=True)

    def __init__(self, bot: UnstuckBot) -> None:
        self.bot = bot
        self.weekly_port = DiscordWeeklyPostPort(bot)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(PageButton)
        # Each server's post is due at its own weekday, time and zone: a check every minute finds it,
        # and the database makes each post happen once.
        self.bot.scheduler.register(Job("weekly-leaderboard", self._post_weekly, on_the_minute=True))
        self.bot.services.catch_up.register(self._post_weekly)  # a post missed while down goes out now

    async def _post_weekly(self, only_guild: int | None = None) -> None:
        await self.bot.services.weekly.sweep(self.weekly_port, only_guild)

    @property
    def service(self) -> PointsService:
        return self.bot.services.points

    async def _excluded(self, guild: discord.Guild | None) -> set[int]:
        if guild is None:
            return set()
        config = await self.bot.services.configs.get(guild.id)
        return excluded_members(guild, config.settings.points.excluded_roles)

    @points_group.command(name="show", description="Show a member's points (yours by default)")
    async def show(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        who = member or interaction.user
        excluded = await self._excluded(interaction.guild)
        standing = await self.service.standing(interaction.guild_id or 0, who.id, excluded)
        embed = standing_embed(who, standing, who.id in excluded)
        await respond(interaction, embed=embed)

    @points_group.command(name="grant", description="Staff: give a member points, with a reason")
    async def grant(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        amount: app_commands.Range[int, 1, 1000],
        reason: app_commands.Range[str, 1, 300],
    ) -> None:
        await self._adjust(interaction, member, amount, reason)

    @points_group.command(name="revoke", description="Staff: take points from a member, with a reason")
    async def revoke(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        amount: app_commands.Range[int, 1, 1000],
        reason: app_commands.Range[str, 1, 300],
    ) -> None:
        await self._adjust(interaction, member, -amount, reason)

    async def _adjust(
        self, interaction: discord.Interaction, member: discord.Member, amount: int, reason: str
    ) -> None:
        if member.bot:
            raise app_commands.CheckFailure("Bots don't take part in points.")
        total = await self.service.adjust(
            interaction.guild_id or 0, actor_from_interaction(interaction), member.id, amount, reason
        )
        verb = f"Granted {amount}" if amount > 0 else f"Revoked {-amount}"
        text = (
            f"✅ {verb} points {'to' if amount > 0 else 'from'} {member.mention}. Their total is now {total}."
        )
        await respond(interaction, text)

    @points_group.command(name="history", description="Staff: the latest points entries")
    async def history(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        actor, member_id = actor_from_interaction(interaction), member.id if member else None
        entries = await self.service.history_for(interaction.guild_id or 0, actor, member_id)
        title = f"📜 Points history of {member.display_name}" if member else "📜 Latest points entries"
        embed = discord.Embed(
            title=title, description="\n".join(map(history_line, entries)) or "No entries yet."
        )
        await respond(interaction, embed=embed)

    @app_commands.command(name="leaderboard", description="The top helpers")
    @app_commands.describe(window="week (default), month, or all time")
    @app_commands.guild_only()
    async def leaderboard(
        self, interaction: discord.Interaction, window: Literal["week", "month", "all"] = "week"
    ) -> None:
        embed, view = await self.leaderboard_message(interaction, Window(window), 0)
        kwargs: dict[str, Any] = {"view": view} if view else {}
        await respond(interaction, embed=embed, allowed_mentions=NO_PINGS, **kwargs)

    async def leaderboard_message(
        self, interaction: discord.Interaction, window: Window, page: int
    ) -> tuple[discord.Embed, discord.ui.View | None]:
        guild_id = interaction.guild_id or 0
        await self.bot.services.cooldowns.use(
            guild_id, actor_from_interaction(interaction), Costly.LEADERBOARD
        )
        excluded = await self._excluded(interaction.guild)
        board = await self.service.leaderboard(interaction.guild_id or 0, window, page, excluded)
        return leaderboard_embed(board), pager(board)


class DiscordWeeklyPostPort:
    """The weekly leaderboard post's window on Discord: who is left out, and the post to owe."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def excluded_members(self, guild_id: int, role_ids: Collection[int]) -> set[int]:
        return excluded_members(self.client.get_guild(guild_id), role_ids)

    def weekly_post(self, view: WeeklyPostView) -> OwedMessage:
        page = view.page
        if page.rows:
            embed = leaderboard_embed(page, title=f"🏆 Top helpers of the week ({page.span.label})")
            embed.set_footer(
                text="Thank you for helping! Mark the answer that helped you to thank its author."
            )
        else:
            embed = discord.Embed(
                title=f"🌱 A quiet week ({page.span.label})",
                description="No points were earned last week. Every open question is a chance to help "
                "someone get unstuck: have a look at the help channels!",
            )
        return owed_message(view.nonce, view.channel_id, embeds=[embed])


async def setup(bot: UnstuckBot) -> None:
    await bot.add_cog(Points(bot))
