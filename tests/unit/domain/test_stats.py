"""Health figures: shares, response-time percentiles, dormant-unanswered, top helpers, periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.stats import Period, ThreadFacts, format_share, health, percentile, went_dormant_unanswered

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
HELEN, SAM, BOB = 1, 2, 3


def thread(
    answer_after: timedelta | None = None,
    responder: int | None = None,
    solved: bool = False,
    dormant_after: timedelta | None = None,
) -> ThreadFacts:
    return ThreadFacts(
        asked_at=T0,
        answered_at=T0 + answer_after if answer_after is not None else None,
        first_responder_id=responder,
        solved_at=T0 + timedelta(days=1) if solved else None,
        dormant_at=T0 + dormant_after if dormant_after is not None else None,
    )


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0], 90) == pytest.approx(
        91.0
    )
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_dormant_unanswered_means_nobody_replied_before_it_went_quiet() -> None:
    assert went_dormant_unanswered(thread(dormant_after=timedelta(days=3)))
    assert went_dormant_unanswered(thread(timedelta(days=4), HELEN, dormant_after=timedelta(days=3)))
    assert not went_dormant_unanswered(thread(timedelta(hours=1), HELEN, dormant_after=timedelta(days=3)))
    assert not went_dormant_unanswered(thread())


def test_the_figures_of_a_scripted_history() -> None:
    threads = [
        thread(timedelta(minutes=10), HELEN, solved=True),
        thread(timedelta(minutes=30), HELEN),
        thread(timedelta(hours=2), SAM, solved=True),
        thread(timedelta(hours=5), BOB, dormant_after=timedelta(days=4)),  # answered, then went quiet
        thread(dormant_after=timedelta(days=3)),  # never answered
    ]
    stats = health(threads, escalated={1: 1, 0: 2})
    assert (stats.asked, stats.answered, stats.solved, stats.dormant_unanswered) == (5, 4, 2, 1)
    assert stats.median_first_response == timedelta(minutes=75)  # between 30 min and 2 h
    assert stats.p90_first_response == timedelta(hours=4, minutes=6)  # 2 h + 0.7 * 3 h
    assert stats.escalated == {0: 2, 1: 1}
    assert stats.top_helpers == [(HELEN, 2), (SAM, 1), (BOB, 1)]
    assert format_share(stats.share(stats.answered)) == "80%"


def test_no_questions_give_no_shares() -> None:
    stats = health([])
    assert stats.asked == 0 and stats.share(0) is None and format_share(None) == "–"
    assert stats.median_first_response is None


def test_periods_count_back_from_now() -> None:
    assert Period.WEEK.since(T0) == T0 - timedelta(days=7)
    assert Period.MONTH.since(T0) == T0 - timedelta(days=30)
    assert Period.ALL.since(T0) is None
