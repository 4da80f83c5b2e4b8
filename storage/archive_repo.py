"""Queries of the public archive: consent settings, published channels, members, and forgetting."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ArchiveChannel,
    ArchiveMember,
    ArchiveSettings,
    HelpThread,
    MemberPoints,
    PointEntry,
    Solution,
    ThreadMessage,
    ThreadReuse,
)
from storage.repositories import insert_ignoring_duplicates


class ArchiveRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- the server's consent model and channels -----------------------------------------------

    async def settings(self, guild_id: int) -> ArchiveSettings | None:
        return await self.session.get(ArchiveSettings, guild_id)

    async def save_settings(
        self, guild_id: int, now: datetime, members_default: str | None, hide_leavers: bool | None
    ) -> ArchiveSettings:
        row = await self.session.get(ArchiveSettings, guild_id)
        if row is None:
            row = ArchiveSettings(
                guild_id=guild_id, members_default="public", hide_leavers=True, updated_at=now
            )
            self.session.add(row)
        if members_default is not None:
            row.members_default = members_default
        if hide_leavers is not None:
            row.hide_leavers = hide_leavers
        row.updated_at = now
        await self.session.flush()
        return row

    async def channels(self, guild_id: int) -> set[int]:
        rows = await self.session.scalars(
            select(ArchiveChannel.channel_id).where(ArchiveChannel.guild_id == guild_id)
        )
        return set(rows.all())

    async def channel_names(self, guild_id: int) -> dict[int, str]:
        rows = await self.session.execute(
            select(ArchiveChannel.channel_id, ArchiveChannel.name).where(ArchiveChannel.guild_id == guild_id)
        )
        return dict(rows.tuples().all())

    async def all_channels(self) -> dict[int, set[int]]:
        """Every published channel, by server."""
        result: dict[int, set[int]] = {}
        for guild_id, channel_id in (
            await self.session.execute(select(ArchiveChannel.guild_id, ArchiveChannel.channel_id))
        ).tuples():
            result.setdefault(guild_id, set()).add(channel_id)
        return result

    async def enable(self, guild_id: int, channel_id: int, name: str, by: int, now: datetime) -> bool:
        """Publish a channel; True if it is new (enabling again only keeps its name current)."""
        values = {
            "guild_id": guild_id,
            "channel_id": channel_id,
            "name": name[:100],
            "enabled_by_id": by,
            "enabled_at": now,
        }
        added = await insert_ignoring_duplicates(self.session, ArchiveChannel, values)
        if not added:
            await self.session.execute(
                update(ArchiveChannel).where(ArchiveChannel.channel_id == channel_id).values(name=name[:100])
            )
        return added

    async def disable(self, guild_id: int, channel_id: int) -> bool:
        result = await self.session.execute(
            delete(ArchiveChannel).where(
                ArchiveChannel.guild_id == guild_id, ArchiveChannel.channel_id == channel_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # ---- members ---------------------------------------------------------------------------------

    async def member(self, guild_id: int, member_id: int, now: datetime) -> ArchiveMember:
        """The member's row, created empty (the server's default applies) on first use."""
        values = {"guild_id": guild_id, "member_id": member_id, "updated_at": now}
        await insert_ignoring_duplicates(self.session, ArchiveMember, values)
        row = await self.session.get(ArchiveMember, (guild_id, member_id), populate_existing=True)
        assert row is not None
        return row

    async def members(
        self, guild_id: int, member_ids: Collection[int] | None = None
    ) -> Sequence[ArchiveMember]:
        statement = select(ArchiveMember).where(ArchiveMember.guild_id == guild_id)
        if member_ids is not None:
            statement = statement.where(ArchiveMember.member_id.in_(list(member_ids)))
        return (await self.session.scalars(statement)).all()

    async def refuses(self, guild_id: int, member_id: int) -> bool:
        """Whether the member chose "never" (or was forgotten): their words are not kept at all."""
        row = await self.session.get(ArchiveMember, (guild_id, member_id))
        return row is not None and row.choice == "never"

    async def note_names(self, guild_id: int, names: dict[int, str], now: datetime) -> None:
        """Remember the names the archive shows (not for forgotten members)."""
        for member_id, name in names.items():
            row = await self.member(guild_id, member_id, now)
            if row.forgotten_at is None and row.display_name != name[:100]:
                row.display_name = name[:100]
                row.updated_at = now

    # ---- what the archive reads -------------------------------------------------------------------

    async def solved_threads(
        self, guild_id: int, channel_ids: Collection[int]
    ) -> list[tuple[HelpThread, Solution]]:
        rows = await self.session.execute(
            select(HelpThread, Solution)
            .join(Solution, Solution.thread_id == HelpThread.id)
            .where(HelpThread.guild_id == guild_id, HelpThread.channel_id.in_(list(channel_ids)))
            .order_by(HelpThread.id)
        )
        return [(thread, solution) for thread, solution in rows.tuples()]

    async def messages(self, thread_ids: Collection[int]) -> dict[int, list[ThreadMessage]]:
        result: dict[int, list[ThreadMessage]] = {}
        if not thread_ids:
            return result
        rows = await self.session.scalars(
            select(ThreadMessage)
            .where(ThreadMessage.thread_id.in_(list(thread_ids)))
            .order_by(ThreadMessage.id)
        )
        for row in rows:
            result.setdefault(row.thread_id, []).append(row)
        return result

    async def helped(self, thread_ids: Collection[int]) -> dict[int, int]:
        """How many later questions each thread's answer solved ("This solved it")."""
        if not thread_ids:
            return {}
        rows = await self.session.execute(
            select(ThreadReuse.source_thread_id, func.count())
            .where(ThreadReuse.source_thread_id.in_(list(thread_ids)))
            .group_by(ThreadReuse.source_thread_id)
        )
        return dict(rows.tuples().all())

    async def message_deleted(self, message_id: int) -> int | None:
        """Drop a deleted message's text; its thread id, or ``None`` if it was not a thread message."""
        row = await self.session.get(ThreadMessage, message_id)
        if row is None:
            return None
        row.deleted, row.content = True, None
        return row.thread_id

    async def message_edited(self, message_id: int, content: str) -> bool:
        """Keep a kept message's text current (a member who edits out a secret expects it gone)."""
        result = await self.session.execute(
            update(ThreadMessage)
            .where(ThreadMessage.id == message_id, ThreadMessage.content.is_not(None))
            .values(content=content)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # ---- forgetting -----------------------------------------------------------------------------------

    async def forget(self, guild_id: int, member_id: int, anonymous_id: int, now: datetime) -> set[int]:
        """Remove the member's stored words and name in a server; move their points to ``anonymous_id``.

        Returns the threads whose stored text changed (the similar-thread index refreshes them).
        """
        row = await self.member(guild_id, member_id, now)
        row.choice, row.display_name, row.forgotten_at, row.updated_at = "never", None, now, now
        in_guild = select(HelpThread.id).where(HelpThread.guild_id == guild_id)
        asked = set((await self.session.scalars(in_guild.where(HelpThread.asker_id == member_id))).all())
        answered = set(
            (
                await self.session.scalars(
                    select(Solution.thread_id).where(
                        Solution.guild_id == guild_id, Solution.author_id == member_id
                    )
                )
            ).all()
        )
        await self.session.execute(
            update(HelpThread)
            .where(HelpThread.guild_id == guild_id, HelpThread.asker_id == member_id)
            .values(title="", question="")
        )
        await self.session.execute(
            update(Solution)
            .where(Solution.guild_id == guild_id, Solution.author_id == member_id)
            .values(answer="")
        )
        await self.session.execute(
            update(ThreadMessage)
            .where(ThreadMessage.author_id == member_id, ThreadMessage.thread_id.in_(in_guild))
            .values(content=None)
        )
        for model in (PointEntry, MemberPoints):
            await self.session.execute(
                update(model)
                .where(model.guild_id == guild_id, model.member_id == member_id)
                .values(member_id=anonymous_id)
            )
        return asked | answered
