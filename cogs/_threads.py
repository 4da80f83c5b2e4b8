"""Help threads on Discord, as several cogs' ports need them: find one, make it look like its state,
post an owed note in it, archive it.

A shared adapter rather than one cog's port, so that no cog reaches into another for these: the
help-threads, solutions and similar cogs each build one.
"""

from __future__ import annotations

import logging

import discord

from bot.config import HelpSettings
from bot.domain.lifecycle import ThreadState
from bot.domain.naming import with_prefix, without_prefix
from bot.services.outbox import NoteLink
from bot.services.server_config import ServerConfig
from cogs._common import link_button
from storage.models import HelpThread

log = logging.getLogger(__name__)


class DiscordThreads:
    """Also the outbox's port (:class:`bot.services.outbox.OutboxPort`): ``send`` and ``archive``."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def thread(self, thread_id: int) -> discord.Thread | None:
        """The thread, from the cache or from Discord (archived threads are not cached)."""
        channel = self.client.get_channel(thread_id)
        if isinstance(channel, discord.Thread):
            return channel
        try:
            fetched = await self.client.fetch_channel(thread_id)
        except (discord.NotFound, discord.Forbidden):
            return None
        return fetched if isinstance(fetched, discord.Thread) else None

    async def sync_appearance(self, row: HelpThread, config: ServerConfig) -> None:
        """Make a thread look like its state: forum tags (Solved/Unanswered) or the ✅ name prefix."""
        thread = await self.thread(row.id)
        if thread is None or thread.archived:
            return  # an archived thread is left as it is; editing it would wake it up
        help_settings = config.settings.help
        try:
            if isinstance(thread.parent, discord.ForumChannel):
                tags = desired_tags(thread.parent, thread.applied_tags, row.state, help_settings)
                if tags is not None:
                    await thread.edit(applied_tags=tags)
            else:
                name = desired_name(thread.name, row.state, help_settings.solved_prefix)
                if name != thread.name:
                    await thread.edit(name=name)
        except (discord.NotFound, discord.Forbidden):
            log.info("could not update the look of thread %s", row.id)

    async def send(
        self, channel_id: int, content: str, nonce: str, links: tuple[NoteLink, ...] = ()
    ) -> int | None:
        """Post an owed message; ``None`` when the channel is gone."""
        channel = self.client.get_channel(channel_id) or await self.thread(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return None
        view: discord.ui.View = discord.utils.MISSING  # no components at all unless there are links
        if links:
            view = discord.ui.View(timeout=None)
            for link in links:
                view.add_item(link_button(link))
        try:
            return (await channel.send(content, nonce=nonce, view=view)).id
        except (discord.NotFound, discord.Forbidden):
            return None

    async def archive(self, thread_id: int) -> None:
        thread = await self.thread(thread_id)
        if thread is not None and not thread.archived:
            try:
                await thread.edit(archived=True)
            except (discord.NotFound, discord.Forbidden):
                log.info("could not archive thread %s", thread_id)


def desired_tags(
    forum: discord.ForumChannel, current: list[discord.ForumTag], state: ThreadState, settings: HelpSettings
) -> list[discord.ForumTag] | None:
    """The tags a forum post should carry for ``state``; ``None`` when nothing needs to change."""
    by_name = {tag.name.casefold(): tag for tag in forum.available_tags}
    solved = by_name.get(settings.solved_tag.casefold())
    unanswered = by_name.get(settings.unanswered_tag.casefold())
    wanted = {solved: state is ThreadState.SOLVED, unanswered: state is ThreadState.OPEN}
    tags = [t for t in current if wanted.get(t, True)]
    for tag, on in wanted.items():
        if tag is not None and on and tag not in tags:
            tags.append(tag)
    tags = tags[:5]  # Discord allows five tags on a post; ours come last and the oldest stay
    return None if {t.id for t in tags} == {t.id for t in current} else tags


def desired_name(name: str, state: ThreadState, prefix: str) -> str:
    """A text-channel thread is named with the ✅ prefix exactly while it is solved."""
    return with_prefix(name, prefix) if state is ThreadState.SOLVED else without_prefix(name, prefix)
