"""The tracked thread a use case works on, held for its transaction.

Its own small module so that every thread use case (close, solutions, "This solved it",
`/escalate`) can use it without importing another feature's service.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import NotFound
from storage.models import HelpThread
from storage.repositories import ThreadRepo

#: What a thread command answers outside a thread Unstuck tracks.
NOT_TRACKED = "This works inside a help thread that Unstuck tracks."


async def held_thread(session: AsyncSession, thread_id: int, missing: str) -> HelpThread:
    """A tracked thread, held for this transaction; :class:`NotFound` saying ``missing`` when the
    thread is not tracked or is gone from Discord."""
    thread = await ThreadRepo(session).get(thread_id, lock=True)
    if thread is None or thread.deleted:
        raise NotFound(missing)
    return thread
