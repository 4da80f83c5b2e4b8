"""`/unstuck config ...`: per-server set-up, for members with Manage Server."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.archive_consent import MembersDefault
from bot.domain.bot_permissions import Where
from bot.domain.formatting import humanize_duration
from bot.domain.permissions import can_configure
from bot.domain.setup_check import (
    MAX_FORUM_TAGS,
    ChannelFacts,
    Missing,
    SetupFacts,
    can_manage_channel,
    missing_setup,
    missing_tags,
    permission_problem,
    tag_list,
    tags_fix,
    undelivered,
)
from bot.services.errors import NotAllowed
from bot.services.server_config import InvalidSetting, ServerConfig, ServerConfigService, settable_keys
from cogs._common import PUBLIC, actor_from_interaction, respond
from cogs.archive import disable_from_command, enable_from_command
from cogs.backfill import backfill_from_command
from cogs.escalation import DiscordEscalationPort

if TYPE_CHECKING:
    from bot.app import UnstuckBot

log = logging.getLogger(__name__)

HelpChannel = discord.TextChannel | discord.ForumChannel
RoleKind = Literal["helper", "staff"]
ChannelPurpose = Literal["escalation", "leaderboard"]
FIELD_LIMIT = 1024
DESCRIPTION_LIMIT = 4096
EMBED_LIMIT = 6000


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


READY = "**✅ Ready**\nHelp channels, roles and channels are set, and Unstuck may do its work in them."
BEFORE_YOU_START = "**⚠️ Before you start**"


def checklist(missing: list[Missing], budget: int) -> str:
    """What still lacks, each with its fix, in at most ``budget`` characters; or that all is ready."""
    if not missing:
        return READY
    lines = [BEFORE_YOU_START]
    for index, item in enumerate(missing):
        line = f"• {item.problem}\n  → {item.fix}"
        later = len(missing) - index - 1
        room_for_note = len(_more(later)) + 1 if later else 0
        if len("\n".join([*lines, line])) + room_for_note > budget:
            lines.append(_more(later + 1))
            break
        lines.append(line)
    return "\n".join(lines)


def _more(count: int) -> str:
    return f"…and {count} more: fix the ones above, then run `/unstuck config show` again."


def show_embed(config: ServerConfig, message_content: bool, missing: list[Missing]) -> discord.Embed:
    """What `/unstuck config show` answers: what still lacks first, then every setting by section."""
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
                "Similar threads are matched on titles only, which finds far fewer of them, until "
                "it is turned on in the Developer Portal and in config.toml."
            ),
            inline=False,
        )
    embed.set_footer(text="Change a value with /unstuck config set, undo with /unstuck config reset")
    # The checklist comes first on screen; it gets what Discord's embed limits leave it.
    embed.description = checklist(missing, min(DESCRIPTION_LIMIT, EMBED_LIMIT - len(embed)))
    if missing:
        embed.colour = discord.Colour.gold()
    return embed


def _show(value: object) -> str:
    text = str(value) if not isinstance(value, str) else value
    return discord.utils.escape_markdown(text if len(text) <= 80 else text[:79] + "…")


def setup_facts(guild: discord.Guild, config: ServerConfig) -> SetupFacts:
    """What the set-up check needs to know about this server, read from discord.py's cache."""
    settings = config.settings
    tiers = settings.escalation.tiers if settings.escalation.enabled else []
    escalation_id = config.escalation_channel_id
    tier_channel_ids = sorted({t.channel for t in tiers if isinstance(t.channel, int)} - {escalation_id})
    help_channels = [_channel_facts(guild, c, Where.HELP_CHANNEL) for c in sorted(config.help_channels)]
    return SetupFacts(
        help_channels=tuple(c for c in help_channels if c is not None),
        has_helper_or_staff_role=bool(config.roles.helper_roles or config.roles.staff_roles),
        escalation_channel_needed=any(t.channel == "escalation" for t in tiers),
        escalation_channel=_channel_facts(guild, escalation_id, Where.ESCALATION_CHANNEL),
        tier_channels=tuple(
            c for c in (_channel_facts(guild, i, Where.ESCALATION_CHANNEL) for i in tier_channel_ids) if c
        ),
        leaderboard_enabled=settings.leaderboard.enabled,
        leaderboard_channel=_channel_facts(guild, config.leaderboard_channel_id, Where.LEADERBOARD_CHANNEL),
        solved_tag=settings.help.solved_tag,
        unanswered_tag=settings.help.unanswered_tag,
        pinged_roles_mentionable=_pinged_roles_mentionable(guild, config),
    )


def _channel_facts(guild: discord.Guild, channel_id: int | None, where: Where) -> ChannelFacts | None:
    """The bot's permissions in a configured channel (and a forum's tags); ``None`` if none is set."""
    if channel_id is None:
        return None
    channel = guild.get_channel(channel_id)
    if channel is None:
        return ChannelFacts(channel_id, where, granted=None)
    forum = isinstance(channel, discord.ForumChannel)
    tags = tuple(t.name for t in channel.available_tags) if forum else None
    return ChannelFacts(channel_id, where, granted=channel.permissions_for(guild.me).value, tag_names=tags)


def _pinged_roles_mentionable(guild: discord.Guild, config: ServerConfig) -> bool:
    """Whether every existing role an escalation tier pings can be pinged by anyone."""
    role_ids: set[int] = set()
    for tier in config.settings.escalation.tiers:
        if tier.role == "helper":
            role_ids |= config.roles.helper_roles
        elif tier.role == "staff":
            role_ids |= config.roles.staff_roles
        else:
            role_ids.add(tier.role)
    roles = [guild.get_role(role_id) for role_id in role_ids]
    return all(role.mentionable for role in roles if role is not None)


async def ensure_forum_tags(forum: discord.ForumChannel, config: ServerConfig) -> str | None:
    """Create the Solved and Unanswered tags a forum lacks, or say how to add them; ``None`` if present."""
    help_settings = config.settings.help
    existing = [tag.name for tag in forum.available_tags]
    absent = missing_tags(existing, (help_settings.solved_tag, help_settings.unanswered_tag))
    if not absent:
        return None
    granted = forum.permissions_for(forum.guild.me).value
    if not can_manage_channel(granted) or len(existing) + len(absent) > MAX_FORUM_TAGS:
        fix = tags_fix(forum.id, granted, len(existing), len(absent))
        return f"⚠️ The forum lacks {tag_list(absent)}, so its posts are not tagged yet. To fix it, {fix}."
    tags = [*forum.available_tags, *(discord.ForumTag(name=name) for name in absent)]
    try:
        await forum.edit(available_tags=tags, reason="Unstuck: tags for solved and unanswered posts")
    except discord.HTTPException as error:
        log.warning("could not create tags in forum %s: %s", forum.id, error)
        how = "add them in the forum's settings (Edit Channel → Tags)"
        return f"⚠️ I could not create {tag_list(absent)}: {how}."
    return f"🏷️ I created {tag_list(absent)}, so posts show whether they are solved or unanswered."


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ServerConfigCog(commands.GroupCog, group_name="unstuck", group_description="Unstuck set-up"):
    """`/unstuck …`: offered only to members with Manage Server, only in servers.

    Discord applies ``default_permissions`` and ``guild_only`` to top-level commands alone (discord.py
    drops them on nested groups), so they sit on this class, the `/unstuck` group itself. Server
    admins can still open `/unstuck` to others in Integrations settings: every handler checks again.
    """

    config = app_commands.Group(name="config", description="Configure Unstuck for this server")
    archive = app_commands.Group(name="archive", description="Publish solved threads on the web")

    def __init__(self, bot: UnstuckBot) -> None:
        self.bot = bot
        self.escalation_port = DiscordEscalationPort(bot)  # checks the tiers' roles and channels
        super().__init__()

    @property
    def configs(self) -> ServerConfigService:
        return self.bot.services.configs

    async def _reply(self, interaction: discord.Interaction, text: str) -> None:
        await respond(interaction, text)

    @config.command(name="show", description="Show what Unstuck still needs here, then its settings")
    async def show(self, interaction: discord.Interaction) -> None:
        _require_configure(interaction)
        config = await self.configs.get(interaction.guild_id)
        missing = missing_setup(setup_facts(interaction.guild, config)) if interaction.guild else []
        missing += undelivered(await self.bot.services.delivery.refused_summary(config.guild_id))
        embed = show_embed(config, self.bot.settings.intents.message_content, missing)
        await respond(interaction, embed=embed)

    @config.command(name="add-help-channel", description="Track questions in a forum or text channel")
    async def add_help_channel(self, interaction: discord.Interaction, channel: HelpChannel) -> None:
        """Add the channel; in a forum also create the Solved and Unanswered tags it lacks."""
        _require_configure(interaction)
        kind = "forum" if isinstance(channel, discord.ForumChannel) else "text"
        added = await self.configs.add_help_channel(interaction.guild_id, channel.id, kind)
        how = (
            "Each post there is a question."
            if kind == "forum"
            else "I'll open a thread for each question there."
        )
        lines = [
            f"✅ {channel.mention} is now a help channel. {how}"
            if added
            else f"{channel.mention} already is a help channel."
        ]
        if isinstance(channel, discord.ForumChannel):
            tags_note = await ensure_forum_tags(channel, await self.configs.get(interaction.guild_id))
            if tags_note:
                lines.append(tags_note)
        granted = channel.permissions_for(channel.guild.me).value
        problem = permission_problem(ChannelFacts(channel.id, Where.HELP_CHANNEL, granted))
        if problem is not None:
            lines.append(f"⚠️ {problem.problem} To fix it, {problem.fix}.")
        await self._reply(interaction, "\n".join(lines))

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
        config = await self.bot.services.configs.set_tier(
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
        config = await self.bot.services.configs.remove_tier(interaction.guild_id or 0, tier)
        await self._reply(interaction, "✅ Escalation tiers are now:\n" + tiers_text(config))

    @config.command(name="quiet-hours", description="Hold escalations back daily (server time); empty = off")
    @app_commands.describe(start="When quiet hours start, e.g. 22:00", end="When they end, e.g. 07:00")
    async def quiet_hours(
        self, interaction: discord.Interaction, start: str | None = None, end: str | None = None
    ) -> None:
        _require_configure(interaction)
        config = await self.bot.services.configs.set_quiet_hours(interaction.guild_id or 0, start, end)
        quiet = config.settings.escalation.quiet_hours
        if quiet is None:
            text = "✅ Quiet hours are off: escalations go out as soon as they are due."
        else:
            text = (
                f"✅ Quiet hours: {quiet.start:%H:%M} to {quiet.end:%H:%M} ({config.settings.timezone}). "
                "Escalations due in between go out when they end."
            )
        await self._reply(interaction, text)

    @app_commands.command(
        name="backfill",
        description="Import solved threads from help-channel history",
        extras={PUBLIC: True},  # the progress message is for everyone in the channel
    )
    async def backfill(self, interaction: discord.Interaction) -> None:
        """Manage Server: import archived solved threads (resumable; nothing is imported twice)."""
        _require_configure(interaction)
        await backfill_from_command(self.bot, interaction)

    @archive.command(name="enable", description="Publish a help channel's solved threads (with a preview)")
    @app_commands.describe(
        members="Members' messages: public unless they opt out, or private unless they opt in",
        hide_leavers="Hide the messages of members who leave the server",
    )
    async def archive_enable(
        self,
        interaction: discord.Interaction,
        channel: HelpChannel,
        members: Literal["public", "private"] | None = None,
        hide_leavers: bool | None = None,
    ) -> None:
        _require_configure(interaction)
        default = MembersDefault(members) if members else None
        await enable_from_command(self.bot, interaction, channel, default, hide_leavers)

    @archive.command(name="disable", description="Stop publishing a help channel's threads")
    async def archive_disable(self, interaction: discord.Interaction, channel: HelpChannel) -> None:
        _require_configure(interaction)
        await disable_from_command(self.bot, interaction, channel)


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
