"""Importing a server's solved help threads from its history, so suggestions work from day one.

What counts as solved history (decided here, read from Discord by a :class:`HistoryPort`):

* an archived **forum post** carrying the server's Solved tag (``help.solved_tag``); its answer is
  the latest message marked with the solved emoji by someone who may mark solutions, if any;
* an archived **text-channel thread** with such a marked message (``help.solved_emoji`` from the
  asker, a helper or staff role, or Manage Threads: the same people who may mark a solution live);
  the answer is that message (the latest one, if several were marked).

Imported threads are tracked as ``origin="backfill"``, solved, with a Solution row and no welcome
note; no points are awarded (history is not re-paid). A channel's ``backfill_progress`` row holds
the archive time of the last thread handled, written in the same transaction as its import, so an
interrupted run resumes where it stopped; the thread's primary key makes a second run import
nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain.lifecycle import AskedThread, ThreadState
from bot.domain.permissions import Actor, ServerRoles, can_mark_solution
from bot.services.errors import UserFacingError
from bot.services.server_config import ServerConfig, ServerConfigService
from bot.services.solutions import ANSWER_KEEP
from storage.engine import Database
from storage.points_repo import SolutionRepo
from storage.repositories import GuildRepo, ThreadRepo
from storage.similar_repo import SimilarRepo

log = logging.getLogger(__name__)

BACKFILL_VIA = "backfill"  # ``solutions.via`` of an imported thread
# Resuming lists threads archived strictly before the cursor: step just past it so that threads
# archived at the very same instant as the last one handled are not skipped (a re-check is harmless).
RESUME_OVERLAP = timedelta(milliseconds=1)


@dataclass(frozen=True)
class ThreadStub:
    """An archived thread as the channel's listing shows it."""

    thread_id: int
    archived_at: datetime
    candidate: bool  # worth reading: a forum post with the Solved tag, or any text-channel thread


@dataclass(frozen=True)
class MarkedMessage:
    """A message in a thread carrying the solved emoji, with who reacted with it."""

    message_id: int
    author_id: int
    author_is_bot: bool
    content: str
    created_at: datetime
    reactors: tuple[Actor, ...]


@dataclass(frozen=True)
class HistoricThread(AskedThread):
    """One archived thread, read back from Discord: the question, and what happened in it."""

    last_message_id: int | None
    last_activity_at: datetime
    first_reply: tuple[int, datetime] | None  # (author, time) of the first reply by someone else
    marked: Sequence[MarkedMessage] = field(default_factory=tuple)


@dataclass(frozen=True)
class Answer:
    message: MarkedMessage
    marked_by_id: int


class HistoryPort(Protocol):
    """Reads a help channel's archived threads from Discord."""

    async def archived(self, channel_id: int, kind: str, before: datetime | None) -> list[ThreadStub]:
        """Archived threads of the channel, most recently archived first (before ``before``)."""
        ...

    async def read(self, channel_id: int, kind: str, stub: ThreadStub, emoji: str) -> HistoricThread | None:
        """The thread's question and its messages marked with ``emoji``; ``None`` if it is gone."""
        ...


@dataclass(frozen=True)
class BackfillStatus:
    """Where a run stands: shown as a progress bar (command line) or an edited message (Discord)."""

    done: int  # threads handled in this run
    total: int  # threads this run has to look at
    imported: int  # solved threads imported in this run
    finished: bool = False

    def describe(self, width: int = 20) -> str:
        """A text progress bar, e.g. ``[██████░░░░░░░░░░░░░░] 12/40 threads checked · 3 imported``."""
        filled = width if self.total == 0 else width * self.done // self.total
        bar = "█" * filled + "░" * (width - filled)
        return f"[{bar}] {self.done}/{self.total} threads checked · {self.imported} imported"


ProgressCallback = Callable[[BackfillStatus], Awaitable[None]]


def pick_answer(thread: HistoricThread, roles: ServerRoles) -> Answer | None:
    """The accepted answer of a historic thread: the latest message marked with the solved emoji by
    someone who may mark solutions (the asker, helpers, staff), never a bot's or the question itself."""
    for message in sorted(thread.marked, key=lambda m: m.message_id, reverse=True):
        if message.author_is_bot or message.message_id == thread.thread_id:
            continue
        markers = [a for a in message.reactors if can_mark_solution(a, thread.asker_id, roles)]
        if markers:
            by_asker = any(a.user_id == thread.asker_id for a in markers)
            return Answer(message, thread.asker_id if by_asker else markers[0].user_id)
    return None


class BackfillService:
    def __init__(self, db: Database, clock: Clock, configs: ServerConfigService) -> None:
        self.db = db
        self.clock = clock
        self.configs = configs
        # Told the id of every imported thread (the similar index).
        self.listeners: list[Callable[[int], Awaitable[None]]] = []
        self._running: set[int] = set()  # guilds importing now, in this process

    async def run(
        self, guild_id: int, port: HistoryPort, on_progress: ProgressCallback | None = None
    ) -> BackfillStatus:
        """Import the solved history of every help channel of the server; resumes an interrupted run."""
        if guild_id in self._running:
            raise UserFacingError("A backfill of this server is already running: wait for it to finish.")
        self._running.add(guild_id)
        try:
            return await self._run(guild_id, port, on_progress)
        finally:
            self._running.discard(guild_id)

    async def _run(
        self, guild_id: int, port: HistoryPort, on_progress: ProgressCallback | None
    ) -> BackfillStatus:
        config = await self.configs.get(guild_id)
        if not config.help_channels:
            raise UserFacingError(
                "There are no help channels to import yet: add them with `/unstuck config`."
            )
        plan: list[tuple[int, str, list[ThreadStub]]] = []
        for channel_id, kind in sorted(config.help_channels.items()):
            before = await self._resume_point(guild_id, channel_id)
            plan.append((channel_id, kind, await port.archived(channel_id, kind, before)))
        status = BackfillStatus(0, sum(len(stubs) for _, _, stubs in plan), 0)
        if on_progress:
            await on_progress(status)
        for channel_id, kind, stubs in plan:
            status = await self._channel(config, channel_id, kind, stubs, port, status, on_progress)
            await self._finish(guild_id, channel_id)
        status = BackfillStatus(status.done, status.total, status.imported, finished=True)
        if on_progress:
            await on_progress(status)
        log.info(
            "backfill of guild %s: %d threads checked, %d imported", guild_id, status.done, status.imported
        )
        return status

    async def _channel(
        self,
        config: ServerConfig,
        channel_id: int,
        kind: str,
        stubs: list[ThreadStub],
        port: HistoryPort,
        status: BackfillStatus,
        on_progress: ProgressCallback | None,
    ) -> BackfillStatus:
        async with self.db.reading() as session:
            known = await SimilarRepo(session).tracked_ids(config.guild_id, channel_id)
        emoji = config.settings.help.solved_emoji
        for stub in stubs:
            history = None
            if stub.candidate and stub.thread_id not in known:
                history = await port.read(channel_id, kind, stub, emoji)
            imported = await self._import(config, channel_id, stub, history)
            if imported:
                for listener in self.listeners:
                    await listener(stub.thread_id)
            status = BackfillStatus(status.done + 1, status.total, status.imported + int(imported))
            if on_progress:
                await on_progress(status)
        return status

    async def _resume_point(self, guild_id: int, channel_id: int) -> datetime | None:
        """Where listing starts: after the last thread handled by an unfinished run, else the newest."""
        now = self.clock.now()
        async with self.db.session() as session:
            row = await SimilarRepo(session).start_progress(guild_id, channel_id, now)
            if row.status == "running" and row.cursor:
                return datetime.fromisoformat(row.cursor) + RESUME_OVERLAP
            row.status, row.cursor, row.scanned, row.imported = "running", None, 0, 0
            row.started_at, row.updated_at, row.finished_at = now, now, None
        return None

    async def _import(
        self, config: ServerConfig, channel_id: int, stub: ThreadStub, history: HistoricThread | None
    ) -> bool:
        """Import one thread if it is solved history, and move the cursor past it: one transaction."""
        async with self.db.session() as session:
            imported = False
            if history is not None:
                imported = await self._import_solved(session, config, stub, history)
            row = await SimilarRepo(session).progress(config.guild_id, channel_id)
            assert row is not None
            row.cursor = stub.archived_at.isoformat()
            row.scanned += 1
            row.imported += int(imported)
            row.updated_at = self.clock.now()
        return imported

    async def _import_solved(
        self, session: AsyncSession, config: ServerConfig, stub: ThreadStub, history: HistoricThread
    ) -> bool:
        answer = pick_answer(history, config.roles)
        if answer is None and history.kind == "text":
            return False  # a text-channel thread is solved history only with a marked answer
        solved_at = answer.message.created_at if answer else stub.archived_at
        await GuildRepo(session).ensure(config.guild_id, self.clock.now())
        created = await ThreadRepo(session).insert(
            history,
            state=ThreadState.SOLVED,
            last_activity_at=history.last_activity_at,
            answered_at=history.first_reply[1] if history.first_reply else None,
            first_responder_id=history.first_reply[0] if history.first_reply else None,
            solved_at=solved_at,
            last_seen_message_id=history.last_message_id,
            origin="backfill",
            archived_on_discord=True,  # backfill reads archived threads only
        )
        if not created:
            return False  # tracked meanwhile (a live event, another run): never twice
        await SolutionRepo(session).insert(
            {
                "thread_id": history.thread_id,
                "guild_id": config.guild_id,
                "message_id": answer.message.message_id if answer else None,
                "author_id": answer.message.author_id if answer else None,
                "marked_by_id": answer.marked_by_id if answer else history.asker_id,
                "via": BACKFILL_VIA,
                "emoji": config.settings.help.solved_emoji if answer else None,
                "answer": answer.message.content[:ANSWER_KEEP] if answer else "",
                "source_thread_id": None,
                "marked_at": solved_at,
            }
        )
        return True

    async def _finish(self, guild_id: int, channel_id: int) -> None:
        async with self.db.session() as session:
            row = await SimilarRepo(session).progress(guild_id, channel_id)
            if row is not None:
                row.status, row.finished_at = "done", self.clock.now()
