"""Escalation use cases: schedule tiers for new questions, sweep due ones into digests, claims, `/escalate`.

The database is the source of truth. Every tier of a thread is a row written when the thread is
opened; a sweep claims due rows with a conditional UPDATE into a digest row, sends the digest with
deterministic nonces, then records the message ids. A crash between claim and send leaves the digest
``sending``: the next sweep (or start-up) sends it again with the same nonces, so Discord returns the
first messages instead of posting twice. Threads leave the queue when they stop being ``open`` or are
claimed; that is checked when they fall due, so no other feature has to tell this one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import ValidationError
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import QuietHours, Tier, format_validation_error, parse_duration
from bot.config.types import TierChannel, TierRole
from bot.domain.escalation import (
    MAX_THREADS_PER_DIGEST,
    EscalateCheck,
    Refusal,
    TierProblem,
    TierTarget,
    can_claim,
    check_escalate,
    digest_nonce,
    due_times,
    is_quiet,
    release_time,
    resolve_tier,
    split_messages,
    tier_label,
    tier_order_problems,
)
from bot.domain.lifecycle import ThreadState
from bot.domain.permissions import Actor
from bot.domain.sharding import ShardScope
from bot.services.errors import NotAllowed, NotFound, UserFacingError
from bot.services.help_threads import NewThread
from bot.services.server_config import InvalidSetting, ServerConfig, ServerConfigService
from storage.engine import Database
from storage.escalation_repo import SENDING, SENT, DueDelivery, EscalationRepo, ListedThread
from storage.models import EscalationDelivery, EscalationDigest, HelpThread
from storage.repositories import ThreadRepo, owned_by_shards

log = logging.getLogger(__name__)

#: Due deliveries one sweep reads at most; anything beyond waits for the next sweep.
SWEEP_LIMIT = 5000
#: The most tiers a server may have (the settings model allows five).
MAX_TIERS = 5


@dataclass(frozen=True)
class DigestEntry:
    """One waiting question in a digest."""

    thread_id: int
    guild_id: int
    channel_id: int  # the help channel it was asked in
    title: str
    asked_at: datetime
    waited: timedelta  # at the time of the sweep that listed it
    claimed_by_id: int | None


@dataclass(frozen=True)
class DigestPart:
    """One message of a digest (a digest with many threads spans several)."""

    index: int
    count: int
    nonce: str
    entries: list[DigestEntry]


@dataclass(frozen=True)
class DigestView:
    """Everything needed to render a digest: its tier, whom it pings, where, and its parts."""

    digest_id: int
    guild_id: int
    tier: int  # 0-based
    tier_after: timedelta | None  # None when the tier was removed since
    channel_id: int
    role_ids: tuple[int, ...]
    created_at: datetime
    parts: list[DigestPart]
    message_ids: list[int]

    def part_of_message(self, message_id: int) -> DigestPart | None:
        for index, sent in enumerate(self.message_ids):
            if sent == message_id and index < len(self.parts):
                return self.parts[index]
        return None


class EscalationPort(Protocol):
    """What escalation needs from Discord."""

    async def target_problem(self, guild_id: int, target: TierTarget) -> str | None:
        """Why the tier's roles or channel cannot be used right now (deleted, no access), or None."""
        ...

    async def send_digest_part(self, view: DigestView, part: DigestPart) -> int | None:
        """Post one digest message (pinging the roles only in the first); its id, None if impossible."""
        ...

    async def refresh_digest_message(self, view: DigestView, part: DigestPart, message_id: int) -> None:
        """Edit a posted digest message to show its current claims."""
        ...


@dataclass(frozen=True)
class EscalateResult:
    """What `/escalate` did: delivered now, or queued until ``release_at`` (or until set-up is fixed)."""

    delivered: bool
    channel_id: int | None
    release_at: datetime | None
    problem: str | None


@dataclass(frozen=True)
class ClaimResult:
    thread_id: int
    digest_messages: list[tuple[int, int]]  # (digest id, message id) listing the thread


@dataclass(frozen=True)
class QueuedThread:
    """A question waiting in the queue and the next tier it will reach."""

    thread: ListedThread
    waited: timedelta
    next_tier: int
    fires_at: datetime


@dataclass(frozen=True)
class TierStatus:
    """One tier as `/escalations` shows it."""

    index: int
    tier: Tier
    target: TierTarget | None
    problem: str | None
    waiting: int
    next_fire: datetime | None


@dataclass(frozen=True)
class QueueReport:
    now: datetime
    enabled: bool
    quiet_now: bool
    quiet_until: datetime | None
    tiers: list[TierStatus]
    threads: list[QueuedThread] = field(default_factory=list)


def _refusal_text(check: EscalateCheck) -> str:
    """The polite, private reason `/escalate` was refused."""
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
    return "This question cannot be escalated."


class EscalationService:
    def __init__(self, db: Database, clock: Clock, configs: ServerConfigService, scope: ShardScope) -> None:
        self.db = db
        self.clock = clock
        self.configs = configs
        self.scope = scope
        # One sweep at a time in this process (the scheduler and `/escalate` may both start one);
        # other processes own other servers, and the conditional UPDATEs guard the rest.
        self._lock = asyncio.Lock()
        self._last_swept: dict[int, datetime] = {}
        self._reported: dict[tuple[int, int], str] = {}
        self._tiers_seen: dict[int, list[Tier]] = {}
        configs.listeners.append(self.reschedule_guild)

    def _owned(self, column: ColumnElement[int]) -> ColumnElement[bool]:
        return owned_by_shards(column, self.scope.shard_ids, self.scope.shard_count)

    # ---- scheduling -------------------------------------------------------------------------------

    async def schedule_new_thread(self, session: AsyncSession, new: NewThread, config: ServerConfig) -> None:
        """Write the due time of every tier for a question just tracked (same transaction)."""
        tiers = config.settings.escalation.tiers
        await EscalationRepo(session).schedule(
            new.thread_id, new.guild_id, due_times(new.created_at, tiers), self.clock.now()
        )

    async def requeue_reopened(self, session: AsyncSession, thread: HelpThread, config: ServerConfig) -> None:
        """An unanswered thread is open again: tiers not yet delivered count from the moment it
        reopened (its last activity; a catch-up after downtime reads that from the message), in
        the same transaction. A tier already sent is not sent twice."""
        due = due_times(thread.last_activity_at, config.settings.escalation.tiers)
        await EscalationRepo(session).requeue(thread.id, thread.guild_id, due, self.clock.now())

    async def schedule_unscheduled(self, guild_id: int) -> int:
        """At start-up: give open threads that never had escalation rows (tracked before this
        feature existed) their tiers, counted from when they were asked. Returns how many."""
        tiers = (await self.configs.get(guild_id)).settings.escalation.tiers
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
        tiers = list(config.settings.escalation.tiers)
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

    # ---- the sweep --------------------------------------------------------------------------------

    async def sweep(self, port: EscalationPort, only_guild: int | None = None, force: bool = False) -> int:
        """Deliver every due escalation as digests; returns how many digests went out.

        Safe to run twice, late, or in several processes (each owns other servers). After a server
        got a digest, its next one waits ``escalation.sweep_interval`` (unless ``force``d), so that
        threads falling due close together share one digest.
        """
        async with self._lock:
            sent = await self._resume_unfinished(port, only_guild)
            now = self.clock.now()
            owned = self._owned(EscalationDelivery.guild_id)
            async with self.db.reading() as session:
                due = await EscalationRepo(session).due(owned, now, SWEEP_LIMIT)
            by_guild: dict[int, list[DueDelivery]] = defaultdict(list)
            for row in due:
                if only_guild is None or row.guild_id == only_guild:
                    by_guild[row.guild_id].append(row)
            for guild_id, rows in by_guild.items():
                config = await self.configs.get(guild_id)
                last = self._last_swept.get(guild_id)
                interval = config.settings.escalation.sweep_interval
                if not force and last is not None and now - last < interval:
                    continue
                delivered = await self._sweep_guild(port, config, rows, now)
                if delivered:
                    self._last_swept[guild_id] = now
                sent += delivered
            return sent

    async def _sweep_guild(
        self, port: EscalationPort, config: ServerConfig, rows: list[DueDelivery], now: datetime
    ) -> int:
        settings = config.settings.escalation
        stale = [
            (r.thread_id, r.tier)
            for r in rows
            if not settings.enabled
            or r.state is not ThreadState.OPEN
            or r.deleted
            or r.claimed
            or r.tier >= len(settings.tiers)
        ]
        if stale:
            async with self.db.session() as session:
                await EscalationRepo(session).cancel(stale, now)
        if is_quiet(now, settings.quiet_hours, config.settings.zone):
            return 0  # held back: the first sweep after the quiet hours delivers them
        gone = set(stale)
        by_tier: dict[int, list[DueDelivery]] = defaultdict(list)
        for row in rows:
            if (row.thread_id, row.tier) not in gone:
                by_tier[row.tier].append(row)
        sent = 0
        for tier, group in sorted(by_tier.items()):
            target = await self.usable_target(port, config, tier)
            if isinstance(target, TierTarget):
                group.sort(key=lambda r: (r.due_at, r.thread_id))
                digest_id = await self._claim(
                    config.guild_id, tier, target, group[:MAX_THREADS_PER_DIGEST], now
                )
                if digest_id is not None:
                    await self._send(port, digest_id)
                    sent += 1
        return sent

    async def usable_target(
        self, port: EscalationPort, config: ServerConfig, tier: int
    ) -> TierTarget | TierProblem:
        """The tier's roles and channel, or why they cannot be used (logged once per problem)."""
        resolved = resolve_tier(
            tier, config.settings.escalation.tiers[tier], config.roles, config.escalation_channel_id
        )
        if isinstance(resolved, TierTarget):
            problem = await port.target_problem(config.guild_id, resolved)
            if problem is None:
                self._reported.pop((config.guild_id, tier), None)
                return resolved
            resolved = TierProblem(f"{tier_label(tier).capitalize()}: {problem}")
        if self._reported.get((config.guild_id, tier)) != resolved.text:
            self._reported[(config.guild_id, tier)] = resolved.text
            log.warning(
                "guild %s: escalation %s is held back: %s", config.guild_id, tier_label(tier), resolved.text
            )
        return resolved

    async def _claim(
        self, guild_id: int, tier: int, target: TierTarget, rows: Sequence[DueDelivery], now: datetime
    ) -> int | None:
        """Claim due deliveries into a new digest (atomically); None when another sweep got them all."""
        async with self.db.session() as session:
            repo = EscalationRepo(session)
            digest_id = await repo.open_digest(guild_id, tier, target.channel_id, target.role_ids, now)
            if not await repo.claim_deliveries(tier, [row.thread_id for row in rows], digest_id, now):
                await repo.drop_digest(digest_id)
                return None
            return digest_id

    async def _resume_unfinished(self, port: EscalationPort, only_guild: int | None) -> int:
        """Send digests a crash left claimed but unsent (the nonces keep them single)."""
        async with self.db.reading() as session:
            unfinished = await EscalationRepo(session).unfinished_digests(
                self._owned(EscalationDigest.guild_id)
            )
        resumed = 0
        for digest_id in unfinished:
            view = await self.digest_view(digest_id)
            if view is not None and (only_guild is None or view.guild_id == only_guild):
                await self._send(port, digest_id)
                resumed += 1
        return resumed

    async def _send(self, port: EscalationPort, digest_id: int) -> None:
        view = await self.digest_view(digest_id)
        if view is None:
            return
        message_ids = list(view.message_ids)
        for part in view.parts[len(message_ids) :]:
            message_ids.append(await port.send_digest_part(view, part) or 0)
            async with self.db.session() as session:
                await EscalationRepo(session).record_part(digest_id, message_ids)
        message_of_thread = {
            entry.thread_id: message_ids[part.index] or None for part in view.parts for entry in part.entries
        }
        async with self.db.session() as session:
            await EscalationRepo(session).finish_digest(digest_id, message_of_thread, self.clock.now())

    async def digest_view(self, digest_id: int) -> DigestView | None:
        """A digest as stored, ready to render (the same on every retry)."""
        async with self.db.reading() as session:
            repo = EscalationRepo(session)
            digest = await repo.digest(digest_id)
            if digest is None:
                return None
            listed = await repo.digest_threads(digest_id)
        config = await self.configs.get(digest.guild_id)
        tiers = config.settings.escalation.tiers
        entries = [
            DigestEntry(
                thread_id=t.thread_id,
                guild_id=t.guild_id,
                channel_id=t.channel_id,
                title=t.title,
                asked_at=t.asked_at,
                waited=digest.created_at - t.asked_at,
                claimed_by_id=t.claimed_by_id,
            )
            for t in listed
        ]
        chunks = split_messages(entries)
        return DigestView(
            digest_id=digest.id,
            guild_id=digest.guild_id,
            tier=digest.tier,
            tier_after=tiers[digest.tier].after if digest.tier < len(tiers) else None,
            channel_id=digest.channel_id,
            role_ids=tuple(digest.role_ids),
            created_at=digest.created_at,
            parts=[
                DigestPart(index=i, count=len(chunks), nonce=digest_nonce(digest.id, i), entries=chunk)
                for i, chunk in enumerate(chunks)
            ],
            message_ids=list(digest.message_ids),
        )

    # ---- people -----------------------------------------------------------------------------------

    async def escalate(self, thread_id: int, actor: Actor, port: EscalationPort) -> EscalateResult:
        """The asker's `/escalate`: tier 1 now, once per thread, after ``escalate_after``."""
        now = self.clock.now()
        async with self.db.session() as session:
            thread = await ThreadRepo(session).get(thread_id, lock=True)
            if thread is None or thread.deleted:
                raise NotFound("Use `/escalate` inside your help thread.")
            config = await self.configs.get(thread.guild_id, session)
            settings = config.settings.escalation
            repo = EscalationRepo(session)
            record = await repo.thread_record(thread_id)
            reached = await repo.tiers_reached(thread_id)
            check = check_escalate(
                now=now,
                asked_at=thread.created_at,
                escalate_after=settings.escalate_after,
                is_asker=actor.user_id == thread.asker_id,
                is_open=thread.state is ThreadState.OPEN,
                already_used=record is not None and record.requested_at is not None,
                first_tier_sent=reached.get(0) in (SENDING, SENT),
                enabled=settings.enabled,
            )
            if check.refusal is not None:
                raise UserFacingError(_refusal_text(check))
            if not await repo.record_request(thread_id, thread.guild_id, actor.user_id, now):
                raise UserFacingError(_refusal_text(EscalateCheck(Refusal.ALREADY_USED)))
            if 0 in reached:
                await repo.bring_forward(thread_id, 0, now, now)
            else:  # a thread tracked before escalation existed: give it its tiers now
                await repo.schedule(
                    thread_id, thread.guild_id, [now, *due_times(thread.created_at, settings.tiers)[1:]], now
                )
        await self.sweep(port, only_guild=config.guild_id, force=True)
        return await self._escalate_result(port, config, thread_id)

    async def _escalate_result(
        self, port: EscalationPort, config: ServerConfig, thread_id: int
    ) -> EscalateResult:
        async with self.db.reading() as session:
            status = (await EscalationRepo(session).tiers_reached(thread_id)).get(0)
        target = await self.usable_target(port, config, 0)
        channel_id = target.channel_id if isinstance(target, TierTarget) else None
        if status == SENT:
            return EscalateResult(True, channel_id, None, None)
        settings = config.settings
        now = self.clock.now()
        release = release_time(now, now, settings.escalation.quiet_hours, settings.zone)
        problem = target.text if isinstance(target, TierProblem) else None
        return EscalateResult(False, channel_id, release if release > now else None, problem)

    async def claim(self, guild_id: int, thread_id: int, actor: Actor) -> ClaimResult:
        """A helper takes a question from a digest: it leaves the queue and the digests say who."""
        config = await self.configs.get(guild_id)
        if not can_claim(actor, config.roles):
            raise NotAllowed("Only helpers and staff can claim questions from the digest.")
        now = self.clock.now()
        async with self.db.session() as session:
            repo = EscalationRepo(session)
            if await ThreadRepo(session).get(thread_id) is None:
                raise NotFound("That question is no longer tracked.")
            if not await repo.record_claim(thread_id, guild_id, actor.user_id, now):
                record = await repo.thread_record(thread_id)
                claimer = record.claimed_by_id if record else None
                if claimer == actor.user_id:
                    raise UserFacingError("You already claimed this question. Thanks for taking it!")
                raise UserFacingError(f"<@{claimer}> already claimed this question.")
            await repo.cancel_thread(thread_id, now)
            messages = await repo.digest_messages_of(thread_id)
        return ClaimResult(thread_id, [(digest_id, message_id) for digest_id, _, message_id in messages])

    # ---- admins: tiers and quiet hours ------------------------------------------------------------

    async def set_tier(
        self,
        guild_id: int,
        position: int,
        after: str,
        role: TierRole,
        channel: TierChannel,
        port: EscalationPort,
    ) -> ServerConfig:
        """Replace tier ``position`` (1-based), or add one after the last; explains every problem."""
        config = await self.configs.get(guild_id)
        tiers = list(config.settings.escalation.tiers)
        if not 1 <= position <= min(len(tiers) + 1, MAX_TIERS):
            last = min(len(tiers) + 1, MAX_TIERS)
            extra = f" ({last} adds a new tier)" if len(tiers) < MAX_TIERS else ""
            raise InvalidSetting(f"There are {len(tiers)} tiers: pick a tier from 1 to {last}{extra}.")
        try:
            wait = parse_duration(after)
        except ValueError:
            raise InvalidSetting(f"`{after}` is not a duration: write it like 30m, 4h or 1d.") from None
        if wait <= timedelta(0):
            raise InvalidSetting("A tier must wait longer than zero.")
        tier = Tier(after=wait, role=role, channel=channel)
        tiers[position - 1 : position] = [tier]
        problems = tier_order_problems(tiers)
        target = resolve_tier(position - 1, tier, config.roles, config.escalation_channel_id)
        if isinstance(target, TierProblem):
            problems.append(target.text)
        elif (problem := await port.target_problem(guild_id, target)) is not None:
            problems.append(f"{tier_label(position - 1).capitalize()}: {problem}")
        if problems:
            raise InvalidSetting("\n".join(problems))
        return await self._save_tiers(guild_id, tiers)

    async def remove_tier(self, guild_id: int, position: int) -> ServerConfig:
        """Remove tier ``position`` (1-based); the tiers after it move up."""
        config = await self.configs.get(guild_id)
        tiers = list(config.settings.escalation.tiers)
        if not 1 <= position <= len(tiers):
            raise InvalidSetting(f"There is no tier {position}: this server has {len(tiers)}.")
        if len(tiers) == 1:
            raise InvalidSetting(
                "A server keeps at least one tier. To stop escalating, set `escalation.enabled` to false."
            )
        del tiers[position - 1]
        return await self._save_tiers(guild_id, tiers)

    async def _save_tiers(self, guild_id: int, tiers: list[Tier]) -> ServerConfig:
        data = [tier.model_dump(mode="json") for tier in tiers]
        return await self.configs.set_value(guild_id, "escalation.tiers", json.dumps(data))

    async def set_quiet_hours(self, guild_id: int, start: str | None, end: str | None) -> ServerConfig:
        """Set the daily quiet window (server time), or switch it off when neither end is given."""
        if start is None and end is None:
            return await self.configs.reset_value(guild_id, "escalation.quiet_hours")
        if start is None or end is None:
            raise InvalidSetting(
                "Give both `start` and `end` (like 22:00 and 07:00), or neither to turn them off."
            )
        try:
            quiet = QuietHours(start=start, end=end)  # type: ignore[arg-type]
        except ValidationError as error:
            raise InvalidSetting("\n".join(format_validation_error(error))) from None
        return await self.configs.set_value(
            guild_id, "escalation.quiet_hours", json.dumps(quiet.model_dump(mode="json"))
        )

    # ---- the queue, for staff ---------------------------------------------------------------------

    async def queue_report(self, guild_id: int, port: EscalationPort) -> QueueReport:
        """What waits, for how long, what fires next per tier, and what is misconfigured."""
        config = await self.configs.get(guild_id)
        settings = config.settings
        quiet, zone = settings.escalation.quiet_hours, settings.zone
        now = self.clock.now()
        async with self.db.reading() as session:
            waiting = await EscalationRepo(session).waiting(guild_id)
        next_of_thread: dict[int, ListedThread] = {}
        for row in waiting:
            if row.tier < len(settings.escalation.tiers) and (
                row.thread_id not in next_of_thread or row.tier < next_of_thread[row.thread_id].tier
            ):
                next_of_thread[row.thread_id] = row
        threads = sorted(
            (
                QueuedThread(
                    thread=row,
                    waited=now - row.asked_at,
                    next_tier=row.tier,
                    fires_at=release_time(row.due_at, now, quiet, zone),
                )
                for row in next_of_thread.values()
            ),
            key=lambda q: (q.fires_at, q.thread.thread_id),
        )
        tiers = []
        for index, tier in enumerate(settings.escalation.tiers):
            target = await self.usable_target(port, config, index)
            mine = [release_time(r.due_at, now, quiet, zone) for r in waiting if r.tier == index]
            tiers.append(
                TierStatus(
                    index=index,
                    tier=tier,
                    target=target if isinstance(target, TierTarget) else None,
                    problem=target.text if isinstance(target, TierProblem) else None,
                    waiting=len(mine),
                    next_fire=min(mine) if mine else None,
                )
            )
        quiet_now = is_quiet(now, quiet, zone)
        return QueueReport(
            now=now,
            enabled=settings.escalation.enabled,
            quiet_now=quiet_now,
            quiet_until=release_time(now, now, quiet, zone) if quiet_now else None,
            tiers=tiers,
            threads=threads,
        )
