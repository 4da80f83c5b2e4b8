"""The public archive's consent: which channels a server publishes, what each member chose,
"forget me", and the published form of every thread the site builder reads.

Nothing here talks to Discord. The rules of what may be published are in
:mod:`bot.domain.archive_consent`; this module reads and writes what they need.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain.archive_consent import (
    Choice,
    Consent,
    Member,
    MembersDefault,
    Message,
    PublishedThread,
    Thread,
    publish,
)
from bot.domain.permissions import Actor, can_configure
from bot.services.errors import NotAllowed, UserFacingError
from bot.services.server_config import ServerConfigService
from storage.archive_repo import ArchiveRepo
from storage.engine import Database
from storage.models import ArchiveMember, HelpThread, Solution, ThreadMessage
from storage.repositories import GuildRepo

PREVIEW_SAMPLES = 3


@dataclass(frozen=True)
class Preview:
    """What enabling a channel makes public: the threads published, those kept private, examples."""

    published: int
    withheld: int  # solved threads left out (their asker does not consent, or the question is gone)
    samples: tuple[PublishedThread, ...]
    consent: Consent


def member_facts(row: ArchiveMember) -> Member:
    return Member(
        choice=Choice(row.choice) if row.choice else None,
        name=row.display_name,
        left=row.left_at is not None,
        forgotten=row.forgotten_at is not None,
    )


def thread_facts(
    thread: HelpThread, solution: Solution, helped: int, own_tags: Collection[str] = ()
) -> Thread:
    """The stored thread as the consent rules take it; ``own_tags`` (the bot's Solved and
    Unanswered) are left out of its tags."""
    own = {tag.casefold() for tag in own_tags}
    return Thread(
        thread_id=thread.id,
        guild_id=thread.guild_id,
        channel_id=thread.channel_id,
        title=thread.title,
        question=thread.question,
        asker_id=thread.asker_id,
        created_at=thread.created_at,
        solved_at=thread.solved_at or solution.marked_at,
        deleted=thread.deleted,
        starter_deleted=thread.starter_deleted,
        answer_message_id=solution.message_id,
        answer_author_id=solution.author_id,
        answer_text=solution.answer,
        helped=helped,
        tags=tuple(tag for tag in thread.tags or () if tag.casefold() not in own),
    )


def message_facts(row: ThreadMessage) -> Message:
    return Message(row.id, row.author_id, row.content, row.created_at, row.deleted)


def anonymous_id() -> int:
    """A points-ledger id that stands for a forgotten member: negative, so never a Discord id."""
    return -1 - secrets.randbelow(2**62)


class ArchiveService:
    def __init__(self, db: Database, clock: Clock, configs: ServerConfigService) -> None:
        self.db = db
        self.clock = clock
        self.configs = configs
        # Told the thread id after its stored text changed (the similar-thread index refreshes it).
        self.listeners: list[Callable[[int], Awaitable[None]]] = []

    # ---- admins: which channels are published, and the server's default ---------------------

    async def consent(self, guild_id: int) -> Consent:
        async with self.db.reading() as session:
            row = await ArchiveRepo(session).settings(guild_id)
        if row is None:
            return Consent()
        return Consent(MembersDefault(row.members_default), row.hide_leavers)

    async def enable(
        self,
        guild_id: int,
        channel_id: int,
        actor: Actor,
        name: str = "",
        members_default: MembersDefault | None = None,
        hide_leavers: bool | None = None,
    ) -> tuple[bool, Preview]:
        """Publish a help channel's solved threads (Manage Server only); whether it is new, and a preview."""
        _require_configure(actor)
        config = await self.configs.get(guild_id)
        if not config.is_help_channel(channel_id):
            raise UserFacingError("Only a help channel's threads can be published: add it as one first.")
        now = self.clock.now()
        async with self.db.session() as session:
            await GuildRepo(session).ensure(guild_id, now)
            repo = ArchiveRepo(session)
            default = members_default.value if members_default else None
            await repo.save_settings(guild_id, now, default, hide_leavers)
            added = await repo.enable(guild_id, channel_id, name or str(channel_id), actor.user_id, now)
        self.configs.invalidate(guild_id)
        return added, await self.preview(guild_id, channel_id)

    async def disable(self, guild_id: int, channel_id: int, actor: Actor) -> bool:
        """Stop publishing a channel: its threads leave the archive at the next build."""
        _require_configure(actor)
        async with self.db.session() as session:
            removed = await ArchiveRepo(session).disable(guild_id, channel_id)
        self.configs.invalidate(guild_id)
        return removed

    async def preview(self, guild_id: int, channel_id: int) -> Preview:
        """What the archive shows of one channel's solved threads, as if it were published."""
        every = await self._published(guild_id, {channel_id})
        shown = [page for page in every.values() if page is not None]
        return Preview(
            published=len(shown),
            withheld=len(every) - len(shown),
            samples=tuple(sorted(shown, key=lambda p: -p.helped)[:PREVIEW_SAMPLES]),
            consent=await self.consent(guild_id),
        )

    # ---- members: their own choice, and forgetting ------------------------------------------

    async def choice(self, guild_id: int, member_id: int) -> Member:
        async with self.db.reading() as session:
            rows = await ArchiveRepo(session).members(guild_id, [member_id])
        return member_facts(rows[0]) if rows else Member()

    async def choose(self, guild_id: int, member_id: int, choice: Choice, name: str | None = None) -> None:
        """Record a member's choice for their own messages; it applies from the next build."""
        now = self.clock.now()
        async with self.db.session() as session:
            row = await ArchiveRepo(session).member(guild_id, member_id, now)
            row.choice, row.forgotten_at, row.updated_at = choice.value, None, now
            if name and choice is Choice.PUBLISH:
                row.display_name = name[:100]

    async def forget(self, guild_id: int, member_id: int) -> int:
        """Remove a member's stored words and name from this server's archive and similar-thread
        index; their points stay in the ledger under an anonymous id. Returns the threads touched."""
        async with self.db.session() as session:
            touched = await ArchiveRepo(session).forget(guild_id, member_id, anonymous_id(), self.clock.now())
        for thread_id in sorted(touched):
            for listener in self.listeners:
                await listener(thread_id)
        return len(touched)

    async def member_left(self, guild_id: int, member_id: int, left: bool = True) -> None:
        """A member left the server (or came back): whether the archive hides them is the server's call."""
        if not (await self.configs.get(guild_id)).archive_channels:
            return  # a server without an archive keeps nothing about its members
        now = self.clock.now()
        async with self.db.session() as session:
            row = await ArchiveRepo(session).member(guild_id, member_id, now)
            row.left_at, row.updated_at = (now if left else None), now

    async def message_deleted(self, message_id: int) -> bool:
        """A message deleted on Discord leaves the archive with its text."""
        async with self.db.reading() as session:
            if await session.get(ThreadMessage, message_id) is None:
                return False  # not a help-thread message: no write for every deletion anywhere
        async with self.db.session() as session:
            return await ArchiveRepo(session).message_deleted(message_id) is not None

    async def message_edited(self, message_id: int, content: str) -> bool:
        """An edited message is published as it reads now, never as it read before."""
        async with self.db.reading() as session:
            row = await session.get(ThreadMessage, message_id)
            if row is None or row.content is None or row.content == content:
                return False  # not a kept message, or nothing new: no write for every edit anywhere
        async with self.db.session() as session:
            return await ArchiveRepo(session).message_edited(message_id, content)

    # ---- the site builder's view ----------------------------------------------------------------

    async def published_threads(self, guild_id: int) -> list[PublishedThread]:
        """Every thread of the server the archive may publish now, oldest first."""
        async with self.db.reading() as session:
            channels = await ArchiveRepo(session).channels(guild_id)
        pages = await self._published(guild_id, channels)
        return [page for page in pages.values() if page is not None]

    async def _published(self, guild_id: int, channels: set[int]) -> dict[int, PublishedThread | None]:
        consent = await self.consent(guild_id)
        help_settings = (await self.configs.get(guild_id)).settings.help
        own_tags = (help_settings.solved_tag, help_settings.unanswered_tag)
        async with self.db.reading() as session:
            repo = ArchiveRepo(session)
            solved = await repo.solved_threads(guild_id, channels)
            ids = [thread.id for thread, _ in solved]
            messages = await repo.messages(ids)
            helped = await repo.helped(ids)
            members = {row.member_id: member_facts(row) for row in await repo.members(guild_id)}
        return {
            thread.id: publish(
                thread_facts(thread, solution, helped.get(thread.id, 0), own_tags),
                [message_facts(m) for m in messages.get(thread.id, [])],
                members,
                consent,
                channels,
            )
            for thread, solution in solved
        }

    async def channel_names(self, guild_id: int) -> dict[int, str]:
        """The names of the channels a server publishes, as they were when enabled."""
        async with self.db.reading() as session:
            return await ArchiveRepo(session).channel_names(guild_id)

    async def guilds(self) -> list[int]:
        """Servers that publish at least one channel."""
        async with self.db.reading() as session:
            return sorted(await ArchiveRepo(session).all_channels())


def _require_configure(actor: Actor) -> None:
    if not can_configure(actor):
        raise NotAllowed("Sorry, only members with the **Manage Server** permission can change the archive.")
