"""A server where questions are asked and answered, for the service tests: help threads, points and
solutions wired as the bot wires them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import FakeClock
from bot.config import GuildSettings
from bot.domain.sharding import ShardScope
from bot.services.help_threads import HelpThreadService, NewThread
from bot.services.points import PointsService
from bot.services.server_config import ServerConfigService
from bot.services.solutions import AnswerRef, SolutionService
from storage.engine import Database
from tests.storage.services.test_help_threads import FakePort

GUILD, ASKER, HELPER, OTHER, STAFF_ROLE = 1 << 22, 100, 200, 300, 20


@dataclass
class Svc:
    clock: FakeClock
    threads: HelpThreadService
    points: PointsService
    solutions: SolutionService


async def answering_server(db: Database, clock: FakeClock) -> Svc:
    """The services of one server (with a staff role) on the test database."""
    configs = ServerConfigService(db, clock, GuildSettings())
    points = PointsService(db, clock, configs)
    await configs.add_role(GUILD, STAFF_ROLE, "staff")
    threads = HelpThreadService(db, clock, configs, ShardScope())
    return Svc(clock, threads, points, SolutionService(db, clock, configs, points))


async def ask(svc: Svc, thread_id: int, asker: int = ASKER) -> int:
    await svc.threads.open_thread(
        NewThread(thread_id, GUILD, 50, "forum", asker, "Question", "body", svc.clock.now()), FakePort()
    )
    return thread_id


async def reply(
    svc: Svc, thread_id: int, message_id: int, author: int, text: str = "the answer"
) -> AnswerRef:
    """A human reply in the thread, now; returns it as a candidate answer."""
    await svc.threads.record_message(
        thread_id=thread_id,
        message_id=message_id,
        author_id=author,
        author_is_bot=False,
        created_at=svc.clock.now(),
    )
    return AnswerRef(message_id, thread_id, author, False, text)


async def total(svc: Svc, member: int) -> int:
    return (await svc.points.standing(GUILD, member)).total
