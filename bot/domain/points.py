"""Who earns points for a solved thread, under the anti-abuse rules (GUIDE §2).

Pure functions over counts the caller read from the ledger: no storage, no Discord.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class AwardKind(StrEnum):
    SOLUTION = "solution"
    ASSIST = "assist"
    REUSE = "reuse"
    GRANT = "grant"
    REVOKE = "revoke"


#: Awards that a thread's asker gives a helper, counted together for the collusion cap.
ASKER_AWARDS = (AwardKind.SOLUTION, AwardKind.ASSIST, AwardKind.REUSE)


@dataclass(frozen=True)
class PointRules:
    """A server's point settings, in the units the rules need (their defaults are the settings')."""

    solution: int
    assist_enabled: bool
    assist: int
    assist_daily_cap: int
    reuse: int
    pair_cap: int
    pair_window: timedelta


@dataclass(frozen=True)
class Award:
    member_id: int
    amount: int
    kind: AwardKind
    rule: str


@dataclass(frozen=True)
class Refusal:
    """Why someone who might have earned points did not; shown to staff, never to the public."""

    member_id: int
    reason: str


def answer_award(
    rules: PointRules,
    *,
    kind: AwardKind,
    asker_id: int,
    author_id: int | None,
    author_is_bot: bool,
    recent_pair_awards: int,
) -> Award | Refusal | None:
    """The award for an accepted (or reused) answer, or why there is none.

    No self-credit and nothing for bots; at most ``pair_cap`` awards from the same asker to the
    same helper within ``pair_window`` (the thread is still solved, only the points are withheld).
    """
    if author_id is None:
        return None
    if author_is_bot:
        return Refusal(author_id, "bots earn no points")
    if author_id == asker_id:
        return Refusal(author_id, "no points for answering your own question")
    if recent_pair_awards >= rules.pair_cap:
        return Refusal(
            author_id, f"already {rules.pair_cap} awards from this asker in {rules.pair_window.days} days"
        )
    amount = rules.solution if kind is AwardKind.SOLUTION else rules.reuse
    rule = "accepted solution" if kind is AwardKind.SOLUTION else "answer reused"
    return Award(author_id, amount, kind, rule) if amount > 0 else None


def assist_awards(
    rules: PointRules,
    *,
    asker_id: int,
    solver_id: int | None,
    repliers: Iterable[int],
    assists_today: Mapping[int, int],
    recent_pair_awards: Mapping[int, int],
) -> list[Award]:
    """Small thanks to the other humans who replied in a solved thread, within the daily cap.

    ``repliers`` are human authors of replies (bots already left out); ``assists_today`` is what
    each already earned in assists today, ``recent_pair_awards`` the collusion-cap counts.
    """
    if not rules.assist_enabled or rules.assist <= 0:
        return []
    awards = []
    for member in sorted(set(repliers) - {asker_id, solver_id}):
        if assists_today.get(member, 0) + rules.assist > rules.assist_daily_cap:
            continue
        if recent_pair_awards.get(member, 0) >= rules.pair_cap:
            continue
        awards.append(Award(member, rules.assist, AwardKind.ASSIST, "assist"))
    return awards
