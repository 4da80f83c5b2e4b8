"""The help-thread lifecycle (GUIDE §2), as pure functions over a thread's state.

States: ``open`` (no human but the asker replied), ``answered`` (someone else replied),
``solved``, ``closed`` (with a reason) and ``dormant`` (idle, archived by the bot).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


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


def check_close(state: ThreadState) -> None:
    """Raise unless a thread in ``state`` can be closed."""
    if state is ThreadState.CLOSED:
        raise TransitionError("This thread is already closed.")


def check_reopen(state: ThreadState) -> None:
    """Raise unless a thread in ``state`` can be reopened."""
    if state not in REOPENABLE_STATES:
        raise TransitionError(f"This thread is {state.value}, so there is nothing to reopen.")
