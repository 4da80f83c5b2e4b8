"""Escalation rules: tier targets, tier order, quiet hours, `/escalate`, claims and digest splitting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from bot.config import parse_duration
from bot.domain.escalation import (
    NONCE_LIMIT,
    QuietWindow,
    Refusal,
    TierProblem,
    TierRule,
    TierTarget,
    can_claim,
    check_escalate,
    digest_nonce,
    due_times,
    is_quiet,
    is_stale,
    release_time,
    resolve_tier,
    split_messages,
    tier_order_problems,
)
from bot.domain.lifecycle import ThreadState
from bot.domain.permissions import Actor, ServerRoles

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
ROLES = ServerRoles(helper_roles=frozenset({11, 12}), staff_roles=frozenset({21}))
ASKED = dt.datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def tier(after: str, role: str | int = "helper", channel: str | int = "escalation") -> TierRule:
    return TierRule(after=parse_duration(after), role=role, channel=channel)


def test_helper_and_staff_tiers_ping_every_configured_role_in_the_escalation_channel() -> None:
    assert resolve_tier(0, tier("4h"), ROLES, 99) == TierTarget(role_ids=(11, 12), channel_id=99)
    assert resolve_tier(1, tier("1d", "staff"), ROLES, 99) == TierTarget(role_ids=(21,), channel_id=99)
    assert resolve_tier(0, tier("1h", 555, 777), ROLES, None) == TierTarget(role_ids=(555,), channel_id=777)


def test_a_tier_without_its_role_or_channel_says_what_to_set() -> None:
    no_roles = resolve_tier(0, tier("4h"), ServerRoles(), 99)
    assert isinstance(no_roles, TierProblem) and "no helper role is set" in no_roles.text
    no_channel = resolve_tier(1, tier("1d", "staff"), ROLES, None)
    assert isinstance(no_channel, TierProblem)
    assert no_channel.text.startswith("Tier 2") and "/unstuck config channel escalation" in no_channel.text


def test_tiers_must_wait_longer_each_time() -> None:
    assert tier_order_problems([tier("4h"), tier("1d", "staff")]) == []
    [problem] = tier_order_problems([tier("4h"), tier("3h", "staff")])
    assert problem == "Tier 2 waits 3 h, but it must wait longer than tier 1 (4 h)."


def test_due_times_count_from_the_question() -> None:
    assert due_times(ASKED, [tier("4h"), tier("1d", "staff")]) == [
        ASKED + dt.timedelta(hours=4),
        ASKED + dt.timedelta(days=1),
    ]


@dataclass(frozen=True)
class Due:
    state: ThreadState = ThreadState.OPEN
    deleted: bool = False
    claimed: bool = False
    tier: int = 1


def test_due_deliveries_leave_the_queue_unless_the_thread_still_waits_for_a_tier_that_exists() -> None:
    assert not is_stale(Due(), enabled=True, tiers=2)
    assert is_stale(Due(), enabled=False, tiers=2)
    assert is_stale(Due(tier=2), enabled=True, tiers=2)  # the server has only two tiers now
    for gone in [Due(deleted=True), Due(claimed=True)]:
        assert is_stale(gone, enabled=True, tiers=2), gone
    for state in ThreadState:
        assert is_stale(Due(state), enabled=True, tiers=2) is (state is not ThreadState.OPEN)


def test_quiet_hours_may_wrap_midnight() -> None:
    overnight = QuietWindow(start=dt.time(22), end=dt.time(7))
    assert overnight.contains(dt.time(23, 0)) and overnight.contains(dt.time(6, 59))
    assert not overnight.contains(dt.time(7, 0)) and not overnight.contains(dt.time(12, 0))
    daytime = QuietWindow(start=dt.time(9), end=dt.time(17))
    assert daytime.contains(dt.time(9, 0)) and not daytime.contains(dt.time(17, 0))


@pytest.mark.parametrize(
    ("local", "quiet"),
    [("21:59", False), ("22:00", True), ("23:30", True), ("03:00", True), ("06:59", True), ("07:00", False)],
)
def test_quiet_hours_wrap_past_midnight_in_the_servers_zone(local: str, quiet: bool) -> None:
    window = QuietWindow(start=dt.time(22), end=dt.time(7))
    hour, minute = map(int, local.split(":"))
    moment = dt.datetime(2026, 1, 5, hour, minute, tzinfo=BERLIN)
    assert is_quiet(moment.astimezone(UTC), window, BERLIN) is quiet


def test_a_delivery_due_in_quiet_hours_waits_until_they_end() -> None:
    window = QuietWindow(start=dt.time(22), end=dt.time(7))
    due = dt.datetime(2026, 1, 5, 23, 0, tzinfo=BERLIN).astimezone(UTC)
    end = dt.datetime(2026, 1, 6, 7, 0, tzinfo=BERLIN).astimezone(UTC)
    assert release_time(due, due, window, BERLIN) == end
    early_morning = dt.datetime(2026, 1, 6, 3, 0, tzinfo=BERLIN).astimezone(UTC)
    assert release_time(early_morning, early_morning, window, BERLIN) == end
    daytime = dt.datetime(2026, 1, 6, 12, 0, tzinfo=BERLIN).astimezone(UTC)
    assert release_time(daytime, due, window, BERLIN) == daytime
    assert release_time(due, due, None, BERLIN) == due


def test_a_daytime_quiet_window_ends_the_same_day() -> None:
    window = QuietWindow(start=dt.time(12), end=dt.time(14))
    due = dt.datetime(2026, 1, 5, 13, 0, tzinfo=UTC)
    assert release_time(due, due, window, ZoneInfo("UTC")) == dt.datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


def escalate(**changes: object) -> Refusal | None:
    facts: dict[str, object] = {
        "now": ASKED + dt.timedelta(minutes=45),
        "asked_at": ASKED,
        "escalate_after": dt.timedelta(minutes=30),
        "is_asker": True,
        "is_open": True,
        "already_used": False,
        "first_tier_sent": False,
    }
    facts.update(changes)
    return check_escalate(**facts).refusal  # type: ignore[arg-type]


def test_escalate_is_allowed_once_to_the_asker_of_an_unanswered_question_after_waiting() -> None:
    assert escalate() is None
    assert escalate(is_asker=False) is Refusal.NOT_ASKER
    assert escalate(already_used=True) is Refusal.ALREADY_USED
    assert escalate(is_open=False) is Refusal.NOT_OPEN
    assert escalate(first_tier_sent=True) is Refusal.ALREADY_ESCALATED
    assert escalate(enabled=False) is Refusal.DISABLED


def test_escalate_too_early_says_when_it_will_be_allowed() -> None:
    check = check_escalate(
        now=ASKED + dt.timedelta(minutes=10),
        asked_at=ASKED,
        escalate_after=dt.timedelta(minutes=30),
        is_asker=True,
        is_open=True,
        already_used=False,
        first_tier_sent=False,
    )
    assert check.refusal is Refusal.TOO_EARLY and check.allowed_at == ASKED + dt.timedelta(minutes=30)


def test_one_escalate_per_member_per_cooldown_across_threads() -> None:
    now = ASKED + dt.timedelta(minutes=45)
    cooldown = dt.timedelta(minutes=30)
    recent = now - dt.timedelta(minutes=5)
    assert escalate(last_escalated_at=recent, cooldown=cooldown) is Refusal.COOLDOWN
    check = check_escalate(
        now=now,
        asked_at=ASKED,
        escalate_after=dt.timedelta(minutes=30),
        is_asker=True,
        is_open=True,
        already_used=False,
        first_tier_sent=False,
        last_escalated_at=recent,
        cooldown=cooldown,
    )
    assert check.allowed_at == recent + cooldown
    assert escalate(last_escalated_at=now - cooldown, cooldown=cooldown) is None  # exactly over
    assert escalate(last_escalated_at=recent, cooldown=dt.timedelta(0)) is None  # turned off
    assert escalate(last_escalated_at=None, cooldown=cooldown) is None
    # A refusal about this thread itself comes first: waiting would not help.
    assert escalate(last_escalated_at=recent, cooldown=cooldown, is_open=False) is Refusal.NOT_OPEN


def test_helpers_staff_and_thread_moderators_may_claim() -> None:
    assert can_claim(Actor(1, role_ids=frozenset({11})), ROLES)
    assert can_claim(Actor(1, role_ids=frozenset({21})), ROLES)
    assert can_claim(Actor(1, manage_threads=True), ROLES)
    assert not can_claim(Actor(1), ROLES)
    assert not can_claim(Actor(1, role_ids=frozenset({11}), is_bot=True), ROLES)


def test_digests_are_split_into_message_sized_parts_in_order() -> None:
    parts = split_messages(list(range(23)), per_message=10)
    assert [len(p) for p in parts] == [10, 10, 3]
    assert [x for p in parts for x in p] == list(range(23))
    assert split_messages([], per_message=10) == []


def test_digest_nonces_are_stable_and_fit_discords_limit() -> None:
    assert digest_nonce(7, 0) == digest_nonce(7, 0) != digest_nonce(7, 1)
    assert len(digest_nonce(2**62, 4)) <= NONCE_LIMIT
