"""Similar solved threads on Discord: suggestions under the welcome note, `/similar`, "This solved it".

Each suggestion is one embed field (title, a one-line answer excerpt, how long ago it was solved,
how many later threads it solved) and one row of buttons: links to the thread and to the answer,
and, in a thread that still needs help, a persistent "This solved it" button whose custom id holds
both thread ids, so it works after a restart.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.cooldowns import Costly
from bot.domain.lifecycle import can_reuse
from bot.domain.suggestions import answer_excerpt
from bot.services.errors import UserFacingError
from bot.services.owed import NoteLink, OwedMessage
from bot.services.similar import ReuseOutcome, ReuseResult, SimilarService, Suggestion
from cogs._access import DiscordAccess, viewer_of
from cogs._common import actor_from_interaction, defer, link_button, respond, thread_link
from cogs._nonces import REUSE_NOTE, nonce
from cogs._retry import patiently

if TYPE_CHECKING:
    from bot.app import UnstuckBot

log = logging.getLogger(__name__)

EMBED_TOTAL_MAX = 6000  # Discord's limit on all embeds of one message together
FIELD_NAME_MAX = 256
SUGGESTIONS_TITLE = "🔎 Solved threads that look like yours"
NO_ANSWER_TEXT = "Open the thread to read the answer."
NO_ANSWER_MESSAGE = "Marked solved without a specific answer."


def _helped(count: int) -> str:
    return f" · 🙌 helped {count} more {'person' if count == 1 else 'people'}" if count else ""


def suggestion_field(number: int, suggestion: Suggestion) -> tuple[str, str]:
    """A suggestion's embed field (name, value): nothing in it can ping or break the layout."""
    title = answer_excerpt(suggestion.title, limit=FIELD_NAME_MAX - 8)
    if suggestion.answer_message_id is None:
        answer = NO_ANSWER_MESSAGE
    else:
        answer = suggestion.excerpt or NO_ANSWER_TEXT
    value = f"💡 {answer}\n✅ Solved {suggestion.solved_ago}{_helped(suggestion.helped)}"
    return f"{number}. {title}", value


def suggestions_embed(suggestions: Sequence[Suggestion], title: str = SUGGESTIONS_TITLE) -> discord.Embed:
    embed = discord.Embed(title=title, colour=discord.Colour.green())
    for number, suggestion in enumerate(suggestions, start=1):
        name, value = suggestion_field(number, suggestion)
        embed.add_field(name=name, value=value, inline=False)
    return embed


class ReuseButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"reuse:(?P<thread>\d+):(?P<source>\d+)"
):
    """ "This solved it": closes ``thread`` as solved by the earlier ``source`` thread."""

    def __init__(self, thread_id: int, source_id: int, number: int = 1) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"{number} · This solved it",
                emoji="✅",
                style=discord.ButtonStyle.success,
                custom_id=f"reuse:{thread_id}:{source_id}",
            )
        )
        self.thread_id, self.source_id = thread_id, source_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> ReuseButton:
        return cls(int(match["thread"]), int(match["source"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        # By name, not class: each bot in one process (shard tests) loads its own copy of this module.
        cog = interaction.client.get_cog("Similar")  # type: ignore[attr-defined]
        await cog.reuse_clicked(interaction, self.thread_id, self.source_id)


def link_targets(suggestion: Suggestion, number: int | None = None) -> tuple[NoteLink, ...]:
    """Where a solved thread's buttons lead: the thread, and its accepted answer if it has one."""
    prefix = f"{number} · " if number is not None else ""
    targets = [NoteLink(f"{prefix}Open thread", thread_link(suggestion.guild_id, suggestion.thread_id), "🧵")]
    if suggestion.answer_message_id:
        answer_url = thread_link(suggestion.guild_id, suggestion.thread_id, suggestion.answer_message_id)
        targets.append(NoteLink(f"{prefix}Jump to the answer", answer_url, "💡"))
    return tuple(targets)


def links(suggestion: Suggestion, number: int | None = None) -> list[discord.ui.Button[Any]]:
    """Link buttons to a solved thread and to its accepted answer."""
    return [link_button(link) for link in link_targets(suggestion, number)]


def suggestions_view(
    suggestions: Sequence[Suggestion], reusable_in: int | None, reusable: Collection[int] | None = None
) -> discord.ui.View:
    """One row per suggestion (Discord allows 5): its links, and "This solved it" when ``reusable_in``
    names the thread that still needs help (only on the suggestions in ``reusable``, when given)."""
    view = discord.ui.View(timeout=None)
    for row, suggestion in enumerate(suggestions[:5]):
        number = row + 1
        for button in links(suggestion, number):
            button.row = row
            view.add_item(button)
        if reusable_in is not None and (reusable is None or suggestion.thread_id in reusable):
            reuse = ReuseButton(reusable_in, suggestion.thread_id, number)
            reuse.row = row
            view.add_item(reuse)
    return view


def welcome_message(
    welcome: discord.Embed, suggestions: Sequence[Suggestion], thread_id: int
) -> tuple[list[discord.Embed], discord.ui.View | None]:
    """The welcome embed, plus the suggestions block only when there is something worth suggesting.

    Suggestions are dropped from the end, never cut, if the embeds would pass Discord's limit.
    """
    shown = list(suggestions[:5])
    while shown and len(welcome) + len(suggestions_embed(shown)) > EMBED_TOTAL_MAX:
        shown.pop()
    if not shown:
        return [welcome], None
    return [welcome, suggestions_embed(shown)], suggestions_view(shown, thread_id)


def reuse_note(outcome: ReuseOutcome) -> str:
    """The public note in a thread closed by "This solved it"."""
    source = outcome.source
    title = answer_excerpt(source.title, limit=120)
    return (
        f"✅ **Solved by an earlier thread:** <@{outcome.thread.asker_id}> found the answer in "
        f"**{title}** (solved {source.solved_ago}). Closing this thread as a duplicate; "
        "use `/reopen` if you need more help."
    )


def owed_reuse_note(outcome: ReuseOutcome) -> OwedMessage:
    """The reuse note as it is owed: text and links to the earlier thread (the archive follows)."""
    return OwedMessage(
        key=nonce(REUSE_NOTE, outcome.thread.id),
        channel_id=outcome.thread.id,
        content=reuse_note(outcome),
        links=link_targets(outcome.source),
    )


def reuse_confirmation(outcome: ReuseOutcome) -> str:
    """What the clicker alone sees: what happened, and to the points."""
    title = answer_excerpt(outcome.source.title, limit=120)
    if outcome.result is ReuseResult.ALREADY:
        return f"This thread is already closed as solved by **{title}**. 👍"
    lines = [f"✅ Closed as solved by **{title}**."]
    lines += [f"• <@{a.member_id}> earned {a.amount} points ({a.rule})." for a in outcome.awards.awards]
    lines += [f"• <@{r.member_id}>: no points, {r.reason}." for r in outcome.awards.refusals]
    return "\n".join(lines)


class Similar(commands.Cog):
    """Suggests solved threads and lets askers say which one solved their question."""

    def __init__(self, bot: UnstuckBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ReuseButton)
        self.service.access = DiscordAccess(self.bot)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ReuseButton)

    @property
    def service(self) -> SimilarService:
        return self.bot.services.similar

    @app_commands.command(name="similar", description="Search this server's solved help threads")
    @app_commands.describe(text="What you are stuck on, e.g. an error message or a few keywords")
    @app_commands.guild_only()
    async def similar(self, interaction: discord.Interaction, text: str) -> None:
        guild_id = interaction.guild_id or 0
        await self.bot.services.cooldowns.use(guild_id, actor_from_interaction(interaction), Costly.SIMILAR)
        found = await self.service.search(guild_id, text, viewer_of(interaction.user))
        if not found:
            await respond(
                interaction,
                "No solved thread matches that closely enough. Try other words, or ask in a help channel.",
            )
            return
        embed = suggestions_embed(found, title=f"🔎 {len(found)} solved thread{'s' * (len(found) > 1)}")
        view = await self._results_view(interaction, found)
        await respond(interaction, embed=embed, view=view)

    async def _results_view(
        self, interaction: discord.Interaction, found: list[Suggestion]
    ) -> discord.ui.View:
        """The results' links, and "This solved it" when `/similar` runs in a help thread an earlier
        thread could still solve: only on results everyone in that thread may see named there."""
        thread = await self.bot.services.threads.get(interaction.channel_id or 0)
        if thread is None or thread.deleted or not can_reuse(thread.state):
            return suggestions_view(found, None)
        return suggestions_view(found, thread.id, self.service.reusable_in(thread, found))

    async def reuse_clicked(self, interaction: discord.Interaction, thread_id: int, source_id: int) -> None:
        """ "This solved it" was clicked: close the thread as a duplicate, credit the earlier answer."""
        await defer(interaction)  # closing the thread and crediting the answer is a write
        actor = actor_from_interaction(interaction)
        try:
            outcome = await patiently(
                lambda: self.service.reuse(thread_id, source_id, actor, note=owed_reuse_note)
            )
        except UserFacingError as error:
            await respond(interaction, str(error))
            return
        # The note and the archive were owed in the same transaction: the delivery worker posts them.
        await respond(interaction, reuse_confirmation(outcome))

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """An edited accepted answer: suggestions quote its new text (unreadable in titles-only mode)."""
        content = payload.data.get("content")
        guild_id = payload.guild_id
        if (
            content is None
            or self.service.titles_only
            or guild_id is None
            or not self.bot.scope.owns(guild_id)
        ):
            return
        # In the thread's lane: in order with its other events, retried through database hiccups.
        await self.bot.services.intake.in_order(
            guild_id,
            payload.channel_id,
            lambda: self.service.answer_edited(payload.channel_id, payload.message_id, content),
        )


async def setup(bot: UnstuckBot) -> None:
    await bot.add_cog(Similar(bot))
