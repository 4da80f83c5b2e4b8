"""The escalation sweep: due deliveries claimed into one digest per tier and server, then sent.

A sweep claims due rows with a conditional UPDATE into a digest row, sends the digest with
deterministic nonces, then records the message ids. A crash between claim and send leaves the digest
``sending``: the next sweep (or start-up) sends it again with the same nonces, so Discord returns the
first messages instead of posting twice. Threads leave the queue when they stop being ``open`` or are
claimed; that is checked when they fall due (:func:`bot.domain.escalation.is_stale`), so no other
feature has to tell this one.

Digests are not owed actions (:mod:`bot.services.owed`): the claimed digest rows already are the
delivery queue of the pings, shared safely by several processes. They get the same care while the
bot runs, though: each send has a deadline, and a digest Discord failed (5xx, a timeout, a 429)
stays ``sending`` and is tried again by a later tick after a backoff, without holding up the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement

from bot.clock import Clock
from bot.config import HelpSettings
from bot.domain.channel_access import GuildAccess
from bot.domain.escalation import (
    MAX_THREADS_PER_DIGEST,
    TierProblem,
    TierTarget,
    digest_nonce,
    is_quiet,
    is_stale,
    split_messages,
    tier_label,
)
from bot.domain.lifecycle import ThreadState
from bot.domain.sharding import ShardScope
from bot.services.delivery import CALL_TIMEOUT, Refused, RetryAfter, Unavailable, backoff
from bot.services.server_config import ServerConfig, ServerConfigService
from storage.engine import Database
from storage.escalation_repo import DueDelivery, EscalationRepo
from storage.models import EscalationDelivery, EscalationDigest
from storage.repositories import owned_by_shards

log = logging.getLogger(__name__)

#: Due deliveries one sweep reads at most; anything beyond waits for the next sweep.
SWEEP_LIMIT = 5000


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
    # The thread's state and kind as the database has them when the digest is rendered: its tags
    # are shown from these, not from Discord's, whose tag edit may still be waiting out a 429.
    state: ThreadState
    kind: str  # "forum" | "text"


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
    help: HelpSettings  # the server's, for the names of its Solved and Unanswered tags

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
        """Post one digest message (pinging the roles only in the first); its id, None if impossible.
        Raises ``TimeoutError`` when Discord did not answer in time (the digest stays owed)."""
        ...

    def guild_access(self, guild_id: int, channel_ids: Collection[int]) -> GuildAccess | None:
        """Who can view which of these channels (None when the server is not available)."""
        ...


class DigestSweep:
    """Delivers due escalations as digests; safe to run twice, late, or in several processes."""

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
        # Digests Discord failed to take, and when (and how often) to try them again.
        self._retry_at: dict[int, datetime] = {}
        self._failures: dict[int, int] = {}
        self.call_timeout = CALL_TIMEOUT

    def _owned(self, column: ColumnElement[int]) -> ColumnElement[bool]:
        return owned_by_shards(column, self.scope.shard_ids, self.scope.shard_count)

    async def sweep(self, port: EscalationPort, only_guild: int | None = None, force: bool = False) -> int:
        """Deliver every due escalation as digests; returns how many digests went out.

        After a server got a digest, its next one waits ``escalation.sweep_interval`` (unless
        ``force``d), so that threads falling due close together share one digest.
        """
        async with self._lock:
            sent = await self._resume_unfinished(port, only_guild)
            now = self.clock.now()
            async with self.db.reading() as session:
                due = await EscalationRepo(session).due(
                    self._owned(EscalationDelivery.guild_id), now, SWEEP_LIMIT
                )
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

    def next_digest_at(self, config: ServerConfig, now: datetime) -> datetime:
        """When this process's sweep next sends a digest to the server, quiet hours aside: now (at
        the next tick), or once ``escalation.sweep_interval`` has passed since its last digest."""
        last = self._last_swept.get(config.guild_id)
        if last is None:
            return now
        return max(now, last + config.settings.escalation.sweep_interval)

    async def _sweep_guild(
        self, port: EscalationPort, config: ServerConfig, rows: list[DueDelivery], now: datetime
    ) -> int:
        settings = config.settings.escalation
        stale = {
            (r.thread_id, r.tier)
            for r in rows
            if is_stale(r, enabled=settings.enabled, tiers=len(settings.tiers))
        }
        if stale:
            async with self.db.session() as session:
                await EscalationRepo(session).cancel(sorted(stale), now)
        if is_quiet(now, config.quiet_hours, config.settings.zone):
            return 0  # held back: the first sweep after the quiet hours delivers them
        by_tier: dict[int, list[DueDelivery]] = defaultdict(list)
        for row in rows:
            if (row.thread_id, row.tier) not in stale:
                by_tier[row.tier].append(row)
        sent = 0
        for tier, group in sorted(by_tier.items()):
            target = await self.usable_target(port, config, tier)
            if isinstance(target, TierTarget):
                group.sort(key=lambda r: (r.due_at, r.thread_id))
                digest_id = await self._claim(
                    config.guild_id, tier, target, group[:MAX_THREADS_PER_DIGEST], now
                )
                if digest_id is not None and await self._send(port, digest_id):
                    sent += 1
        return sent

    async def usable_target(
        self, port: EscalationPort, config: ServerConfig, tier: int
    ) -> TierTarget | TierProblem:
        """The tier's roles and channel, or why they cannot be used (logged once per problem)."""
        resolved = config.tier_target(tier)
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
        now = self.clock.now()
        for digest_id in unfinished:
            if self._retry_at.get(digest_id, now) > now:
                continue  # Discord failed it a moment ago: its backoff has not run out
            view = await self.view(digest_id)
            if view is not None and (only_guild is None or view.guild_id == only_guild):
                resumed += await self._send(port, digest_id)
        return resumed

    async def _send(self, port: EscalationPort, digest_id: int) -> bool:
        """Send what is missing of a digest; False when Discord failed and a later tick retries."""
        view = await self.view(digest_id)
        if view is None:
            return False
        message_ids = list(view.message_ids)
        for part in view.parts[len(message_ids) :]:
            try:
                sent = await asyncio.wait_for(port.send_digest_part(view, part), self.call_timeout)
            except Refused:
                sent = None  # the channel is gone or closed to the bot: nothing will change that
            except (RetryAfter, Unavailable, TimeoutError) as failure:
                self._later(view, failure)
                return False
            message_ids.append(sent or 0)
            async with self.db.session() as session:
                await EscalationRepo(session).record_part(digest_id, message_ids)
        self._retry_at.pop(digest_id, None)
        self._failures.pop(digest_id, None)
        message_of_thread = {
            entry.thread_id: message_ids[part.index] or None for part in view.parts for entry in part.entries
        }
        async with self.db.session() as session:
            await EscalationRepo(session).finish_digest(digest_id, message_of_thread, self.clock.now())
        return True

    def _later(self, view: DigestView, failure: Exception) -> None:
        failures = self._failures.get(view.digest_id, 0)
        wait = failure.seconds if isinstance(failure, RetryAfter) else backoff(failures)
        self._failures[view.digest_id] = failures + 1
        self._retry_at[view.digest_id] = self.clock.now() + timedelta(seconds=wait)
        log.info(
            "guild %s: escalation digest %s not sent (%s); trying again in %.0f s",
            view.guild_id,
            view.digest_id,
            failure or "no answer in time",
            wait,
        )

    async def view(self, digest_id: int) -> DigestView | None:
        """A digest as stored, ready to render (the same on every retry)."""
        async with self.db.reading() as session:
            repo = EscalationRepo(session)
            digest = await repo.digest(digest_id)
            if digest is None:
                return None
            listed = await repo.digest_threads(digest_id)
        config = await self.configs.get(digest.guild_id)
        tiers = config.tiers
        entries = [
            DigestEntry(
                thread_id=t.thread_id,
                guild_id=t.guild_id,
                channel_id=t.channel_id,
                title=t.title,
                asked_at=t.asked_at,
                waited=digest.created_at - t.asked_at,
                claimed_by_id=t.claimed_by_id,
                state=t.state,
                kind=t.kind,
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
            help=config.settings.help,
        )
