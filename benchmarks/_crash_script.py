"""The crash benchmark's deterministic community: a seeded script of what people do.

Everything is named logically (``q3`` is the fourth question, ``m17`` the eighteenth reply,
``helper1`` a member) so that a run with kills and a run without can be compared even though
Discord ids differ between them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

ASKERS = [f"asker{i}" for i in range(8)]
HELPERS = [f"helper{i}" for i in range(4)]  # hold the helper role
STAFF = ["staff0", "staff1"]  # hold the staff role
MEMBERS = [f"member{i}" for i in range(4)]  # no role at all
PEOPLE = ASKERS + HELPERS + STAFF + MEMBERS
CLOSE_REASONS = ["solved", "duplicate", "stale", "off-topic"]

#: Events the gateway delivers (and drops while the bot is down); the rest need the bot up.
GATEWAY_KINDS = frozenset({"ask_forum", "ask_text", "reply", "react", "unreact"})
REACTION_KINDS = frozenset({"react", "unreact"})


@dataclass(frozen=True)
class Event:
    kind: str
    user: str = ""
    question: int = -1
    message: int = -1  # a reply's index; -1 for none
    text: str = ""
    amount: int = 0
    minutes: int = 0

    @property
    def needs_bot(self) -> bool:
        return self.kind not in GATEWAY_KINDS


@dataclass
class Question:
    asker: str
    replies: list[int] = field(default_factory=list)


@dataclass
class Plan:
    """What has happened so far in the script, so that later events pick real targets."""

    questions: list[Question] = field(default_factory=list)
    reply_authors: list[str] = field(default_factory=list)
    reactions: set[tuple[int, str]] = field(default_factory=set)  # (reply, user) holding a ✅


WEIGHTS = {
    "ask_forum": 9,
    "ask_text": 6,
    "reply": 34,
    "react": 9,
    "unreact": 3,
    "menu_mark": 4,
    "solved": 3,
    "unsolve": 2,
    "close": 2,
    "reopen": 2,
    "grant": 1,
    "leaderboard": 1,
    "clock_small": 8,
    "clock_big": 2,
}


def make_script(count: int, seed: int) -> list[Event]:
    """``count`` events drawn with ``seed``; the same arguments always give the same script."""
    rng = random.Random(seed)
    plan = Plan()
    events: list[Event] = []
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    while len(events) < count:
        kind = rng.choices(kinds, weights)[0]
        event = _draw(kind, rng, plan, len(events))
        if event is not None:
            events.append(event)
    return events


def _draw(kind: str, rng: random.Random, plan: Plan, n: int) -> Event | None:
    if kind in ("ask_forum", "ask_text"):
        asker = rng.choice(ASKERS)
        plan.questions.append(Question(asker))
        return Event(
            kind, user=asker, question=len(plan.questions) - 1, text=f"Question {n}: how do I fix error {n}?"
        )
    if not plan.questions:
        return None
    q = rng.randrange(len(plan.questions))
    question = plan.questions[q]
    if kind == "reply":
        author = rng.choice([question.asker, *HELPERS, *STAFF, *MEMBERS])
        plan.reply_authors.append(author)
        question.replies.append(len(plan.reply_authors) - 1)
        return Event(kind, user=author, question=q, message=len(plan.reply_authors) - 1, text=f"reply {n}")
    if kind == "clock_small":
        return Event(kind, minutes=rng.randint(5, 90))
    if kind == "clock_big":
        return Event(kind, minutes=rng.randint(6 * 60, 80 * 60))
    if kind == "grant":
        return Event(
            kind,
            user=rng.choice(STAFF),
            text=f"grant-{n}",
            amount=rng.randint(1, 20),
            message=-1,
            question=PEOPLE.index(rng.choice(HELPERS + MEMBERS)),
        )
    if kind == "leaderboard":
        return Event(kind, user=rng.choice(PEOPLE), text=rng.choice(["week", "month", "all"]))
    marker = rng.choice([question.asker, question.asker, *HELPERS, *STAFF, *MEMBERS])
    if kind in ("unsolve", "close", "reopen"):
        return Event(kind, user=marker, question=q, text=rng.choice(CLOSE_REASONS))
    if kind == "solved" and (not question.replies or rng.random() < 0.3):
        return Event(kind, user=marker, question=q)
    if not question.replies:
        return None
    reply = rng.choice(question.replies)
    if kind == "unreact":
        held = sorted(r for r in plan.reactions if r[0] in question.replies)
        if not held:
            return None
        reply, marker = rng.choice(held)
        plan.reactions.discard((reply, marker))
        return Event(kind, user=marker, question=q, message=reply)
    if kind == "react":
        plan.reactions.add((reply, marker))
    return Event(kind, user=marker, question=q, message=reply)


def kill_points(count: int, kills: int, seed: int) -> dict[int, float]:
    """Event index -> seconds after the event starts when the bot gets SIGKILL (mid-work often)."""
    rng = random.Random(seed * 7919 + 1)
    chosen = rng.sample(range(5, max(6, count)), min(kills, max(0, count - 5)))
    return {index: rng.choice([0.0, rng.uniform(0.0, 0.004), rng.uniform(0.0, 0.02)]) for index in chosen}
