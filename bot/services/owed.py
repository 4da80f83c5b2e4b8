"""Owing Discord something: the one way a change asks for a Discord action that must happen.

A service writes the action with :class:`OwedActions` in the same transaction as the change that
owes it, so the two exist together or not at all, even across a crash. The delivery worker
(:mod:`bot.services.delivery`) is woken when that transaction commits and delivers it while the bot
runs, retrying with backoff until Discord accepts it or refuses it for good.

Three kinds of action:

- ``send``: a message, rendered when owed (:class:`OwedMessage`). Its key is unique per reason to
  post and is the Discord nonce, so a resend shortly after an unknown outcome returns the first one.
- ``appearance``: a thread's look (tags or ✅ name, "Solved" note, archived) brought in line with the
  database. One row per thread, owed again on each change: the worker reads what to show from the
  database when it delivers, so five quick changes cost one edit.
- ``edit``: a message the bot posted before brought in line with the database (an escalation
  digest after a claim). One row per message, owed again on each change; the editor registered
  for its ``what`` (:attr:`bot.services.delivery.DeliveryWorker.editors`) renders it from the
  database when it delivers, so when two changes race the last one is what Discord shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from storage.escalation_repo import EscalationRepo
from storage.owed_repo import OwedRepo

SEND, APPEARANCE, EDIT = "send", "appearance", "edit"
APPEARANCE_PREFIX = "a"  # + thread id: the key of a thread's appearance
EDIT_PREFIX = "e"  # + message id: the key of an owed edit of that message
DIGEST_EDIT = "digest"  # what an owed edit of a digest message is (its editor is the escalation cog's)
_WAKE_HOOKED = "unstuck.owed.wake"


@dataclass(frozen=True)
class NoteLink:
    """A link button under an owed message."""

    label: str
    url: str
    emoji: str = ""


@dataclass(frozen=True)
class NoteButton:
    """A persistent button under an owed message (its custom id names what a click does)."""

    custom_id: str
    label: str
    emoji: str = ""
    style: str = "success"
    row: int | None = None


@dataclass(frozen=True)
class OwedMessage:
    """A message owed to a channel. ``key`` is unique per reason to post (it is also the nonce).

    ``embeds`` are Discord's JSON shapes, so the message is stored exactly as it will be sent.
    Link rows keep the order given; ``row`` places a link or button on a row of its own.
    """

    key: str
    channel_id: int
    content: str = ""
    embeds: tuple[dict[str, Any], ...] = ()
    links: tuple[NoteLink, ...] = ()
    buttons: tuple[NoteButton, ...] = ()
    link_rows: tuple[int | None, ...] = field(default=())

    def payload(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "embeds": list(self.embeds),
            "links": [
                asdict(link) | {"row": row} for link, row in zip(self.links, self._rows(), strict=True)
            ],
            "buttons": [asdict(button) for button in self.buttons],
        }

    def _rows(self) -> tuple[int | None, ...]:
        return self.link_rows or (None,) * len(self.links)


def message_from_payload(key: str, channel_id: int, payload: dict[str, Any]) -> OwedMessage:
    """The owed message a stored payload describes (what the delivery port posts)."""
    links = payload.get("links") or []
    return OwedMessage(
        key=key,
        channel_id=channel_id,
        content=payload.get("content") or "",
        embeds=tuple(payload.get("embeds") or ()),
        links=tuple(NoteLink(link["label"], link["url"], link.get("emoji", "")) for link in links),
        buttons=tuple(NoteButton(**button) for button in payload.get("buttons") or ()),
        link_rows=tuple(link.get("row") for link in links),
    )


class OwedActions:
    """Where services write what they owe Discord (the delivery worker listens for commits)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        # Called after a transaction that owed something committed (the worker's wake-up).
        self.committed: list[Callable[[], None]] = []

    async def message(
        self,
        session: AsyncSession,
        guild_id: int,
        message: OwedMessage,
        *,
        maybe_sent_since: datetime | None = None,
    ) -> None:
        """Owe ``message`` as part of the caller's transaction (the same key twice posts once).

        ``maybe_sent_since``: an older version of the bot may have posted it since then (a claim it
        made before an upgrade): the worker looks in the channel before it sends.
        """
        now = self.clock.now()
        await OwedRepo(session).add_once(
            message.key,
            guild_id,
            message.channel_id,
            SEND,
            message.payload(),
            now,
            created_at=maybe_sent_since,
        )
        self._wake_on_commit(session)

    async def edit(
        self, session: AsyncSession, guild_id: int, channel_id: int, message_id: int, what: str, **about: int
    ) -> None:
        """Owe an edit of the bot's message ``message_id`` to show what the database says now.

        ``what`` names the editor that renders it when delivered (``"digest"``), ``about`` what it
        needs to find its state (a digest id). Owed again while pending, it is delivered once, with
        the state of its delivery; owed again during a delivery, it is delivered again after.
        """
        fixed = {"what": what, "message_id": message_id, **about}
        await OwedRepo(session).add_desired(
            edit_key(message_id), guild_id, channel_id, EDIT, {}, self.clock.now(), fixed=fixed
        )
        self._wake_on_commit(session)

    async def appearance(
        self,
        session: AsyncSession,
        guild_id: int,
        thread_id: int,
        *,
        note: bool = False,
        unarchive: bool = False,
    ) -> None:
        """Owe a thread's look after a change of its state.

        ``note``: show the solution in the "Solved" note too (a mark or unmark). ``unarchive``: the
        thread came back to life and must be open on Discord, even if Discord archived it.
        """
        flags = {"note": note, "unarchive": unarchive}
        await OwedRepo(session).add_desired(
            appearance_key(thread_id), guild_id, thread_id, APPEARANCE, flags, self.clock.now()
        )
        # A digest that lists the thread shows its Solved / Unanswered tag: it follows the thread
        # too, so what a digest ends up showing does not depend on when its last edit went out.
        for digest_id, channel_id, message_id in await EscalationRepo(session).digest_messages_of(thread_id):
            await self.edit(session, guild_id, channel_id, message_id, DIGEST_EDIT, digest_id=digest_id)
        self._wake_on_commit(session)

    def _wake_on_commit(self, session: AsyncSession) -> None:
        sync_session = session.sync_session
        if sync_session.info.get(_WAKE_HOOKED):
            return
        sync_session.info[_WAKE_HOOKED] = True

        def after_commit(_: object) -> None:
            sync_session.info.pop(_WAKE_HOOKED, None)
            for wake in self.committed:
                wake()

        # A session is one unit of work: after a rollback it is thrown away with its listener
        # (and a spurious wake-up would only look for due work).
        event.listen(sync_session, "after_commit", after_commit, once=True)


def appearance_key(thread_id: int) -> str:
    return f"{APPEARANCE_PREFIX}{thread_id}"


def edit_key(message_id: int) -> str:
    return f"{EDIT_PREFIX}{message_id}"
