"""Small translations from Discord objects to the Discord-free types the services take, and the
one way every command and button answers within Discord's deadline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.domain.permissions import Actor
from bot.services.intake import PostedMessage, ThreadInfo
from bot.services.owed import NoteButton, NoteLink, OwedMessage
from bot.services.solutions import AnswerRef

log = logging.getLogger(__name__)

#: Members' messages and replies; other types are system messages ("pinned a message", ...).
CHAT_MESSAGE_TYPES = (discord.MessageType.default, discord.MessageType.reply)
MESSAGE_LIMIT = 2000
#: In a command's ``extras``: its answer is for the whole channel to see (answers are private otherwise).
PUBLIC = "unstuck_public_answer"
#: In an interaction's ``extras`` while its answer is a public "thinking…" message.
_THINKING_IN_PUBLIC = "unstuck_thinking_in_public"
#: How long a timed job (escalation digests, weekly posts) waits for one Discord call: past it, the
#: post stays owed for the next sweep, and the others are not held up behind it.
DISCORD_CALL_TIMEOUT = 10.0


def actor_from_interaction(interaction: discord.Interaction) -> Actor:
    """The member behind an interaction, with their permissions in that channel."""
    user = interaction.user
    permissions = interaction.permissions
    roles = frozenset(role.id for role in getattr(user, "roles", ()))
    return Actor(
        user_id=user.id,
        role_ids=roles,
        manage_guild=permissions.manage_guild,
        manage_threads=permissions.manage_threads,
        administrator=permissions.administrator,
        is_bot=user.bot,
    )


def actor_from_member(member: discord.Member | discord.User) -> Actor:
    """The member behind a gateway event (a reaction), with their server-wide permissions."""
    if not isinstance(member, discord.Member):
        return Actor(user_id=member.id, is_bot=member.bot)
    permissions = member.guild_permissions
    return Actor(
        user_id=member.id,
        role_ids=frozenset(role.id for role in member.roles),
        manage_guild=permissions.manage_guild,
        manage_threads=permissions.manage_threads,
        administrator=permissions.administrator,
        is_bot=member.bot,
    )


def thread_info(thread: discord.Thread) -> ThreadInfo:
    return ThreadInfo(
        thread_id=thread.id,
        guild_id=thread.guild.id,
        parent_id=thread.parent_id,
        owner_id=thread.owner_id,
        name=thread.name,
        created_at=thread.created_at or discord.utils.snowflake_time(thread.id),
        archived=thread.archived,
        owner_name=thread.owner.display_name if thread.owner is not None else None,
        tags=tuple(tag.name for tag in thread.applied_tags),
        last_message_id=thread.last_message_id,
    )


def posted_message(message: discord.Message) -> PostedMessage:
    """A guild message as intake takes it (``message.guild`` must be set)."""
    channel = message.channel
    assert message.guild is not None
    return PostedMessage(
        message_id=message.id,
        guild_id=message.guild.id,
        channel_id=channel.id,
        author_id=message.author.id,
        author_name=message.author.display_name,
        author_is_bot=message.author.bot,
        content=message.content,
        created_at=message.created_at,
        is_chat=message.type in CHAT_MESSAGE_TYPES,
        thread=thread_info(channel) if isinstance(channel, discord.Thread) else None,
        own_thread_id=message.thread.id if message.thread is not None else None,
    )


def answer_ref(message: discord.Message) -> AnswerRef:
    return AnswerRef(
        message_id=message.id,
        channel_id=message.channel.id,
        author_id=message.author.id,
        author_is_bot=message.author.bot,
        content=message.content,
    )


def link_button(link: NoteLink, row: int | None = None) -> discord.ui.Button[Any]:
    return discord.ui.Button[Any](label=link.label, url=link.url, emoji=link.emoji or None, row=row)


def owed_message(
    key: str,
    channel_id: int,
    content: str = "",
    embeds: list[discord.Embed] | None = None,
    view: discord.ui.View | None = None,
) -> OwedMessage:
    """A message rendered now, to be posted by the delivery worker: embeds and buttons as stored values."""
    links: list[NoteLink] = []
    rows: list[int | None] = []
    buttons: list[NoteButton] = []
    for item in view.children if view is not None else []:
        button = getattr(item, "item", item)  # a persistent button (DynamicItem) wraps a Button
        if not isinstance(button, discord.ui.Button):
            continue
        emoji = str(button.emoji) if button.emoji else ""
        if button.url:
            links.append(NoteLink(button.label or "", button.url, emoji))
            rows.append(item.row)
        elif button.custom_id:
            style = button.style.name
            buttons.append(NoteButton(button.custom_id, button.label or "", emoji, style, item.row))
    return OwedMessage(
        key=key,
        channel_id=channel_id,
        content=content,
        embeds=tuple(embed.to_dict() for embed in embeds or ()),
        links=tuple(links),
        buttons=tuple(buttons),
        link_rows=tuple(rows) if any(row is not None for row in rows) else (),
    )


def message_view(message: OwedMessage) -> discord.ui.View | None:
    """The buttons of an owed message, ready to send; ``None`` for none.

    The view is stopped before it is sent: its buttons are either links or persistent buttons that
    their cog answers by custom id, so discord.py need not keep it.
    """
    rows = message.link_rows or (None,) * len(message.links)
    if not message.links and not message.buttons:
        return None
    view = discord.ui.View(timeout=None)
    items: list[discord.ui.Button[Any]] = [
        link_button(link, row) for link, row in zip(message.links, rows, strict=True)
    ]
    items += [
        discord.ui.Button[Any](
            custom_id=button.custom_id,
            label=button.label,
            emoji=button.emoji or None,
            style=discord.ButtonStyle[button.style],
            row=button.row,
        )
        for button in message.buttons
    ]
    for item in sorted(items, key=lambda i: (i.row is None, i.row or 0)):
        view.add_item(item)
    view.stop()
    return view


def thread_link(guild_id: int, thread_id: int, message_id: int | None = None) -> str:
    tail = f"/{message_id}" if message_id else ""
    return f"https://discord.com/channels/{guild_id}/{thread_id}{tail}"


# ---- answering interactions ------------------------------------------------------------------
# Discord shows "The application did not respond" unless an interaction is answered within 3 s,
# and a write waiting for the database's lock or a REST fetch can take longer. So every command is
# acknowledged at once ("Unstuck is thinking…", see bot.app.UnstuckTree), buttons acknowledge
# their click first, and the answer follows through these helpers.


#: Discord wants the acknowledgement within 3 s, but after a 5xx discord.py waits 1 s, then 3 s,
#: before it tries again: two failures in a row and the user has seen "The application did not
#: respond". So a try that has not succeeded within ACK_TRY_SECONDS is dropped for a fresh one.
ACK_TRY_SECONDS = 0.5
ACK_TRIES = 5
ALREADY_ACKNOWLEDGED = 40060


async def defer(interaction: discord.Interaction, *, ephemeral: bool = True) -> None:
    """Acknowledge now with a "thinking…" message that the answer replaces, private unless
    ``ephemeral`` is false (the answer then is public too). Does nothing if already acknowledged."""
    if interaction.response.is_done():
        return
    await _acknowledge(
        interaction,
        lambda: interaction.response.defer(ephemeral=ephemeral, thinking=True),
        discord.InteractionResponseType.deferred_channel_message,
    )
    if not ephemeral:
        interaction.extras[_THINKING_IN_PUBLIC] = True


async def defer_update(interaction: discord.Interaction) -> None:
    """Acknowledge a button click now; :func:`update` then edits the message it is on."""
    if not interaction.response.is_done():
        await _acknowledge(
            interaction, interaction.response.defer, discord.InteractionResponseType.deferred_message_update
        )


async def _acknowledge(
    interaction: discord.Interaction,
    acknowledge: Callable[[], Awaitable[object]],
    kind: discord.InteractionResponseType,
) -> None:
    """``acknowledge()`` within Discord's deadline, trying afresh when a try takes too long."""
    for last in [False] * (ACK_TRIES - 1) + [True]:
        try:
            if last:  # the final try keeps discord.py's own retries
                await acknowledge()
            else:
                await asyncio.wait_for(acknowledge(), ACK_TRY_SECONDS)
            return
        except TimeoutError:
            log.info("acknowledging interaction %s took too long; trying again", interaction.id)
        except discord.HTTPException as error:
            if error.code != ALREADY_ACKNOWLEDGED:
                raise
            # An earlier try reached Discord after all: the interaction is acknowledged.
            interaction.response._response_type = kind  # discord.py's own record of it
            return


async def respond(
    interaction: discord.Interaction,
    content: Any = discord.utils.MISSING,
    *,
    ephemeral: bool = True,
    **kwargs: Any,
) -> discord.WebhookMessage | None:
    """Answer, whether or not the interaction was acknowledged first; the message when deferred."""
    if not interaction.response.is_done():
        await interaction.response.send_message(content, ephemeral=ephemeral, **kwargs)
        return None
    interaction.extras.pop(_THINKING_IN_PUBLIC, None)
    return await interaction.followup.send(content, ephemeral=ephemeral, wait=True, **kwargs)


async def update(interaction: discord.Interaction, **kwargs: Any) -> None:
    """Edit the message whose button was clicked, whether or not the click was acknowledged first."""
    if interaction.response.is_done():
        await interaction.edit_original_response(**kwargs)
    else:
        await interaction.response.edit_message(**kwargs)


async def respond_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Answer privately (a refusal, an error), however far the interaction was answered already.

    A public "thinking…" message is deleted first: the channel need not see that someone was refused.
    """
    if len(text) > MESSAGE_LIMIT:  # an error that quotes what someone typed must still fit
        text = text[: MESSAGE_LIMIT - 1] + "…"
    try:
        if interaction.extras.pop(_THINKING_IN_PUBLIC, False):
            await interaction.delete_original_response()
        await respond(interaction, text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not answer interaction %s", interaction.id)
