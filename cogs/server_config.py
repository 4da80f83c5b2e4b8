"""`/unstuck config ...`: per-server set-up, for members with Manage Server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import humanize_duration
from bot.domain.matching import DEFAULT_MIN_SCORE_TITLES_ONLY
from bot.domain.permissions import can_configure, is_staff
from bot.services.errors import NotAllowed
from bot.services.server_config import InvalidSetting, ServerConfig, ServerConfigService, settable_keys
from cogs._common import actor_from_interaction
from cogs.backfill import backfill_from_command
from cogs.escalation import DiscordEscalationPort, queue_embed

if TYPE_CHECKING:
    from bot.app import UnstuckBot

HelpChannel = discord.TextChannel | discord.ForumChannel
RoleKind = Literal["helper", "staff"]
ChannelPurpose = Literal["escalation", "leaderboard"]
FIELD_LIMIT = 1024


def _require_configure(interaction: discord.Interaction) -> None:
    if not can_configure(actor_from_interaction(interaction)):
        raise NotAllowed(
            "Sorry, only members with the **Manage Server** permission can change Unstuck's settings."
        )


def _mentions(ids: object, prefix: str) -> str:
    items = [f"<{prefix}{i}>" for i in sorted(ids)]  # type: ignore[call-overload]
    return ", ".join(items) if items else "none"


def _clip(text: str) -> str:
    return text if len(text) <= FIELD_LIMIT else text[: FIELD_LIMIT - 1] + "…"


def show_embed(config: ServerConfig, message_content: bool) -> discord.Embed:
    """What `/unstuck config show` answers: the set-up first, then every setting by section."""
    embed = discord.Embed(title="Unstuck settings", colour=discord.Colour.blurple())
    channels = [f"<#{cid}> ({kind})" for cid, kind in sorted(config.help_channels.items())]
    embed.add_field(name="Help channels", value=_clip(", ".join(channels) or "none yet"), inline=False)
    embed.add_field(name="Helper roles", value=_clip(_mentions(config.roles.helper_roles, "@&")))
    embed.add_field(name="Staff roles", value=_clip(_mentions(config.roles.staff_roles, "@&")))
    purposes = {"escalation": config.escalation_channel_id, "leaderboard": config.leaderboard_channel_id}
    lines = [f"{purpose}: {f'<#{cid}>' if cid else 'not set'}" for purpose, cid in purposes.items()]
    embed.add_field(name="Channels", value="\n".join(lines), inline=False)
    data = config.settings.as_json()
    for section, values in data.items():
        if isinstance(values, dict):
            lines = [f"`{key}` = {_show(value)}" for key, value in values.items()]
            embed.add_field(name=section, value=_clip("\n".join(lines)), inline=False)
    embed.add_field(name="timezone", value=str(data.get("timezone", "UTC")), inline=False)
    if not message_content:
        embed.add_field(
            name="⚠️ Message content intent is off",
            value=(
                "Similar threads are matched on titles only (with a stricter threshold, at least "
                f"{DEFAULT_MIN_SCORE_TITLES_ONLY:.2f}) until it is turned on."
            ),
            inline=False,
        )
    embed.set_footer(text="Change a value with /unstuck config set, undo with /unstuck config reset")
    return embed


def _show(value: object) -> str:
    text = str(value) if not isinstance(value, str) else value
    return discord.utils.escape_markdown(text if len(text) <= 80 else text[:79] + "…")


class ServerConfigCog(commands.GroupCog, group_name="unstuck", group_description="Unstuck set-up"):
    config = app_commands.Group(
        name="config",
        description="Configure Unstuck for this server",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: UnstuckBot) -> None:
        self.bot = bot
        self.escalation_port = DiscordEscalationPort(bot)  # checks the tiers' roles and channels
        super().__init__()

    @property
    def configs(self) -> ServerConfigService:
        return self.bot.services.configs

    async def _reply(self, interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(text, ephemeral=True)

    @config.command(name="show", description="Show this server's Unstuck settings")
    async def show(self, interaction: discord.Interaction) -> None:
        _require_configure(interaction)
        config = await self.configs.get(interaction.guild_id)
        embed = show_embed(config, self.bot.settings.intents.message_content)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @config.command(name="add-help-channel", description="Track questions in a forum or text channel")
    async def add_help_channel(self, interaction: discord.Interaction, channel: HelpChannel) -> None:
        _require_configure(interaction)
        kind = "forum" if isinstance(channel, discord.ForumChannel) else "text"
        added = await self.configs.add_help_channel(interaction.guild_id, channel.id, kind)
        how = (
            "Each post there is a question."
            if kind == "forum"
            else "I'll open a thread for each question there."
        )
        text = (
            f"✅ {channel.mention} is now a help channel. {how}"
            if added
            else f"{channel.mention} already is a help channel."
        )
        await self._reply(interaction, text)

    @config.command(name="remove-help-channel", description="Stop tracking questions in a channel")
    async def remove_help_channel(self, interaction: discord.Interaction, channel: HelpChannel) -> None:
        _require_configure(interaction)
        removed = await self.configs.remove_help_channel(interaction.guild_id, channel.id)
        text = (
            f"✅ {channel.mention} is no longer a help channel."
            if removed
            else f"{channel.mention} was not a help channel."
        )
        await self._reply(interaction, text)

    @config.command(name="add-role", description="Give a role the helper or staff powers in Unstuck")
    @app_commands.describe(kind="helper: may mark solutions; staff: may also moderate threads and points")
    async def add_role(self, interaction: discord.Interaction, role: discord.Role, kind: RoleKind) -> None:
        _require_configure(interaction)
        added = await self.configs.add_role(interaction.guild_id, role.id, kind)
        text = (
            f"✅ {role.mention} is now a {kind} role."
            if added
            else f"{role.mention} already is a {kind} role."
        )
        await self._reply(interaction, text)

    @config.command(name="remove-role", description="Take a role's helper or staff powers away")
    async def remove_role(self, interaction: discord.Interaction, role: discord.Role, kind: RoleKind) -> None:
        _require_configure(interaction)
        removed = await self.configs.remove_role(interaction.guild_id, role.id, kind)
        text = (
            f"✅ {role.mention} is no longer a {kind} role."
            if removed
            else f"{role.mention} was not a {kind} role."
        )
        await self._reply(interaction, text)

    @config.command(name="channel", description="Choose where escalations or leaderboards are posted")
    async def channel(
        self, interaction: discord.Interaction, purpose: ChannelPurpose, channel: discord.TextChannel
    ) -> None:
        _require_configure(interaction)
        await self.configs.set_channel(interaction.guild_id, purpose, channel.id)
        await self._reply(interaction, f"✅ {purpose.capitalize()} posts go to {channel.mention}.")

    @config.command(name="set", description="Change one setting, e.g. help.dormant_after = 48h")
    @app_commands.describe(key="The setting, e.g. help.dormant_after", value="The new value, e.g. 48h")
    async def set_value(
        self, interaction: discord.Interaction, key: str, value: app_commands.Range[str, 1, 1500]
    ) -> None:
        _require_configure(interaction)
        config = await self.configs.set_value(interaction.guild_id, key, value)
        shown = _lookup(config.settings.as_json(), key)
        await self._reply(interaction, f"✅ `{key}` is now {_show(shown)}.")

    @config.command(name="reset", description="Go back to the default for one setting")
    async def reset_value(self, interaction: discord.Interaction, key: str) -> None:
        _require_configure(interaction)
        config = await self.configs.reset_value(interaction.guild_id, key)
        shown = _lookup(config.settings.as_json(), key)
        await self._reply(interaction, f"✅ `{key}` is back to its default, {_show(shown)}.")

    @set_value.autocomplete("key")
    @reset_value.autocomplete("key")
    async def _keys(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        keys = settable_keys(self.configs.defaults)
        return [app_commands.Choice(name=k, value=k) for k in keys if current.lower() in k][:25]

    # ---- escalation: tiers, quiet hours and the queue ----------------------------------------

    @config.command(name="tier-set", description="Change an escalation tier, or add one after the last")
    @app_commands.describe(
        tier="Which tier (1 = first); one past the last adds a tier",
        after="How long a question waits unanswered before this tier, e.g. 4h",
        who="Ping the server's helper or staff roles…",
        role="…or this role instead",
        channel="Where to post (default: the escalation channel)",
    )
    async def tier_set(
        self,
        interaction: discord.Interaction,
        tier: app_commands.Range[int, 1, 5],
        after: app_commands.Range[str, 1, 20],
        who: RoleKind | None = None,
        role: discord.Role | None = None,
        channel: discord.TextChannel | None = None,
    ) -> None:
        _require_configure(interaction)
        if (who is None) == (role is None):
            raise InvalidSetting(
                "Say whom this tier pings: pick `who` (helper or staff) or a `role`, not both."
            )
        escalation = self.bot.services.escalation
        config = await escalation.set_tier(
            interaction.guild_id or 0,
            tier,
            after,
            role.id if role else who,  # type: ignore[arg-type]
            channel.id if channel else "escalation",
            self.escalation_port,
        )
        await self._reply(interaction, "✅ Escalation tiers are now:\n" + tiers_text(config))

    @config.command(name="tier-remove", description="Remove an escalation tier")
    async def tier_remove(
        self, interaction: discord.Interaction, tier: app_commands.Range[int, 1, 5]
    ) -> None:
        _require_configure(interaction)
        config = await self.bot.services.escalation.remove_tier(interaction.guild_id or 0, tier)
        await self._reply(interaction, "✅ Escalation tiers are now:\n" + tiers_text(config))

    @config.command(name="quiet-hours", description="Hold escalations back daily (server time); empty = off")
    @app_commands.describe(start="When quiet hours start, e.g. 22:00", end="When they end, e.g. 07:00")
    async def quiet_hours(
        self, interaction: discord.Interaction, start: str | None = None, end: str | None = None
    ) -> None:
        _require_configure(interaction)
        config = await self.bot.services.escalation.set_quiet_hours(interaction.guild_id or 0, start, end)
        quiet = config.settings.escalation.quiet_hours
        if quiet is None:
            text = "✅ Quiet hours are off: escalations go out as soon as they are due."
        else:
            text = (
                f"✅ Quiet hours: {quiet.start:%H:%M} to {quiet.end:%H:%M} ({config.settings.timezone}). "
                "Escalations due in between go out when they end."
            )
        await self._reply(interaction, text)

    @app_commands.command(name="escalations", description="Staff: the questions waiting to be escalated")
    @app_commands.guild_only()
    async def escalations(self, interaction: discord.Interaction) -> None:
        config = await self.configs.get(interaction.guild_id or 0)
        if not is_staff(actor_from_interaction(interaction), config.roles):
            raise NotAllowed("Sorry, only staff can see the escalation queue.")
        report = await self.bot.services.escalation.queue_report(config.guild_id, self.escalation_port)
        await interaction.response.send_message(embed=queue_embed(report), ephemeral=True)

    @app_commands.command(name="backfill", description="Import solved threads from help-channel history")
    @app_commands.guild_only()
    async def backfill(self, interaction: discord.Interaction) -> None:
        """Manage Server: import archived solved threads (resumable; nothing is imported twice)."""
        _require_configure(interaction)
        await backfill_from_command(self.bot, interaction)


def tiers_text(config: ServerConfig) -> str:
    """The tiers as a numbered list admins can check at a glance."""
    lines = []
    for index, tier in enumerate(config.settings.escalation.tiers, start=1):
        who = f"<@&{tier.role}>" if isinstance(tier.role, int) else f"the {tier.role} roles"
        where = f"<#{tier.channel}>" if isinstance(tier.channel, int) else "the escalation channel"
        lines.append(f"{index}. after {humanize_duration(tier.after)}: ping {who} in {where}")
    return "\n".join(lines)


def _lookup(data: dict[str, object], dotted: str) -> object:
    value: object = data
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


async def setup(bot: UnstuckBot) -> None:
    await bot.add_cog(ServerConfigCog(bot))
