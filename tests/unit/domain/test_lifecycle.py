"""The help-thread lifecycle (bot.domain.lifecycle): replies, and every state change as the fields it sets."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import lifecycle
from bot.domain.lifecycle import KEEP, ThreadChange, ThreadState, TransitionError, apply_reply, dormancy_due

OPEN, ANSWERED, SOLVED, CLOSED, DORMANT = (
    ThreadState.OPEN,
    ThreadState.ANSWERED,
    ThreadState.SOLVED,
    ThreadState.CLOSED,
    ThreadState.DORMANT,
)


def reply(state: ThreadState, *, answered: bool = False, asker: bool = False, bot: bool = False):
    return apply_reply(state, answered=answered, author_is_asker=asker, author_is_bot=bot)


def test_first_reply_from_someone_else_answers_an_open_thread() -> None:
    outcome = reply(OPEN)
    assert outcome.state is ANSWERED
    assert outcome.first_response


def test_the_asker_talking_to_themselves_keeps_the_thread_open() -> None:
    assert reply(OPEN, asker=True).state is OPEN
    assert not reply(OPEN, asker=True).first_response


def test_bots_change_nothing() -> None:
    outcome = reply(OPEN, bot=True)
    assert outcome.state is OPEN


def test_later_replies_are_not_first_responses() -> None:
    assert not reply(ANSWERED, answered=True).first_response


def test_the_asker_writing_in_a_dormant_thread_reopens_it_to_its_resting_state() -> None:
    assert reply(DORMANT, asker=True).reopened
    assert reply(DORMANT, asker=True).state is OPEN
    assert reply(DORMANT, asker=True, answered=True).state is ANSWERED


def test_someone_else_writing_in_a_dormant_thread_does_not_reopen_it() -> None:
    outcome = reply(DORMANT, answered=True)
    assert outcome.state is DORMANT
    assert not outcome.reopened


def test_a_first_reply_on_a_closed_unanswered_thread_is_recorded_without_reopening() -> None:
    outcome = reply(CLOSED)
    assert outcome.state is CLOSED
    assert outcome.first_response


def test_only_live_threads_have_a_dormancy_time() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    idle = timedelta(hours=72)
    assert dormancy_due(OPEN, start, idle) == start + idle
    assert dormancy_due(ANSWERED, start, idle) == start + idle
    assert dormancy_due(SOLVED, start, idle) is None
    assert dormancy_due(CLOSED, start, idle) is None
    assert dormancy_due(DORMANT, start, idle) is None


NOW = datetime(2026, 1, 1, tzinfo=UTC)
IDLE = timedelta(hours=72)


@dataclass(frozen=True)
class Facts:
    state: ThreadState = OPEN
    answered_at: datetime | None = None
    last_activity_at: datetime = NOW


def reopen(state: ThreadState) -> ThreadChange:
    return lifecycle.reopen(Facts(state), now=NOW, idle=IDLE)


def test_close_and_reopen_guards() -> None:
    lifecycle.close(OPEN, now=NOW, by=1, reason="stale")
    lifecycle.close(SOLVED, now=NOW, by=1, reason="stale")
    with pytest.raises(TransitionError, match="already closed"):
        lifecycle.close(CLOSED, now=NOW, by=1, reason="stale")
    reopen(CLOSED)
    reopen(DORMANT)
    with pytest.raises(TransitionError, match="nothing to reopen"):
        reopen(OPEN)


def test_closing_records_who_why_and_when_and_stops_the_dormancy_clock() -> None:
    change = lifecycle.close(ANSWERED, now=NOW, by=7, reason="x" * 300)
    assert change.fields() == {
        "state": CLOSED,
        "closed_at": NOW,
        "closed_by_id": 7,
        "close_reason": "x" * 200,
        "dormant_due_at": None,
    }


def test_a_reopened_thread_rests_and_its_dormancy_clock_restarts_from_now() -> None:
    earlier = NOW - timedelta(days=5)
    change = lifecycle.reopen(Facts(DORMANT, NOW, earlier), now=NOW, idle=IDLE)
    assert change.state is ANSWERED
    assert (change.closed_at, change.closed_by_id, change.close_reason) == (None, None, None)
    assert change.last_activity_at == NOW
    assert change.dormant_due_at == NOW + IDLE
    later = NOW + timedelta(hours=1)  # activity recorded after the clock's now is kept
    came_back = lifecycle.reopen(Facts(CLOSED, None, later), now=NOW, idle=IDLE)
    assert (came_back.state, came_back.last_activity_at, came_back.dormant_due_at) == (
        OPEN,
        later,
        later + IDLE,
    )


def test_solving_stops_the_dormancy_clock() -> None:
    assert lifecycle.solve(NOW).fields() == {"state": SOLVED, "solved_at": NOW, "dormant_due_at": None}


def test_unsolving_brings_the_thread_back_to_its_resting_state_with_a_fresh_dormancy_clock() -> None:
    change = lifecycle.unsolve(Facts(SOLVED, None, NOW - timedelta(days=9)), now=NOW, idle=IDLE)
    assert change.fields() == {
        "state": OPEN,
        "solved_at": None,
        "last_activity_at": NOW,
        "dormant_due_at": NOW + IDLE,
    }
    assert lifecycle.unsolve(Facts(SOLVED, NOW), now=NOW, idle=IDLE).state is ANSWERED


def test_only_unsolved_open_threads_can_be_closed_as_solved_by_an_earlier_one() -> None:
    assert [s for s in ThreadState if lifecycle.can_reuse(s)] == [OPEN, ANSWERED, DORMANT]
    change = lifecycle.close_as_duplicate(DORMANT, now=NOW, by=3)
    assert change.fields() == {
        "state": CLOSED,
        "solved_at": NOW,
        "closed_at": NOW,
        "closed_by_id": 3,
        "close_reason": "duplicate",
        "dormant_due_at": None,
    }
    for state in (SOLVED, CLOSED):
        with pytest.raises(TransitionError, match=f"already {state.value}"):
            lifecycle.close_as_duplicate(state, now=NOW, by=3)


def test_only_live_threads_go_dormant() -> None:
    assert lifecycle.go_dormant(NOW).fields() == {"state": DORMANT, "dormant_at": NOW, "dormant_due_at": None}
    assert frozenset({OPEN, ANSWERED}) == lifecycle.DORMANCY_FROM


def test_a_deleted_thread_keeps_its_state_and_loses_its_timers() -> None:
    assert lifecycle.deleted().fields() == {
        "deleted": True,
        "dormant_due_at": None,
    }


def test_a_change_sets_only_what_it_names() -> None:
    assert ThreadChange().fields() == {}
    assert ThreadChange(solved_at=None).fields() == {"solved_at": None}
    assert ThreadChange().state is KEEP


@dataclass(frozen=True)
class Thread:
    state: ThreadState = OPEN
    answered_at: datetime | None = None
    last_activity_at: datetime = NOW
    asker_id: int = 1
    last_seen_message_id: int | None = 10


def test_a_first_reply_answers_the_thread_and_moves_its_activity_and_dormancy_clock() -> None:
    later = NOW + timedelta(minutes=5)
    outcome, change = lifecycle.replied(Thread(), lifecycle.Reply(2, 11, later), IDLE)
    assert outcome.first_response
    assert change.fields() == {
        "state": ANSWERED,
        "answered_at": later,
        "first_responder_id": 2,
        "last_seen_message_id": 11,
        "last_activity_at": later,
        "dormant_due_at": later + IDLE,
    }


def test_an_older_reply_read_late_becomes_the_first_response_without_moving_activity_back() -> None:
    thread = Thread(ANSWERED, answered_at=NOW, last_seen_message_id=20)
    earlier = NOW - timedelta(minutes=5)
    _, change = lifecycle.replied(thread, lifecycle.Reply(3, 15, earlier), IDLE)
    assert (change.answered_at, change.first_responder_id) == (earlier, 3)
    assert (change.last_seen_message_id, change.last_activity_at, change.dormant_due_at) == (
        20,
        NOW,
        NOW + IDLE,
    )
    _, by_asker = lifecycle.replied(thread, lifecycle.Reply(1, 16, earlier), IDLE)
    assert by_asker.answered_at is KEEP  # the asker never answers their own question


def test_the_asker_writing_in_a_dormant_thread_brings_it_back() -> None:
    later = NOW + timedelta(days=4)
    thread = Thread(DORMANT, answered_at=NOW)
    outcome, change = lifecycle.replied(thread, lifecycle.Reply(1, 30, later), IDLE)
    assert outcome.reopened
    assert (change.state, change.dormant_due_at) == (ANSWERED, later + IDLE)
    _, closed = lifecycle.replied(Thread(CLOSED), lifecycle.Reply(2, 31, later), IDLE)
    assert (closed.state, closed.dormant_due_at) == (CLOSED, None)
