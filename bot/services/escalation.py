"""Escalation use cases: tiers scheduled for new questions, `/escalate`, and claims from digests.

The database is the source of truth. Every tier of a thread is a row written when the thread is
opened (in the same transaction), moved when the server edits its tiers, and put back when an
unanswered thread is reopened. Delivering what fell due is :mod:`bot.services.escalation_digests`;
reading the queue for staff is :mod:`bot.services.escalation_queue`; editing the tiers and quiet
hours is the server-config service's.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain.channel_access import Viewer, can_view
from bot.domain.escalation import (
    EscalateCheck,
    Refusal,
    TierProblem,
    TierRule,
    can_claim,
    check_escalate,
    due_times,
    release_time,
)
from bot.domain.formatting import humanize_duration
from bot.domain.lifecycle import ThreadState
from bot.domain.permissions import Actor
from bot.domain.sharding import ShardScope
from bot.services.errors import NotAllowed, NotFound, UserFacingError
from bot.services.escalation_digests import DigestSweep, EscalationPort
from bot.services.escalation_queue import EscalationQueue
from bot.services.help_threads import NewThread
from bot.services.owed import DIGEST_EDIT, OwedActions
from bot.services.server_config import ServerConfig, ServerConfigService
from bot.services.tracked import held_thread
from storage.engine import Database
from storage.escalation_repo import SENDING, SENT, EscalationRepo
from storage.models import EscalationDelivery, HelpThread
from storage.repositories import ThreadRepo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EscalateResult:
    """What `/escalate` did: the question joins the next digest of tier 1.

    ``digest_at`` is when that digest goes out (the regular sweep sends it): ``quiet`` when quiet
    hours hold it back until then, ``None`` when the tier cannot be delivered until staff fix its
    set-up (``problem`` says why).
    """

    channel_id: int | None
    digest_at: datetime | None
    quiet: bool
    problem: str | None


@dataclass(frozen=True)
class ClaimResult:
    thread_id: int
    digest_messages: list[tuple[int, int]]  # (digest id, message id) listing the thread: owed edits


def _refusal_text(
    check: EscalateCheck, last: tuple[int, datetime] | None = None, now: datetime | None = None
) -> str:
    """The polite, private reason `/escalate` was refused (``last``: the member's latest one)."""
    match check.refusal:
        case Refusal.DISABLED:
            return "Escalation is turned off on this server."
        case Refusal.NOT_ASKER:
            return "Only the person who asked this question can escalate it."
        case Refusal.ALREADY_USED:
            return "You already escalated this question; it can be escalated once. Helpers have been told."
        case Refusal.NOT_OPEN:
            return (
                "This question already got a reply (or was solved or closed), so there is nothing to "
                "escalate. If you are still stuck, say so in the thread."
            )
        case Refusal.ALREADY_ESCALATED:
            return "Helpers were already notified about this question. Hang in there!"
        case Refusal.TOO_EARLY:
            assert check.allowed_at is not None
            return (
                "Give people a little time to answer first: you can escalate "
                f"<t:{int(check.allowed_at.timestamp())}:R> if nobody has replied by then."
            )
        case Refusal.COOLDOWN:
            assert check.allowed_at is not None and last is not None and now is not None
            return _cooldown_text(last, check.allowed_at, now)
    return "This question cannot be escalated."


def _cooldown_text(last: tuple[int, datetime], allowed_at: datetime, now: datetime) -> str:
    """ "You escalated <thread> 5 min ago; you can escalate again in 25 min." """
    thread_id, at = last
    ago = humanize_duration(now - at)
    when = "just now" if ago == "just now" else f"{ago} ago"
    # Rounded up to the minute: "in 25 min" must never be too early.
    left = timedelta(minutes=math.ceil((allowed_at - now).total_seconds() / 60))
    return (
        f"You escalated <#{thread_id}> {when}; you can escalate again in {humanize_duration(left)} "
        f"(to keep pings rare, each member can escalate one question per "
        f"{humanize_duration(allowed_at - at)})."
    )


class EscalationService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        configs: ServerConfigService,
        scope: ShardScope,
        owed: OwedActions | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.configs = configs
        # Where a claim owes the edits of the digests that list it (without a delivery worker, as in
        # some tests, they stay owed in the database).
        self.owed = owed or OwedActions(clock)
        self.digests = DigestSweep(db, clock, configs, scope)
        self.queue = EscalationQueue(db, clock, configs, self.digests)
        self._tiers_seen: dict[int, list[TierRule]] = {}
        configs.listeners.append(self.reschedule_guild)

    async def sweep(self, port: EscalationPort, only_guild: int | None = None, force: bool = False) -> int:
        """Deliver what fell due, as digests: the timed job's entry (see :meth:`DigestSweep.sweep`)."""
        return await self.digests.sweep(port, only_guild, force)

    # ---- scheduling -------------------------------------------------------------------------------

    async def schedule_new_thread(self, session: AsyncSession, new: NewThread, config: ServerConfig) -> None:
        """Write the due time of every tier for a question just tracked (same transaction)."""
        await EscalationRepo(session).schedule(
            new.thread_id, new.guild_id, due_times(new.created_at, config.tiers), self.clock.now()
        )

    async def requeue_reopened(self, session: AsyncSession, thread: HelpThread, config: ServerConfig) -> None:
        """An unanswered thread is open again: tiers not yet delivered count from the moment it
        reopened (its last activity; a catch-up after downtime reads that from the message), in
        the same transaction. A tier already sent is not sent twice."""
        due = due_times(thread.last_activity_at, config.tiers)
        await EscalationRepo(session).requeue(thread.id, thread.guild_id, due, self.clock.now())

    async def schedule_unscheduled(self, guild_id: int) -> int:
        """At start-up: give open threads that never had escalation rows (tracked before this
        feature existed) their tiers, counted from when they were asked. Returns how many."""
        tiers = (await self.configs.get(guild_id)).tiers
        if not tiers:
            return 0
        async with self.db.reading() as session:
            waiting = await EscalationRepo(session).open_threads_never_scheduled(guild_id)
        if not waiting:
            return 0
        now = self.clock.now()
        async with self.db.session() as session:
            repo = EscalationRepo(session)
            for thread_id, asked_at in waiting:
                await repo.schedule(thread_id, guild_id, due_times(asked_at, tiers), now)
        return len(waiting)

    async def reschedule_guild(self, guild_id: int) -> None:
        """After the tiers changed: move pending due times, add new tiers, drop removed ones."""
        config = await self.configs.get(guild_id)
        tiers = config.tiers
        if self._tiers_seen.get(guild_id) == tiers:
            return
        now = self.clock.now()
        async with self.db.session() as session:
            repo = EscalationRepo(session)
            pending: dict[tuple[int, int], EscalationDelivery] = {
                (row.thread_id, row.tier): row for row in await repo.pending_for_guild(guild_id)
            }
            existing = await repo.delivery_keys(guild_id)
            requested = await repo.requested_threads(guild_id)
            await repo.cancel([key for key in pending if key[1] >= len(tiers)], now)
            for thread_id, asked_at in await repo.open_thread_times(guild_id):
                for index, due_at in enumerate(due_times(asked_at, tiers)):
                    row = pending.get((thread_id, index))
                    if row is not None and not (index == 0 and thread_id in requested):
                        row.due_at, row.updated_at = due_at, now  # an `/escalate` keeps tier 1 early
                    elif (thread_id, index) not in existing:
                        await repo.schedule_one(thread_id, guild_id, index, due_at, now)
        self._tiers_seen[guild_id] = tiers

    # ---- people -----------------------------------------------------------------------------------

    async def escalate(self, thread_id: int, actor: Actor, port: EscalationPort) -> EscalateResult:
        """The asker's `/escalate`: tier 1 falls due now, and the next regular sweep lists it.

        Allowed once per thread, after ``escalate_after``, and once per ``escalate_cooldown`` per
        member across their threads. It sends nothing itself: several escalations close together
        share one digest (one ping), like tiers falling due at their normal time.
        """
        now = self.clock.now()
        async with self.db.session() as session:
            thread = await held_thread(session, thread_id, "Use `/escalate` inside your help thread.")
            config = await self.configs.get(thread.guild_id, session)
            settings = config.settings.escalation
            repo = EscalationRepo(session)
            record = await repo.thread_record(thread_id)
            reached = await repo.tiers_reached(thread_id)
            last = await repo.last_request_by(thread.guild_id, actor.user_id)
            check = check_escalate(
                now=now,
                asked_at=thread.created_at,
                escalate_after=settings.escalate_after,
                is_asker=actor.user_id == thread.asker_id,
                is_open=thread.state is ThreadState.OPEN,
                already_used=record is not None and record.requested_at is not None,
                first_tier_sent=reached.get(0) in (SENDING, SENT),
                enabled=settings.enabled,
                last_escalated_at=last[1] if last else None,
                cooldown=settings.escalate_cooldown,
            )
            if check.refusal is not None:
                raise UserFacingError(_refusal_text(check, last, now))
            if not await repo.record_request(thread_id, thread.guild_id, actor.user_id, now):
                raise UserFacingError(_refusal_text(EscalateCheck(Refusal.ALREADY_USED)))
            if 0 in reached:
                await repo.bring_forward(thread_id, 0, now, now)
            else:  # a thread tracked before escalation existed: give it its tiers now
                await repo.schedule(
                    thread_id, thread.guild_id, [now, *due_times(thread.created_at, config.tiers)[1:]], now
                )
        return await self._escalate_result(port, config)

    async def _escalate_result(self, port: EscalationPort, config: ServerConfig) -> EscalateResult:
        """Where and when the next digest of tier 1 goes out, or why it cannot yet."""
        target = await self.digests.usable_target(port, config, 0)
        if isinstance(target, TierProblem):
            return EscalateResult(None, None, False, target.text)
        now = self.clock.now()
        due = self.digests.next_digest_at(config, now)
        release = release_time(due, now, config.quiet_hours, config.settings.zone)
        return EscalateResult(target.channel_id, release, release > due, None)

    async def claim(self, guild_id: int, thread_id: int, actor: Actor, port: EscalationPort) -> ClaimResult:
        """A helper takes a question from a digest: it leaves the queue and the digests say who.

        Only someone who can view the question's help channel may take it: a digest in a wider
        channel lists a staff-only forum's questions too, and one claimed by a helper who cannot
        open it would leave the queue without anyone answering.

        The claim owes an edit of every digest message listing the thread, in its transaction: the
        delivery worker renders each from the database when it delivers, and retries it until
        Discord takes it, so the digests show the claim even if Discord failed the first edit.
        """
        config = await self.configs.get(guild_id)
        if not can_claim(actor, config.roles):
            raise NotAllowed("Only helpers and staff can claim questions from the digest.")
        now = self.clock.now()
        async with self.db.session() as session:
            repo = EscalationRepo(session)
            thread = await ThreadRepo(session).get(thread_id)
            if thread is None:
                raise NotFound("That question is no longer tracked.")
            access = port.guild_access(guild_id, {thread.channel_id})
            viewer = Viewer(actor.user_id, actor.role_ids)
            if access is None or not can_view(access, thread.channel_id, viewer):
                raise NotAllowed(
                    "This question is in a help channel you can't view, so it is left for someone who can."
                )
            if not await repo.record_claim(thread_id, guild_id, actor.user_id, now):
                record = await repo.thread_record(thread_id)
                claimer = record.claimed_by_id if record else None
                if claimer == actor.user_id:
                    raise UserFacingError("You already claimed this question. Thanks for taking it!")
                raise UserFacingError(f"<@{claimer}> already claimed this question.")
            await repo.cancel_thread(thread_id, now)
            messages = await repo.digest_messages_of(thread_id)
            for digest_id, channel_id, message_id in messages:
                await self.owed.edit(
                    session, guild_id, channel_id, message_id, DIGEST_EDIT, digest_id=digest_id
                )
        return ClaimResult(thread_id, [(digest_id, message_id) for digest_id, _, message_id in messages])
