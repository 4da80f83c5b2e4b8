"""Point rules (bot.domain.points): who earns what for an accepted answer, within the caps."""

from dataclasses import replace

from bot.config import PointsSettings
from bot.domain.points import Award, AwardKind, Refusal, answer_award, assist_awards
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
