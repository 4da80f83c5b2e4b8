from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.lifecycle import (
    ThreadState,
    TransitionError,
    apply_reply,
    check_close,
    check_reopen,
    dormancy_due,
)

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


def test_close_and_reopen_guards() -> None:
    check_close(OPEN)
    check_close(SOLVED)
    with pytest.raises(TransitionError, match="already closed"):
        check_close(CLOSED)
    check_reopen(CLOSED)
    check_reopen(DORMANT)
    with pytest.raises(TransitionError, match="nothing to reopen"):
        check_reopen(OPEN)
