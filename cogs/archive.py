"""The public archive on Discord: `/privacy` for every member, `/unstuck archive enable|disable`
for admins (the commands live in the `/unstuck` group, :mod:`cogs.server_config`), and the
events that take things out of the archive (a deleted message, a member who leaves)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.archive_consent import HIDDEN_TEXT, Choice, MembersDefault, Post
from bot.services.archive import ArchiveService, Preview
from bot.services.errors import NotAllowed
from cogs._common import actor_from_interaction, defer_update, respond, respond_ephemeral, update

if TYPE_CHECKING:
    from bot.app import UnstuckBot

#: The one line the welcome and Solved notes add in a channel the server publishes.
PUBLISHED_NOTE = "🌐 This thread may be published in the server's public archive: choose how with `/privacy`."
PrivacyChoice = Literal["publish", "without my name", "never", "forget me"]
CHOICES: dict[str, Choice] = {
    "publish": Choice.PUBLISH,
    "without my name": Choice.ANONYMOUS,
    "never": Choice.NEVER,
}
SAID = {
    Choice.PUBLISH: "published with your name",
    Choice.ANONYMOUS: "published without your name",
    Choice.NEVER: "never published: they read “(message hidden by its author)”",
}
QUOTE_LIMIT = 160


def _quote(post: Post) -> str:
    text = " ".join(post.text.split())
    text = text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + "…"
    who = post.author or "(no name)"
    return f"> {discord.utils.escape_mentions(text)}\n> — {discord.utils.escape_markdown(who)}"


def preview_text(channel_mention: str, added: bool, preview: Preview) -> str:
    """What `/unstuck archive enable` answers privately: what will be public, with examples."""
    default = (
        "public unless they opt out"
        if preview.consent.members_default is MembersDefault.PUBLIC
        else "private unless they opt in"
    )
    leavers = "hidden" if preview.consent.hide_leavers else "kept"
    lines = [
        f"✅ {channel_mention}'s solved threads are now published in the archive."
        if added
        else f"{channel_mention} already is published.",
        f"Members' messages are {default} (`/privacy`); members who leave are {leavers}.",
        f"**Preview:** {preview.published} solved threads will be public, "
        f"{preview.withheld} stay private (their asker did not consent or the question is gone).",
    ]
    for page in preview.samples:
        lines.append(f"**{discord.utils.escape_markdown(page.title)}** (helped {page.helped})")
        lines.append(_quote(page.question))
        if page.accepted is not None and page.accepted.text != HIDDEN_TEXT:
            lines.append("Accepted answer:\n" + _quote(page.accepted))
    text = "\n".join(lines)
    return text if len(text) <= 2000 else text[:1999] + "…"


async def enable_from_command(
    bot: UnstuckBot,
    interaction: discord.Interaction,
    channel: discord.abc.GuildChannel,
    members: MembersDefault | None,
    hide_leavers: bool | None,
) -> None:
    added, preview = await bot.services.archive.enable(
        interaction.guild_id or 0,
        channel.id,
        actor_from_interaction(interaction),
        channel.name,
        members,
        hide_leavers,
    )
    await respond(interaction, preview_text(channel.mention, added, preview))


async def disable_from_command(
    bot: UnstuckBot, interaction: discord.Interaction, channel: discord.abc.GuildChannel
) -> None:
    removed = await bot.services.archive.disable(
        interaction.guild_id or 0, channel.id, actor_from_interaction(interaction)
    )
    text = (
        f"✅ {channel.mention}'s threads leave the archive at its next build."
        if removed
        else f"{channel.mention} was not published."
    )
    await respond(interaction, text)


FORGET_PROMPT = (
    "**Forget me?** This removes the text of your messages and your name from this server's archive "
    "and from similar-thread suggestions, for good, and publishes nothing of yours again. Your points "
    "stay, under an anonymous id. It cannot be undone."
)


class ForgetButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"privacy:forget:(?P<member>\d+)"
):
    """Confirms "forget me" for the member it was shown to."""

    def __init__(self, member_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Yes, forget me",
                emoji="🧹",
                style=discord.ButtonStyle.danger,
                custom_id=f"privacy:forget:{member_id}",
            )
        )
        self.member_id = member_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> ForgetButton:
        return cls(int(match["member"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        # By name, not class: each bot in one process (shard tests) loads its own copy of this module.
        cog = interaction.client.get_cog("Archive")  # type: ignore[attr-defined]
        await cog.forget_clicked(interaction, self.member_id)


class Archive(commands.Cog):
    def __init__(self, bot: UnstuckBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ForgetButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ForgetButton)

    @property
    def service(self) -> ArchiveService:
        return self.bot.services.archive

    @app_commands.command(name="privacy", description="Choose whether the public archive shows your messages")
    @app_commands.guild_only()
    @app_commands.describe(choice="publish / without my name / never; or forget me: remove my words and name")
    async def privacy(self, interaction: discord.Interaction, choice: PrivacyChoice | None = None) -> None:
        """Any member, answered privately: their choice for the archive, or "forget me"."""
        user, guild_id = interaction.user, interaction.guild_id or 0
        if user.bot:
            raise NotAllowed("Only members choose what the archive shows of them.")
        if choice == "forget me":
            view = discord.ui.View(timeout=None)
            view.add_item(ForgetButton(user.id))
            view.stop()  # a persistent button: answered by its custom id
            await respond(interaction, FORGET_PROMPT, view=view)
            return
        if choice is not None:
            picked = CHOICES[choice]
            await self.service.choose(guild_id, user.id, picked, getattr(user, "display_name", None))
            text = f"✅ From the next build of the archive, your messages are {SAID[picked]}."
        else:
            member = await self.service.choice(guild_id, user.id)
            consent = await self.service.consent(guild_id)
            current = (
                "forgotten: nothing of yours is published"
                if member.forgotten
                else SAID[member.choice]
                if member.choice
                else f"the server's default ({consent.members_default.value})"
            )
            text = (
                f"Your messages in published help channels: {current}.\n"
                "Change it with `/privacy choice:`: publish, without my name, never, or forget me."
            )
        await respond(interaction, text)

    async def forget_clicked(self, interaction: discord.Interaction, member_id: int) -> None:
        """The member confirmed "forget me" (only they may)."""
        if interaction.user.id != member_id:
            await respond_ephemeral(
                interaction, "Only the member who asked can confirm forgetting their messages."
            )
            return
        await defer_update(interaction)
        touched = await self.service.forget(interaction.guild_id or 0, member_id)
        text = (
            "🧹 Done: your stored messages and your name are removed from the archive and from "
            f"similar-thread suggestions ({touched} threads). Your points stay, under an anonymous id, "
            "and nothing of yours is published from now on."
        )
        await update(interaction, content=text, view=None)

    async def _in_lane(self, guild_id: int | None, lane: int, job: Callable[[], Awaitable[object]]) -> None:
        """Run in the thread's lane, after the message's own recording (and retried like it)."""
        if guild_id is not None and self.bot.scope.owns(guild_id):
            await self.bot.services.intake.in_order(guild_id, lane, job)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self._in_lane(
            payload.guild_id, payload.channel_id, lambda: self.service.message_deleted(payload.message_id)
        )

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        content = payload.data.get("content")
        if content is not None:
            await self._in_lane(
                payload.guild_id,
                payload.channel_id,
                lambda: self.service.message_edited(payload.message_id, content),
            )

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        if self.bot.scope.owns(payload.guild_id):
            await self.service.member_left(payload.guild_id, payload.user.id)

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if self.bot.scope.owns(member.guild.id):
            await self.service.member_left(member.guild.id, member.id, left=False)


async def setup(bot: UnstuckBot) -> None:
    await bot.add_cog(Archive(bot))
