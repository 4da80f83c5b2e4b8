"""Escalation rules (GUIDE §2): who is brought which unanswered question when, and how it is batched.

A server lists tiers (wait, role, channel). Every tier of a thread falls due once, at the moment
the question was asked plus the tier's wait; quiet hours hold deliveries back until they end. The
functions here decide, the services store and deliver, the cogs render.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from bot.domain.formatting import humanize_duration
from bot.domain.lifecycle import ThreadState
from bot.domain.permissions import Actor, ServerRoles, is_helper

#: Threads listed per digest message: 10 fields stay far below Discord's 6,000-character embed
#: budget (titles are up to 100 characters, plus link, channel and tags), and 10 Claim buttons
#: fit in two of the five component rows.
THREADS_PER_MESSAGE = 10
#: Threads one digest lists at most (ten messages); the rest wait for the next sweep, so a backlog
#: after long downtime cannot flood a channel.
MAX_THREADS_PER_DIGEST = 100
#: Discord's limit for a message nonce.
NONCE_LIMIT = 25

T = TypeVar("T")


@dataclass(frozen=True)
class TierRule:
    """One tier as a server configured it: after ``after`` without an answer, ping ``role`` in ``channel``.

    ``role`` is ``"helper"``, ``"staff"`` or a role id; ``channel`` is ``"escalation"`` or a channel id.
    """

    after: dt.timedelta
    role: str | int
    channel: str | int = "escalation"


@dataclass(frozen=True)
class QuietWindow:
    """A daily window (server time) in which escalations wait instead of pinging people.

    ``start`` is inclusive and ``end`` exclusive; ``start`` later than ``end`` means the window
    wraps past midnight (``22:00`` to ``07:00``).
    """

    start: dt.time
    end: dt.time

    def contains(self, moment: dt.time) -> bool:
        """Whether a local time of day falls inside the quiet window."""
        moment = moment.replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class TierTarget:
    """A tier made concrete for one server: the roles to ping and the channel to post in."""

    role_ids: tuple[int, ...]
    channel_id: int


@dataclass(frozen=True)
class TierProblem:
    """Why a tier cannot be delivered as configured; ``text`` is written for the server's admins."""

    text: str


def tier_label(index: int) -> str:
    """People count tiers from 1; storage counts from 0."""
    return f"tier {index + 1}"


def resolve_tier(
    index: int, tier: TierRule, roles: ServerRoles, escalation_channel_id: int | None
) -> TierTarget | TierProblem:
    """Turn ``"helper"``/``"staff"``/``"escalation"`` into the server's configured role and channel ids.

    A server with several helper (or staff) roles pings them all.
    """
    label = tier_label(index)
    if tier.role == "helper":
        role_ids = tuple(sorted(roles.helper_roles))
    elif tier.role == "staff":
        role_ids = tuple(sorted(roles.staff_roles))
    else:
        role_ids = (tier.role,)
    if not role_ids:
        return TierProblem(
            f"{label.capitalize()} pings the {tier.role} role, but no {tier.role} role is set: "
            f"add one with `/unstuck config add-role`."
        )
    channel_id = escalation_channel_id if tier.channel == "escalation" else tier.channel
    if channel_id is None:
        return TierProblem(
            f"{label.capitalize()} posts in the escalation channel, which is not set: "
            "choose one with `/unstuck config channel escalation`."
        )
    return TierTarget(role_ids=role_ids, channel_id=channel_id)


def tier_order_problems(tiers: Sequence[TierRule]) -> list[str]:
    """Each tier must wait longer than the one before it; one plain sentence per violation."""
    return [
        f"Tier {i + 1} waits {humanize_duration(tiers[i].after)}, but it must wait longer than "
        f"tier {i} ({humanize_duration(tiers[i - 1].after)})."
        for i in range(1, len(tiers))
        if tiers[i].after <= tiers[i - 1].after
    ]


def due_times(asked_at: dt.datetime, tiers: Sequence[TierRule]) -> list[dt.datetime]:
    """When each tier falls due for a question asked at ``asked_at``."""
    return [asked_at + tier.after for tier in tiers]


class DueFacts(Protocol):
    """What the stale check reads from a delivery that fell due (the stored due row has these)."""

    @property
    def state(self) -> ThreadState: ...  # the thread's

    @property
    def deleted(self) -> bool: ...  # the thread is gone from Discord

    @property
    def claimed(self) -> bool: ...  # someone claimed the thread from a digest

    @property
    def tier(self) -> int: ...


def is_stale(due: DueFacts, *, enabled: bool, tiers: int) -> bool:
    """Whether a due delivery should leave the queue instead of going out.

    Only ``open`` threads escalate: one that was answered, solved, closed, deleted or claimed from
    a digest leaves the queue, and so does every delivery of a server that switched escalation off
    (``enabled``) or of a tier it removed (``tiers`` is how many the server has now).
    """
    return not enabled or due.state is not ThreadState.OPEN or due.deleted or due.claimed or due.tier >= tiers


# --------------------------------------------------------------------------- quiet hours


def is_quiet(moment: dt.datetime, quiet: QuietWindow | None, zone: ZoneInfo) -> bool:
    """Whether ``moment`` falls inside the server's quiet hours (in its own time zone)."""
    return quiet is not None and quiet.contains(moment.astimezone(zone).time())


def quiet_ends(moment: dt.datetime, quiet: QuietWindow, zone: ZoneInfo) -> dt.datetime:
    """The end of the quiet window that contains ``moment`` (an aware UTC datetime).

    Only meaningful when ``is_quiet(moment, ...)``; a window that wraps past midnight ends the next
    day when ``moment`` is before midnight.
    """
    local = moment.astimezone(zone)
    end_day = local.date()
    if quiet.start > quiet.end and local.time().replace(tzinfo=None) >= quiet.start:
        end_day += dt.timedelta(days=1)
    end = dt.datetime.combine(end_day, quiet.end, tzinfo=zone)
    return end.astimezone(dt.UTC)


def release_time(
    due_at: dt.datetime, now: dt.datetime, quiet: QuietWindow | None, zone: ZoneInfo
) -> dt.datetime:
    """When a delivery due at ``due_at`` will actually go out: not before now, never in quiet hours."""
    moment = max(due_at, now)
    if quiet is not None and is_quiet(moment, quiet, zone):
        return quiet_ends(moment, quiet, zone)
    return moment


# --------------------------------------------------------------------------- /escalate


class Refusal(StrEnum):
    """Why an asker's `/escalate` is refused."""

    NOT_ASKER = "not_asker"
    NOT_OPEN = "not_open"
    ALREADY_USED = "already_used"
    ALREADY_ESCALATED = "already_escalated"
    TOO_EARLY = "too_early"
    DISABLED = "disabled"
    COOLDOWN = "cooldown"


@dataclass(frozen=True)
class EscalateCheck:
    """The verdict on `/escalate`: ``refusal`` is ``None`` when it may go ahead."""

    refusal: Refusal | None
    allowed_at: dt.datetime | None = None  # for TOO_EARLY and COOLDOWN: when it will be allowed


def check_escalate(
    *,
    now: dt.datetime,
    asked_at: dt.datetime,
    escalate_after: dt.timedelta,
    is_asker: bool,
    is_open: bool,
    already_used: bool,
    first_tier_sent: bool,
    enabled: bool = True,
    last_escalated_at: dt.datetime | None = None,
    cooldown: dt.timedelta = dt.timedelta(0),
) -> EscalateCheck:
    """The asker may send their unanswered question to tier 1 early, once, after waiting a while.

    ``last_escalated_at`` is the asker's latest `/escalate` in any thread of the server: one member
    with several questions may escalate one of them per ``cooldown``, so that helpers are not
    called again and again by the same person. It is checked last, so that a question that may
    never be escalated says why rather than "wait".
    """
    if not enabled:
        return EscalateCheck(Refusal.DISABLED)
    if not is_asker:
        return EscalateCheck(Refusal.NOT_ASKER)
    if already_used:
        return EscalateCheck(Refusal.ALREADY_USED)
    if not is_open:
        return EscalateCheck(Refusal.NOT_OPEN)
    if first_tier_sent:
        return EscalateCheck(Refusal.ALREADY_ESCALATED)
    allowed_at = asked_at + escalate_after
    if now < allowed_at:
        return EscalateCheck(Refusal.TOO_EARLY, allowed_at)
    if last_escalated_at is not None and now < last_escalated_at + cooldown:
        return EscalateCheck(Refusal.COOLDOWN, last_escalated_at + cooldown)
    return EscalateCheck(None)


# --------------------------------------------------------------------------- digests and claims


def can_claim(actor: Actor, roles: ServerRoles) -> bool:
    """Claiming a question from a digest: helpers, staff, or anyone with Manage Threads."""
    return not actor.is_bot and (actor.manage_threads or is_helper(actor, roles))


def split_messages(items: Sequence[T], per_message: int = THREADS_PER_MESSAGE) -> list[list[T]]:
    """Cut a digest's threads into message-sized parts, keeping their order."""
    if per_message < 1:
        raise ValueError("per_message must be positive")
    return [list(items[i : i + per_message]) for i in range(0, len(items), per_message)]


def digest_nonce(digest_id: int, part: int) -> str:
    """The nonce of one digest message: the same on every retry, so Discord never shows it twice."""
    nonce = f"esc{digest_id}p{part}"
    if len(nonce) > NONCE_LIMIT:
        raise ValueError("digest id too large for a nonce")
    return nonce


def waiting_roles(role_ids: Collection[int]) -> str:
    """The mention text that pings a tier's roles (the message passes the same ids as allowed)."""
    return " ".join(f"<@&{role_id}>" for role_id in sorted(role_ids))
