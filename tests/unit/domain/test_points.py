from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import PointsSettings
from bot.domain.points import Award, AwardKind, Refusal, answer_award, assist_awards
from bot.domain.windows import Window, latest_weekly_slot, week_key, week_span, window_span
from bot.services.points import point_rules

RULES = point_rules(PointsSettings())  # the defaults
ASKER, HELPER, OTHER, THIRD = 1, 2, 3, 4


def award(**kwargs: object) -> Award | Refusal | None:
    base = {"kind": AwardKind.SOLUTION, "asker_id": ASKER, "author_id": HELPER, "author_is_bot": False}
    return answer_award(RULES, **{**base, "recent_pair_awards": 0, **kwargs})  # type: ignore[arg-type]


def test_an_accepted_answer_earns_its_author_ten_points() -> None:
    assert award() == Award(HELPER, 10, AwardKind.SOLUTION, "accepted solution")
    assert award(kind=AwardKind.REUSE) == Award(HELPER, 5, AwardKind.REUSE, "answer reused")


def test_no_self_credit_no_bots_no_author() -> None:
    assert isinstance(award(author_id=ASKER), Refusal)
    assert isinstance(award(author_is_bot=True), Refusal)
    assert award(author_id=None) is None


def test_the_pair_cap_withholds_the_fourth_award_in_a_week() -> None:
    assert isinstance(award(recent_pair_awards=2), Award)
    refusal = award(recent_pair_awards=3)
    assert isinstance(refusal, Refusal) and "3 awards" in refusal.reason


def test_assists_go_to_other_humans_within_the_daily_cap() -> None:
    got = assist_awards(
        RULES,
        asker_id=ASKER,
        solver_id=HELPER,
        repliers=[ASKER, HELPER, OTHER, THIRD],
        assists_today={THIRD: 10},
        recent_pair_awards={},
    )
    assert got == [Award(OTHER, 2, AwardKind.ASSIST, "assist")]
    off = replace(RULES, assist_enabled=False)
    assert (
        assist_awards(off, asker_id=1, solver_id=2, repliers=[3], assists_today={}, recent_pair_awards={})
        == []
    )


def test_weeks_are_iso_weeks_in_the_servers_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    # Sunday 20:00 UTC is already Monday in Tokyo: a new week there, not in UTC.
    moment = datetime(2026, 1, 11, 20, 0, tzinfo=UTC)
    assert window_span(Window.WEEK, moment, tokyo).start == datetime(2026, 1, 11, 15, 0, tzinfo=UTC)
    assert window_span(Window.WEEK, moment, ZoneInfo("UTC")).start == datetime(2026, 1, 5, tzinfo=UTC)
    assert week_key(date(2026, 1, 1)) == "2026-W01"
    assert week_key(date(2027, 1, 1)) == "2026-W53"
    assert week_span(date(2026, 1, 28), ZoneInfo("UTC")).label == "Jan 26–Feb 1"


def test_the_weekly_slot_reports_the_previous_week() -> None:
    utc = ZoneInfo("UTC")
    monday_nine = time(9, 0)
    slot = latest_weekly_slot(datetime(2026, 1, 12, 9, 0, tzinfo=UTC), utc, 0, monday_nine)
    assert slot.due_at == datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
    assert slot.week == "2026-W02"
    before = latest_weekly_slot(datetime(2026, 1, 12, 8, 59, tzinfo=UTC), utc, 0, monday_nine)
    assert before.due_at == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert before.week == "2026-W01"


def test_the_weekly_slot_follows_the_zone_and_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # Monday 30 March 2026 09:00 in Berlin is 07:00 UTC (summer time began on the 29th).
    slot = latest_weekly_slot(datetime(2026, 3, 30, 12, 0, tzinfo=UTC), berlin, 0, time(9, 0))
    assert slot.due_at == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert slot.week == "2026-W13"
    friday = latest_weekly_slot(datetime(2026, 3, 30, 12, 0, tzinfo=UTC), berlin, 4, time(17, 30))
    assert friday.due_at == datetime(2026, 3, 27, 16, 30, tzinfo=UTC)
    assert friday.due_at + timedelta(days=3) > friday.due_at


def test_tied_members_share_a_rank_across_pages() -> None:
    from bot.services.points import competition_ranks

    assert competition_ranks([(1, 30), (2, 20), (3, 20), (4, 10)], 1, 0) == [
        (1, 1, 30),
        (2, 2, 20),
        (2, 3, 20),
        (4, 4, 10),
    ]
    assert competition_ranks([(5, 20), (6, 5)], 9, 10) == [(9, 5, 20), (12, 6, 5)]
