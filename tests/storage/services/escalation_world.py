"""A small escalation world for the service tests: a server with helper and staff roles, the help-thread
and escalation services wired as the bot wires them, and a fake Discord that records digests."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import datetime

from bot.clock import FakeClock
from bot.config import GuildSettings
from bot.domain.channel_access import VIEW_CHANNEL, GuildAccess, Overwrite
from bot.domain.escalation import TierTarget
from bot.domain.sharding import ShardScope
from bot.services.escalation import EscalationService
from bot.services.escalation_digests import DigestPart, DigestView
from bot.services.help_threads import HelpThreadService, NewThread
from bot.services.server_config import ServerConfigService
from storage.engine import Database
from storage.escalation_repo import EscalationRepo
from tests.storage.services.test_help_threads import FakePort as FakeThreadPort

GUILD = 1 << 22  # shard 1 of 2


OTHER_GUILD = 2 << 22  # shard 0 of 2


HELPERS, STAFF, ESCALATIONS = 501, 502, 503


ASKER, HELPER, STRANGER, OWNER = 100, 200, 300, 400


class FakeEscalationPort:
    """Records digests instead of posting them; can be told to crash before recording a send."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int, str, list[int]]] = []  # digest id, part, nonce, thread ids
        self.by_nonce: dict[str, int] = {}
        self.crash_after_send = False
        self.time_out = False  # Discord does not answer: the port gives up (cogs/escalation.py)
        self.problem: str | None = None
        self.failures: list[Exception | str] = []  # what the next sends raise ("hang": no answer)
        self.staff_only: set[int] = set()  # help channels only the staff role can view

    def guild_access(self, guild_id: int, channel_ids: Collection[int]) -> GuildAccess | None:
        hidden = (Overwrite(guild_id, False, deny=VIEW_CHANNEL), Overwrite(STAFF, False, allow=VIEW_CHANNEL))
        return GuildAccess(
            guild_id=guild_id,
            owner_id=OWNER,
            role_permissions={guild_id: VIEW_CHANNEL},
            overwrites={c: hidden if c in self.staff_only else () for c in channel_ids},
        )

    async def target_problem(self, guild_id: int, target: TierTarget) -> str | None:
        return self.problem

    async def send_digest_part(self, view: DigestView, part: DigestPart) -> int | None:
        if self.time_out:
            raise TimeoutError("Discord did not answer in time")
        if self.failures:
            failure = self.failures.pop(0)
            if failure == "hang":
                await asyncio.Event().wait()
            assert isinstance(failure, Exception)
            raise failure
        if part.nonce not in self.by_nonce:  # Discord's enforce_nonce: a retry returns the first message
            self.by_nonce[part.nonce] = 9000 + len(self.by_nonce)
            self.sent.append((view.digest_id, part.index, part.nonce, [e.thread_id for e in part.entries]))
        if self.crash_after_send:
            raise ConnectionError("the process died after sending")
        return self.by_nonce[part.nonce]

    def threads(self) -> list[int]:
        return [thread for *_, threads in self.sent for thread in threads]


class World:
    def __init__(self, db: Database, clock: FakeClock, scope: ShardScope | None = None) -> None:
        self.db, self.clock = db, clock
        self.configs = ServerConfigService(db, clock, GuildSettings())
        self.threads = HelpThreadService(db, clock, self.configs, scope or ShardScope())
        self.escalation = EscalationService(db, clock, self.configs, scope or ShardScope())
        self.threads.opened.append(self.escalation.schedule_new_thread)
        self.threads.reopened.append(self.escalation.requeue_reopened)
        self.port = FakeEscalationPort()

    async def set_up(self, guild_id: int = GUILD) -> None:
        await self.configs.add_role(guild_id, HELPERS, "helper")
        await self.configs.add_role(guild_id, STAFF, "staff")
        await self.configs.set_channel(guild_id, "escalation", ESCALATIONS)

    async def ask(
        self,
        thread_id: int,
        guild_id: int = GUILD,
        at: datetime | None = None,
        asker: int = ASKER,
        channel_id: int = 7,
    ) -> None:
        new = NewThread(
            thread_id=thread_id,
            guild_id=guild_id,
            channel_id=channel_id,
            kind="forum",
            asker_id=asker,
            title=f"question {thread_id}",
            question="?",
            created_at=at or self.clock.now(),
        )
        await self.threads.open_thread(new, FakeThreadPort())

    async def sweep(self) -> int:
        return await self.escalation.sweep(self.port, force=True)

    async def statuses(self, thread_id: int) -> dict[int, str]:
        async with self.db.session() as session:
            return await EscalationRepo(session).tiers_reached(thread_id)
