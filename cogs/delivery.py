"""Delivering owed Discord actions: the delivery worker's port, and its tick.

:class:`DiscordDelivery` carries out one action at a time for :class:`bot.services.delivery.DeliveryWorker`
and translates what Discord answers into the worker's three outcomes: refused for good, rate-limited
until a time, or failed this time. The cog hands the port over when it loads, ticks the worker for
retries that fell due, and delivers what is still owed when a server becomes available again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.clock import Clock
from bot.domain.lifecycle import ThreadState
from bot.scheduler import Job
from bot.services.delivery import Refused, RetryAfter, ThreadLook
from bot.services.owed import OwedMessage
from cogs._common import message_view
from cogs._errors import classified
from cogs._nonces import SOLVED_NOTE, nonce
from cogs._threads import desired_name, desired_tags, solved_note

if TYPE_CHECKING:
    from bot.app import UnstuckBot

log = logging.getLogger(__name__)

DELIVERY_TICK_SECONDS = 5  # how often retries that fell due are looked for
RECENT_MESSAGES = 50  # how many messages after an action was owed are searched for it
CLOCK_SKEW = timedelta(seconds=5)  # Discord's clock and ours may differ this much
#: States in which a help thread rests archived on Discord.
ARCHIVED_STATES = frozenset({ThreadState.CLOSED, ThreadState.DORMANT})
#: What Discord limits hardest: 2 edits of a channel's name or tags per 10 minutes per channel.
LIMITED_EDITS = frozenset({"name", "applied_tags"})
ANSWERS_KEPT = 1000  # Discord's answers to the bot's latest thread edits, kept to check the gateway's copy


class DiscordDelivery:
    """The delivery worker's window on Discord (:class:`bot.services.delivery.DeliveryPort`)."""

    def __init__(self, client: discord.Client, clock: Clock) -> None:
        self.client = client
        self.clock = clock
        # Threads whose name and tags Discord will not change before a time (a 429 said so): a
        # look owed again meanwhile waits for it without asking Discord in vain.
        self._limited_until: dict[int, datetime] = {}
        # What Discord answered to the bot's last edit of a thread, until the gateway's copy agrees.
        self._answered: dict[int, discord.Thread] = {}

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        channel = self.client.get_channel(channel_id)
        if channel is None:
            channel = await classified(self.client.fetch_channel(channel_id))
        if not isinstance(channel, discord.abc.Messageable):
            raise Refused("not a channel the bot can post in")
        return channel

    async def send(self, message: OwedMessage) -> int:
        channel = await self._channel(message.channel_id)
        embeds = [discord.Embed.from_dict(embed) for embed in message.embeds]
        view = message_view(message)
        sent = await classified(
            channel.send(
                message.content or None,
                embeds=embeds or discord.utils.MISSING,  # type: ignore[arg-type]
                view=view or discord.utils.MISSING,  # type: ignore[arg-type]
                nonce=message.key,
            )
        )
        return sent.id

    async def find_sent(self, message: OwedMessage, since: datetime) -> int | None:
        """The bot's message with the same text and embeds, posted after ``since``, if there is one."""
        channel = await self._channel(message.channel_id)
        me = self.client.user
        wanted = _fingerprint(message.content, list(message.embeds))
        after = discord.Object(discord.utils.time_snowflake(since - CLOCK_SKEW))

        async def look() -> int | None:
            # Oldest first from when it was owed: a first attempt posts it among the first there.
            async for posted in channel.history(limit=RECENT_MESSAGES, after=after, oldest_first=True):
                mine = me is not None and posted.author.id == me.id
                if mine and _fingerprint(posted.content, [e.to_dict() for e in posted.embeds]) == wanted:
                    return posted.id
            return None

        return await classified(look())

    async def _thread(self, thread_id: int) -> discord.Thread:
        thread = self.client.get_channel(thread_id)  # kept current by THREAD_UPDATE
        if thread is None:
            thread = await classified(self.client.fetch_channel(thread_id))
        if not isinstance(thread, discord.Thread):
            raise Refused("not a thread")
        return thread

    async def show_note(self, look: ThreadLook) -> int | None:
        """The bot's one "Solved" note: edited when the solution moves or goes, posted once."""
        thread = await self._thread(look.thread.id)
        text, view = solved_note(look.thread, look.solution)
        view.stop()  # link buttons only: nothing for discord.py to keep
        if look.note_id:
            try:
                await classified(thread.get_partial_message(look.note_id).edit(content=text, view=view))
                return look.note_id
            except Refused:
                pass  # someone deleted our note: post a fresh one below
        if look.solution is None:
            return look.note_id
        sent = await classified(thread.send(text, view=view, nonce=nonce(SOLVED_NOTE, thread.id)))
        return sent.id

    async def _shown(self, thread_id: int) -> discord.Thread:
        """The thread as Discord shows it now. The gateway's copy, unless it disagrees with Discord's
        answer to the bot's own last edit: its THREAD_UPDATE may still be on the way, or someone
        changed the thread since; then Discord is asked."""
        thread = await self._thread(thread_id)
        answered = self._answered.get(thread_id)
        if answered is None or _look_of(answered) == _look_of(thread):
            self._answered.pop(thread_id, None)
            return thread
        fresh = await classified(self.client.fetch_channel(thread_id))
        if not isinstance(fresh, discord.Thread):
            raise Refused("not a thread")
        if _look_of(fresh) == _look_of(thread):
            del self._answered[thread_id]
        return fresh

    async def show_look(self, look: ThreadLook) -> None:
        """Tags or ✅ name, and archived exactly while the thread rests; one edit for all of it,
        decided from what Discord shows now, so nothing is sent that Discord shows already."""
        thread = await self._shown(look.thread.id)
        rests = look.thread.state in ARCHIVED_STATES
        if thread.archived and (rests or not look.unarchive):
            return  # an archived thread is left as it is, unless it came back to life
        settings = look.config.settings.help
        changes: dict[str, object] = {}
        if isinstance(thread.parent, discord.ForumChannel):
            tags = desired_tags(thread.parent, thread.applied_tags, look.thread.state, settings)
            if tags is not None:
                changes["applied_tags"] = tags
        else:
            name = desired_name(thread.name, look.thread.state, settings.solved_prefix)
            if name != thread.name:
                changes["name"] = name
        if rests != thread.archived:
            changes["archived"] = rests
        if changes:
            await self._edit(thread, changes)

    async def _edit(self, thread: discord.Thread, changes: dict[str, object]) -> None:
        """One edit of the thread; a name or tag change waits while Discord's window for it is full."""
        limited = not LIMITED_EDITS.isdisjoint(changes)
        now = self.clock.now()
        until = self._limited_until.get(thread.id)
        if until is not None and until <= now:
            del self._limited_until[thread.id]
        elif limited and until is not None:
            raise RetryAfter((until - now).total_seconds())
        try:
            answer = await classified(thread.edit(**changes))  # type: ignore[arg-type]
        except RetryAfter as limit:
            if limited:
                self._forget_passed(now)
                self._limited_until[thread.id] = now + timedelta(seconds=limit.seconds)
            raise
        self._answered.pop(thread.id, None)
        self._answered[thread.id] = answer
        while len(self._answered) > ANSWERS_KEPT:  # the oldest: the gateway caught up with them long ago
            del self._answered[next(iter(self._answered))]

    def _forget_passed(self, now: datetime) -> None:
        self._limited_until = {thread: t for thread, t in self._limited_until.items() if t > now}


def _look_of(thread: discord.Thread) -> tuple[str, frozenset[int], bool]:
    """What the bot's edits of a thread change: its name, its tags and whether it is archived."""
    return (thread.name, frozenset(tag.id for tag in thread.applied_tags), thread.archived)


def _fingerprint(content: str | None, embeds: list[dict[str, object]]) -> tuple[str, tuple[str, ...]]:
    """What tells two bot messages apart: their text and their embeds' titles and descriptions."""
    return (content or "", tuple(f"{e.get('title', '')}\n{e.get('description', '')}" for e in embeds))


class Delivery(commands.Cog):
    """Hands the delivery port to the worker and ticks it."""

    def __init__(self, bot: UnstuckBot) -> None:
        self.bot = bot
        self.port = DiscordDelivery(bot, bot.clock)

    async def cog_load(self) -> None:
        worker = self.bot.services.delivery
        worker.port = self.port
        self.bot.scheduler.register(Job("delivery", worker.deliver_due, seconds=DELIVERY_TICK_SECONDS))
        self.bot.services.catch_up.register(self._deliver_owed)

    async def cog_unload(self) -> None:
        await self.bot.services.delivery.stop()

    async def _deliver_owed(self, guild_id: int) -> None:
        """After downtime: what was owed when the bot stopped goes out now, before it counts as caught up."""
        await self.bot.services.delivery.deliver_due()


async def setup(bot: UnstuckBot) -> None:
    await bot.add_cog(Delivery(bot))
