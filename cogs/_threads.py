"""Help threads on Discord, as several cogs' ports need them: find one, and what it should look like
(tags, ✅ name, the "Solved" note).

A shared adapter rather than one cog's port, so that no cog reaches into another for these: the
help-threads, solutions, similar and delivery cogs each use it.
"""

from __future__ import annotations

import logging

import discord

from bot.config import HelpSettings
from bot.domain.lifecycle import ThreadState
from bot.domain.naming import with_prefix, without_prefix
from bot.services.port_errors import Refused
from cogs._common import thread_link
from cogs._errors import classified
from storage.models import HelpThread, Solution

log = logging.getLogger(__name__)


class DiscordThreads:
    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def thread(self, thread_id: int) -> discord.Thread | None:
        """The thread, from the cache or from Discord (archived threads are not cached)."""
        channel = self.client.get_channel(thread_id)
        if isinstance(channel, discord.Thread):
            return channel
        try:
            # A 5xx becomes Unavailable: an event's lane tries it again, a caller outside one fails.
            fetched = await classified(self.client.fetch_channel(thread_id))
        except Refused:
            return None
        return fetched if isinstance(fetched, discord.Thread) else None


def solved_note(
    thread: HelpThread, solution: Solution | None, published_note: str = ""
) -> tuple[str, discord.ui.View]:
    """The bot's one reply in a solved thread, and its jump button; or the text once unmarked.

    ``published_note`` is the line a thread in a channel the server publishes adds (the archive).
    """
    tail = f"\n{published_note}" if published_note else ""
    if solution is None:
        return "↩️ The solution mark was removed, so this thread is open again.", discord.ui.View()
    if solution.message_id is None:
        return f"✅ **Solved!** Marked as solved by <@{solution.marked_by_id}>.{tail}", discord.ui.View()
    author, marker = solution.author_id, solution.marked_by_id
    text = f"✅ **Solved!** <@{author}>'s answer was marked as the solution by <@{marker}>.{tail}"
    view = discord.ui.View()
    url = thread_link(thread.guild_id, thread.id, solution.message_id)
    view.add_item(discord.ui.Button(label="Jump to the answer", url=url, emoji="➡️"))
    return text, view


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


def shown_tags(
    forum: discord.ForumChannel | None,
    current: list[discord.ForumTag],
    state: ThreadState,
    settings: HelpSettings,
) -> list[str]:
    """The names of the tags a forum post carries once the edits the database owes Discord are done:
    ``current`` with the Solved and Unanswered tags as ``state`` wants them. What the bot shows
    about a thread (a digest) says this, not Discord's tags, which lag while an edit waits out a 429.

    With the forum unknown (not in the cache), only the state's own tag can be named.
    """
    if forum is None:
        wanted = {ThreadState.SOLVED: settings.solved_tag, ThreadState.OPEN: settings.unanswered_tag}
        return [wanted[state]] if state in wanted else []
    desired = desired_tags(forum, current, state, settings)
    return [tag.name for tag in (current if desired is None else desired)]


def desired_name(name: str, state: ThreadState, prefix: str) -> str:
    """A text-channel thread is named with the ✅ prefix exactly while it is solved."""
    return with_prefix(name, prefix) if state is ThreadState.SOLVED else without_prefix(name, prefix)
