"""The help-thread lifecycle (GUIDE §2), as pure functions over a thread's state.

States: ``open`` (no human but the asker replied), ``answered`` (someone else replied),
``solved``, ``closed`` (with a reason) and ``dormant`` (idle, archived by the bot).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from typing import Protocol


class ThreadState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    SOLVED = "solved"
    CLOSED = "closed"
    DORMANT = "dormant"


#: States in which a thread is still waiting for help or for its asker.
ACTIVE_STATES = frozenset({ThreadState.OPEN, ThreadState.ANSWERED})
#: States that ``/reopen`` (or the asker writing again) can bring back to life.
REOPENABLE_STATES = frozenset({ThreadState.CLOSED, ThreadState.DORMANT})


@dataclass(frozen=True)
class AskedThread:
    """A help thread as it was asked: where, by whom, what and when.

    What the bot learns about every question it tracks, whether it sees it appear (a new thread)
    or reads it back from the channel's history (an imported one).
    """

    thread_id: int
    guild_id: int
    channel_id: int
    kind: str  # "forum" | "text"
    asker_id: int
    title: str
    question: str
    created_at: datetime


@dataclass(frozen=True)
class ReplyOutcome:
    """What one new message means for its thread."""

    state: ThreadState
    first_response: bool = False  # this message is the first reply by someone other than the asker
    reopened: bool = False  # the asker came back to a dormant thread


def resting_state(answered: bool) -> ThreadState:
    """The state a live thread returns to: ``answered`` once anyone replied, else ``open``."""
    return ThreadState.ANSWERED if answered else ThreadState.OPEN


def apply_reply(
    state: ThreadState, *, answered: bool, author_is_asker: bool, author_is_bot: bool
) -> ReplyOutcome:
    """Apply a new message in the thread to its state.

    Bots never change anything. The first reply from another human marks an ``open`` thread
    ``answered`` (and is recorded even later, e.g. on a closed thread, for the response-time stats).
    The asker writing in a dormant thread reopens it.
    """
    if author_is_bot:
        return ReplyOutcome(state)
    if author_is_asker:
        if state is ThreadState.DORMANT:
            return ReplyOutcome(resting_state(answered), reopened=True)
        return ReplyOutcome(state)
    first = not answered
    if state is ThreadState.OPEN:
        return ReplyOutcome(ThreadState.ANSWERED, first_response=True)
    return ReplyOutcome(state, first_response=first)


def dormancy_due(state: ThreadState, last_activity: datetime, idle: timedelta) -> datetime | None:
    """When a thread goes dormant if nobody writes: ``idle`` after its last activity, while live."""
    return last_activity + idle if state in ACTIVE_STATES else None


class TransitionError(Exception):
    """A lifecycle step that is not allowed from the thread's current state; the message is user-facing."""


# --------------------------------------------------------------------------- changes


class Keep(Enum):
    """The value of a :class:`ThreadChange` field that the change leaves as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP

#: The longest close reason kept (the stored column's size).
CLOSE_REASON_LIMIT = 200
#: The close reason of a thread closed because an earlier thread already solved it.
DUPLICATE_REASON = "duplicate"
#: States in which "This solved it" may close a thread as solved by an earlier one.
REUSABLE_STATES = frozenset({ThreadState.OPEN, ThreadState.ANSWERED, ThreadState.DORMANT})
#: States from which an idle thread goes dormant (only a live thread has a dormancy time).
DORMANCY_FROM = ACTIVE_STATES


@dataclass(frozen=True)
class ThreadChange:
    """What one lifecycle step sets on a thread; a field left at ``KEEP`` is not touched.

    The field names are those of the stored thread, so one repository method applies any change.
    """

    state: ThreadState | Keep = KEEP
    solved_at: datetime | Keep | None = KEEP
    closed_at: datetime | Keep | None = KEEP
    closed_by_id: int | Keep | None = KEEP
    close_reason: str | Keep | None = KEEP
    dormant_at: datetime | Keep | None = KEEP
    dormant_due_at: datetime | Keep | None = KEEP
    last_activity_at: datetime | Keep = KEEP
    deleted: bool | Keep = KEEP
    answered_at: datetime | Keep | None = KEEP
    first_responder_id: int | Keep | None = KEEP
    last_seen_message_id: int | Keep | None = KEEP

    def fields(self) -> dict[str, object]:
        """The fields this change sets, by name, with their new values."""
        return {f.name: value for f in dataclass_fields(self) if (value := getattr(self, f.name)) is not KEEP}


def opened(created_at: datetime, idle: timedelta) -> ThreadChange:
    """A new question: open, active since it was asked, going dormant ``idle`` later if nobody writes."""
    return ThreadChange(
        state=ThreadState.OPEN,
        last_activity_at=created_at,
        dormant_due_at=dormancy_due(ThreadState.OPEN, created_at, idle),
    )


def close(state: ThreadState, *, now: datetime, by: int, reason: str) -> ThreadChange:
    """Close a thread with a reason (by its asker or staff); its timers stop.

    Raises :class:`TransitionError` for a thread that is closed already.
    """
    if state is ThreadState.CLOSED:
        raise TransitionError("This thread is already closed.")
    return ThreadChange(
        state=ThreadState.CLOSED,
        closed_at=now,
        closed_by_id=by,
        close_reason=reason[:CLOSE_REASON_LIMIT],
        dormant_due_at=None,
    )


def can_reuse(state: ThreadState) -> bool:
    """Whether "This solved it" may close a thread in ``state`` (neither solved nor closed yet)."""
    return state in REUSABLE_STATES


def close_as_duplicate(state: ThreadState, *, now: datetime, by: int) -> ThreadChange:
    """Close a thread as solved by an earlier thread's answer ("This solved it"): closed, and solved.

    Raises :class:`TransitionError` for a thread that is solved or closed already.
    """
    if not can_reuse(state):
        raise TransitionError(f"This thread is already {state.value}.")
    return replace(close(state, now=now, by=by, reason=DUPLICATE_REASON), solved_at=now)


def solve(now: datetime) -> ThreadChange:
    """A solution was accepted (from any state): the thread is solved."""
    return ThreadChange(state=ThreadState.SOLVED, solved_at=now, dormant_due_at=None)


class ThreadFacts(Protocol):
    """What the lifecycle rules read from a tracked thread (the stored thread has these attributes)."""

    @property
    def state(self) -> ThreadState: ...

    @property
    def answered_at(self) -> datetime | None: ...

    @property
    def last_activity_at(self) -> datetime: ...


def _live_again(thread: ThreadFacts, now: datetime, idle: timedelta) -> ThreadChange:
    """A thread coming back to life: its resting state, active from now, dormant ``idle`` later."""
    state = resting_state(thread.answered_at is not None)
    active = max(thread.last_activity_at, now)
    return ThreadChange(
        state=state, last_activity_at=active, dormant_due_at=dormancy_due(state, active, idle)
    )


def unsolve(thread: ThreadFacts, *, now: datetime, idle: timedelta) -> ThreadChange:
    """The solution was taken back: the thread is live again and its dormancy clock restarts now."""
    return replace(_live_again(thread, now, idle), solved_at=None)


def reopen(thread: ThreadFacts, *, now: datetime, idle: timedelta) -> ThreadChange:
    """Bring a closed or dormant thread back to life; its dormancy clock restarts now.

    Raises :class:`TransitionError` for a thread that is neither closed nor dormant.
    """
    if thread.state not in REOPENABLE_STATES:
        raise TransitionError(f"This thread is {thread.state.value}, so there is nothing to reopen.")
    return replace(
        _live_again(thread, now, idle),
        closed_at=None,
        closed_by_id=None,
        close_reason=None,
    )


class ReplyFacts(ThreadFacts, Protocol):
    """What recording a reply reads from the thread, besides its state and times."""

    @property
    def asker_id(self) -> int: ...

    @property
    def last_seen_message_id(self) -> int | None: ...


@dataclass(frozen=True)
class Reply:
    """A human message in a help thread (bots never change a thread)."""

    author_id: int
    message_id: int
    at: datetime


def replied(thread: ReplyFacts, reply: Reply, idle: timedelta) -> tuple[ReplyOutcome, ThreadChange]:
    """What a new human message means for its thread (:func:`apply_reply`), and the fields it sets.

    The earliest reply by someone other than the asker is the first response, whatever order the
    messages are processed in (a catch-up after downtime may read an older reply after a newer
    live one). Activity only moves forward, and the dormancy clock follows it.
    """
    answered = thread.answered_at is not None
    by_asker = reply.author_id == thread.asker_id
    outcome = apply_reply(thread.state, answered=answered, author_is_asker=by_asker, author_is_bot=False)
    earlier = not by_asker and thread.answered_at is not None and reply.at < thread.answered_at
    active = max(thread.last_activity_at, reply.at)
    change = ThreadChange(
        state=outcome.state,
        last_seen_message_id=max(thread.last_seen_message_id or 0, reply.message_id),
        last_activity_at=active,
        dormant_due_at=dormancy_due(outcome.state, active, idle),
    )
    if outcome.first_response or earlier:
        change = replace(change, answered_at=reply.at, first_responder_id=reply.author_id)
    return outcome, change


def seen(thread: ReplyFacts, message_id: int) -> ThreadChange:
    """A message that changes nothing else (a bot's): the thread is looked at up to it, so a
    catch-up after a restart knows it has nothing to read there unless a newer message came."""
    return ThreadChange(last_seen_message_id=max(thread.last_seen_message_id or 0, message_id))


def go_dormant(now: datetime) -> ThreadChange:
    """An idle live thread (a state in :data:`DORMANCY_FROM`) goes to rest (its note is owed)."""
    return ThreadChange(state=ThreadState.DORMANT, dormant_at=now, dormant_due_at=None)


def deleted() -> ThreadChange:
    """The thread is gone from Discord: its history stays, every timer on it stops."""
    return ThreadChange(deleted=True, dormant_due_at=None)
