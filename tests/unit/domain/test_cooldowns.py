"""Cooldowns of costly commands: a token bucket per member and command, on a moved clock."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.cooldowns import DEFAULT_LIMITS, Bucket, Costly, Limit, is_idle, take, wait_seconds

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
THREE_PER_MINUTE = Limit(uses=3, per=dt.timedelta(minutes=1))


def spend(limit: Limit, times: list[float]) -> list[dt.timedelta | None]:
    """Use the command at each offset (seconds from T0); the retry_after of each use."""
    bucket: Bucket | None = None
    waits = []
    for offset in times:
        verdict = take(bucket, limit, T0 + dt.timedelta(seconds=offset))
        bucket = verdict.bucket
        waits.append(verdict.retry_after)
    return waits


def test_a_burst_up_to_the_limit_passes_then_the_next_use_waits_for_one_token() -> None:
    waits = spend(THREE_PER_MINUTE, [0, 0, 0, 0])
    assert waits[:3] == [None, None, None]
    assert waits[3] == dt.timedelta(seconds=20)  # one token comes back every 20 s


def test_waiting_the_time_given_is_enough_and_a_refusal_spends_nothing() -> None:
    waits = spend(THREE_PER_MINUTE, [0, 0, 0, 5, 10, 20, 20])
    assert waits[3] == dt.timedelta(seconds=15)
    assert waits[4] == dt.timedelta(seconds=10)  # the refusal at 5 s did not cost a token
    assert waits[5] is None  # 20 s: one token back
    assert waits[6] == dt.timedelta(seconds=20)


def test_tokens_refill_up_to_the_burst_and_no_further() -> None:
    waits = spend(THREE_PER_MINUTE, [0, 3600, 3600, 3600, 3600])
    assert waits == [None, None, None, None, dt.timedelta(seconds=20)]


def test_a_clock_going_backwards_refills_nothing() -> None:
    waits = spend(THREE_PER_MINUTE, [60, 60, 60, 0])
    assert waits[3] == dt.timedelta(seconds=20)


def test_a_full_bucket_is_idle_and_can_be_forgotten() -> None:
    verdict = take(None, THREE_PER_MINUTE, T0)
    assert not is_idle(verdict.bucket, THREE_PER_MINUTE, T0 + dt.timedelta(seconds=59))
    assert is_idle(verdict.bucket, THREE_PER_MINUTE, T0 + dt.timedelta(seconds=60))


def test_people_are_told_whole_seconds_rounded_up() -> None:
    assert wait_seconds(dt.timedelta(seconds=14.2)) == 15
    assert wait_seconds(dt.timedelta(seconds=0.01)) == 1
    assert wait_seconds(dt.timedelta(seconds=20)) == 20


def test_every_costly_command_has_a_limit_and_limits_are_sane() -> None:
    assert set(DEFAULT_LIMITS) == set(Costly)
    with pytest.raises(ValueError):
        Limit(uses=0, per=dt.timedelta(seconds=10))
    with pytest.raises(ValueError):
        Limit(uses=1, per=dt.timedelta(0))
