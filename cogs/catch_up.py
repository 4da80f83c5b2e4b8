"""Catching up on Discord: when a server becomes available, read back what happened while away.

Discord does not replay the events a stopped bot missed. When a server becomes available (at start-up,
after an outage, or when the bot joins it), :class:`bot.services.catch_up.CatchUpService` reads its
history through :class:`GuildHistory` and feeds it to the same intake as live events.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp
import discord
from discord.ext import commands

from bot.domain.permissions import Actor
from bot.scheduler import Job
from bot.services.catch_up import Gone, Reactions, Take, ThreadRead
from bot.services.intake import ThreadInfo
from bot.services.port_errors import RetryAfter, Unavailable
from bot.services.solutions import AnswerRef
from cogs._common import actor_from_member, answer_ref, posted_message, thread_info

if TYPE_CHECKING:
    from bot.app import UnstuckBot

log = logging.getLogger(__name__)

CHANNEL_HISTORY = 500  # questions a help text channel may have received while the bot was away
REACTION_HISTORY = 100  # latest messages of a thread compared for solved-emoji reactions (one request)
#: Recently archived threads of a channel looked through for the tracked ones archived meanwhile (a
#: request per hundred); any still missing is looked up alone (a request each).
ARCHIVED_LOOKBACK = 500
LEFT_OVER_SECONDS = 60  # how often servers with events the database refused are caught up


@contextlib.contextmanager
def passing_failures(what: str) -> Iterator[None]:
    """A read Discord failed for a passing reason (a long 429, a 5xx, a lost connection) fails the
    catch-up, which runs again later (the left-over job): nothing it skipped is taken as unchanged."""
    try:
        yield
    except discord.RateLimited as limit:
        raise RetryAfter(limit.retry_after) from None
    except discord.DiscordServerError as error:
        raise Unavailable(f"{what}: Discord answered {error.status}") from None
    except (aiohttp.ClientError, OSError) as error:
        raise Unavailable(f"{what}: {error!r}") from None


class GuildHistory:
    """The catch-up's window on one server's history (a :class:`bot.services.catch_up.HistoryPort`).

    Keeps the threads it has seen, so later reads of the same thread need no lookup.
    """

    def __init__(self, client: discord.Client, guild: discord.Guild) -> None:
        self.client = client
        self.guild = guild
        self._threads: dict[int, discord.Thread] = {}

    def _seen(self, thread: discord.Thread) -> ThreadInfo:
        self._threads[thread.id] = thread
        return thread_info(thread)

    async def active_threads(self) -> list[ThreadInfo] | None:
        try:
            with passing_failures(f"listing the active threads of guild {self.guild.id}"):
                threads = await self.guild.active_threads()
        except discord.HTTPException:
            log.warning("could not list active threads of guild %s", self.guild.id)
            return None
        return [self._seen(thread) for thread in threads]

    def channel_last_message_id(self, channel_id: int) -> int | None:
        channel = self.guild.get_channel(channel_id)
        return channel.last_message_id if isinstance(channel, discord.TextChannel) else None

    async def archived_since(
        self, channel_id: int, since: datetime, wanted: set[int]
    ) -> dict[int, ThreadInfo]:
        channel = self.guild.get_channel(channel_id)
        found: dict[int, ThreadInfo] = {}
        if not isinstance(channel, discord.TextChannel | discord.ForumChannel):
            return found
        try:
            with passing_failures(f"listing the archived threads of help channel {channel_id}"):
                async for thread in channel.archived_threads(limit=ARCHIVED_LOOKBACK):
                    if thread.archive_timestamp < since:
                        break
                    if thread.id in wanted:
                        found[thread.id] = self._seen(thread)
                        if len(found) == len(wanted):
                            break
        except discord.HTTPException:
            log.warning("could not list the archived threads of help channel %s", channel_id)
        return found

    async def read_channel(self, channel_id: int, after: int, take: Take) -> None:
        channel = self.guild.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            return
        try:
            with passing_failures(f"reading help channel {channel_id}"):
                history = channel.history(
                    limit=CHANNEL_HISTORY, after=discord.Object(after), oldest_first=True
                )
                async for message in history:
                    await take(posted_message(message))
        except discord.HTTPException:
            log.warning("could not read the history of help channel %s", channel_id)

    async def read_thread(self, thread: ThreadInfo, after: int, emoji: str | None) -> ThreadRead | None:
        channel = self._threads[thread.thread_id]
        try:
            with passing_failures(f"reading thread {thread.thread_id}"):
                # The latest messages first, in one request: usually all that is new, and the window
                # in which reactions are compared. Anything newer than ``after`` beyond it is read on.
                latest = [message async for message in channel.history(limit=REACTION_HISTORY)]
                older: list[discord.Message] = []
                if len(latest) == REACTION_HISTORY and latest[-1].id > after:
                    history = channel.history(limit=None, after=discord.Object(after), before=latest[-1])
                    older = [message async for message in history]
                reactions = None if emoji is None else await self._reactions(latest, emoji)
        except discord.HTTPException:
            log.warning("could not read the history of thread %s", thread.thread_id)
            return None
        new = sorted((m for m in [*older, *latest] if m.id > after), key=lambda m: m.id)
        return ThreadRead([posted_message(m) for m in new], reactions)

    @staticmethod
    async def _reactions(messages: list[discord.Message], emoji: str) -> Reactions:
        """Who (not a bot) reacted with ``emoji`` on ``messages``: a request per message that has it."""
        shown: set[tuple[int, int]] = set()
        for message in messages:
            for reaction in message.reactions:
                if str(reaction.emoji) == emoji:
                    shown |= {(message.id, user.id) async for user in reaction.users() if not user.bot}
        return shown, {message.id for message in messages}

    async def thread_now(self, thread_id: int) -> ThreadInfo | Gone:
        try:
            channel = await self.client.fetch_channel(thread_id)
        except discord.NotFound:
            return Gone.DELETED
        except discord.HTTPException:
            return Gone.UNREADABLE
        return self._seen(channel) if isinstance(channel, discord.Thread) else Gone.UNREADABLE

    async def answer(self, thread_id: int, message_id: int) -> AnswerRef | None:
        try:
            return answer_ref(await self._threads[thread_id].fetch_message(message_id))
        except discord.NotFound:
            return None

    async def reactor(self, user_id: int) -> Actor | None:
        member = self.guild.get_member(user_id)
        if member is None:
            try:
                member = await self.guild.fetch_member(user_id)
            except discord.HTTPException:
                return None
        return actor_from_member(member)


class CatchUp(commands.Cog):
    """Starts the catch-up of each server this process owns when it becomes available.

    A server becomes available at start-up, when the bot joins it, and after a gateway gap that
    Discord did not replay: a RESUME that failed makes discord.py start a new session, whose
    GUILD_CREATE makes the server available again. Servers with events the database kept refusing
    are caught up by a timed job.
    """

    def __init__(self, bot: UnstuckBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.scheduler.register(Job("catch-up-left-over", self._left_over, seconds=LEFT_OVER_SECONDS))

    async def cog_unload(self) -> None:
        await self.bot.services.catch_up.reactions.stop()

    async def _left_over(self) -> None:
        """Read back the events the database kept refusing (their markers did not move past them)."""
        for guild_id in sorted(self.bot.services.catch_up.left_over):
            guild = self.bot.get_guild(guild_id)
            if guild is not None:
                await self.catch_up(guild)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self.catch_up(guild)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.catch_up(guild)

    async def catch_up(self, guild: discord.Guild) -> None:
        if not self.bot.scope.owns(guild.id):
            return
        try:
            await self.bot.services.catch_up.guild(guild.id, GuildHistory(self.bot, guild))
        finally:
            self.bot.mark_reconciled(guild.id)


async def setup(bot: UnstuckBot) -> None:
    await bot.add_cog(CatchUp(bot))
