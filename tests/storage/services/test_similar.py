"""Similar threads on SQLite and PostgreSQL: the index follows the database, reuse pays once."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.config import GuildSettings
from bot.domain.channel_access import GuildAccess, Overwrite, Viewer
from bot.domain.matching import DEFAULT_MIN_SCORE_TITLES_ONLY
from bot.domain.permissions import Actor
from bot.domain.sharding import ShardScope
from bot.services.errors import NotAllowed, UserFacingError
from bot.services.help_threads import HelpThreadService, NewThread
from bot.services.points import PointsService
from bot.services.server_config import ServerConfigService
from bot.services.similar import ReuseResult, SimilarService
from bot.services.solutions import SolutionService, Via
from storage.engine import Database
from storage.models import PointEntry, ThreadReuse
from tests.storage.services import answers
from tests.storage.services.test_help_threads import FakePort

GUILD, OTHER_GUILD = 1 << 22, 2 << 22
FORUM, TEXT = 50, 60
ASKER, HELPER, NEWCOMER, STRANGER, BACKGROUND_HELPER, STAFF_ROLE = 100, 200, 300, 400, 500, 20

PANDAS = ("pandas read_csv FileNotFoundError", "pd.read_csv('data.csv') raises FileNotFoundError")
VENV = ("pip install permission denied", "pip install requests fails with Permission denied on Ubuntu")
# Other solved questions of the server: word statistics need a corpus, as on a real server.
BACKGROUND = [
    ("git push rejected non-fast-forward", "updates were rejected because the tip of your branch is behind"),
    ("docker container exits immediately", "my docker container stops right after docker run"),
    ("discord.py intents", "on_message never fires for my bot"),
    ("matplotlib legend overlaps the plot", "the legend covers my lines"),
    ("venv not activating on windows", "activate.ps1 cannot be loaded because running scripts is disabled"),
]
BACKGROUND_IDS = range(900, 900 + len(BACKGROUND))


VIEW = 1 << 10
MEMBER = Viewer(NEWCOMER)


@dataclass
class FakeAccess:
    """Discord's view of who may see which channel: every help channel open to all unless a test
    gives it overwrites; a channel left out is one the bot cannot see."""

    overwrites: dict[int, tuple[Overwrite, ...]] = field(default_factory=lambda: {FORUM: (), TEXT: ()})
    roles: dict[int, int] = field(default_factory=dict)  # role id -> server-wide permissions

    def guild_access(self, guild_id: int, channel_ids: Collection[int]) -> GuildAccess:
        return GuildAccess(
            guild_id=guild_id,
            owner_id=1,
            role_permissions={guild_id: VIEW, **self.roles},
            overwrites={c: o for c, o in self.overwrites.items() if c in channel_ids},
        )


@dataclass
class Svc(answers.Svc):
    configs: ServerConfigService
    similar: SimilarService
    access: FakeAccess


def make_services(db: Database, clock: FakeClock, titles_only: bool = False) -> Svc:
    configs = ServerConfigService(db, clock, GuildSettings())
    points = PointsService(db, clock, configs)
    threads = HelpThreadService(db, clock, configs, ShardScope())
    solutions = SolutionService(db, clock, configs, points)
    similar = SimilarService(db, clock, configs, points, ShardScope(), titles_only=titles_only)
    similar.access = access = FakeAccess()
    solutions.listeners.append(similar.refresh)
    threads.listeners.append(similar.refresh)
    return Svc(clock, threads, points, solutions, configs=configs, similar=similar, access=access)


@pytest.fixture
async def svc(db: Database, clock: FakeClock) -> Svc:
    s = make_services(db, clock)
    for guild in (GUILD, OTHER_GUILD):
        await s.configs.add_help_channel(guild, FORUM, "forum")
        await s.configs.add_help_channel(guild, TEXT, "text")
    await s.configs.add_role(GUILD, STAFF_ROLE, "staff")
    await seed_background(s)
    return s


async def seed_background(svc: Svc) -> None:
    for thread_id, text in zip(BACKGROUND_IDS, BACKGROUND, strict=True):
        await solve(svc, await ask(svc, thread_id, text, asker=STRANGER), author=BACKGROUND_HELPER)


async def ask(
    svc: Svc,
    thread_id: int,
    text: tuple[str, str],
    asker: int = ASKER,
    channel: int = FORUM,
    guild: int = GUILD,
) -> int:
    title, question = text
    new = NewThread(thread_id, guild, channel, "forum", asker, title, question, svc.clock.now())
    await svc.threads.open_thread(new, FakePort())
    return thread_id


async def solve(svc: Svc, thread_id: int, author: int = HELPER, answer: str = "Use a virtualenv") -> int:
    ref = await answers.reply(svc, thread_id, thread_id * 10 + 1, author, answer)
    thread = await svc.threads.get(thread_id)
    await svc.solutions.mark(thread_id, ref, Actor(thread.asker_id), Via.MENU)
    return ref.message_id


async def suggestions(svc: Svc, thread_id: int) -> list[int]:
    thread = await svc.threads.get(thread_id)
    config = await svc.configs.get(thread.guild_id)
    return [s.thread_id for s in await svc.similar.suggest_for(thread, config)]


async def test_a_solved_thread_is_suggested_to_a_similar_question_only(svc: Svc) -> None:
    earlier = await ask(svc, 1, PANDAS)
    await solve(svc, earlier, answer="The path is relative: use <@200> `Path(__file__).parent`\n@everyone")
    svc.clock.advance(timedelta(days=3))
    similar = await ask(svc, 2, ("read_csv FileNotFoundError in pandas", "pandas can't find my csv file"))
    unrelated = await ask(svc, 3, ("kubernetes ingress returns 404", "nginx ingress controller 404"))
    assert await suggestions(svc, unrelated) == []
    thread = await svc.threads.get(similar)
    [found] = await svc.similar.suggest_for(thread, await svc.configs.get(GUILD))
    assert (found.thread_id, found.answer_message_id, found.solved_ago) == (earlier, 11, "3 days ago")
    assert found.excerpt == "The path is relative: use @member `Path(__file__).parent` @\u200beveryone"
    assert found.score >= 0.40


async def test_the_index_follows_unsolve_edit_rename_and_delete(svc: Svc) -> None:
    earlier = await ask(svc, 1, PANDAS)
    await solve(svc, earlier)
    probe = await ask(svc, 2, PANDAS)
    assert await suggestions(svc, probe) == [earlier]
    await svc.solutions.unmark(earlier, Actor(ASKER))
    assert await suggestions(svc, probe) == []
    await svc.solutions.mark(earlier, None, Actor(ASKER), Via.COMMAND)
    assert await suggestions(svc, probe) == [earlier]
    await svc.threads.update_question(earlier, "matplotlib legend overlaps the plot")
    await svc.threads.renamed(earlier, "matplotlib legend position")
    assert await suggestions(svc, probe) == []
    await svc.threads.update_question(earlier, "seaborn heatmap colours are wrong")
    await svc.threads.renamed(earlier, "seaborn heatmap colour map")
    heatmap = await ask(svc, 3, ("seaborn heatmap colour map is wrong", "heatmap colours wrong"))
    assert await suggestions(svc, heatmap) == [earlier]
    await svc.threads.thread_deleted(earlier)
    assert await suggestions(svc, heatmap) == []


async def test_the_index_is_rebuilt_from_the_database(svc: Svc, db: Database) -> None:
    await solve(svc, await ask(svc, 1, PANDAS))
    await solve(svc, await ask(svc, 2, VENV))
    await ask(svc, 3, ("pandas merge", "unsolved, never indexed"))
    fresh = make_services(db, svc.clock)
    assert await fresh.similar.build() == 2 + len(BACKGROUND)
    probe = await ask(fresh, 4, VENV)
    assert await suggestions(fresh, probe) == [2]


async def test_servers_scope_and_settings(svc: Svc) -> None:
    await solve(svc, await ask(svc, 1, PANDAS, guild=OTHER_GUILD))
    in_text = await ask(svc, 2, PANDAS, channel=TEXT)
    await solve(svc, in_text)
    probe = await ask(svc, 3, PANDAS)  # in the forum
    assert await suggestions(svc, probe) == [in_text]  # never another server's thread
    await svc.configs.set_value(GUILD, "similar.scope", "channel")
    assert await suggestions(svc, probe) == []
    await svc.configs.set_value(GUILD, "similar.scope", "all")
    await svc.configs.set_value(GUILD, "similar.enabled", "false")
    assert await suggestions(svc, probe) == []
    await svc.configs.set_value(GUILD, "similar.enabled", "true")
    # another problem with the same function: a server this small shows it by default, 0.99 does not
    other_problem = ("pandas read_csv", "how to skip the header row")
    assert await suggestions(svc, await ask(svc, 4, other_problem)) == [in_text]
    await svc.configs.set_value(GUILD, "similar.threshold", "0.99")
    assert await suggestions(svc, await ask(svc, 5, other_problem)) == []


async def test_search_explains_unusable_input(svc: Svc) -> None:
    await solve(svc, await ask(svc, 1, PANDAS))
    for text in ("", "   ", "???", "🙂🙂", "<@123> hi please thanks", "the and of"):
        with pytest.raises(UserFacingError, match="meaningful words"):
            await svc.similar.search(GUILD, text, MEMBER)
    assert await svc.similar.search(GUILD, "kubernetes ingress", MEMBER) == []
    found = await svc.similar.search(
        GUILD, "pandas read_csv FileNotFoundError " * 400, MEMBER
    )  # 13,600 chars
    assert [s.thread_id for s in found] == [1]


async def test_this_solved_it_closes_awards_once_and_counts_help(svc: Svc, db: Database) -> None:
    earlier = await ask(svc, 1, PANDAS)
    await solve(svc, earlier)
    new = await ask(svc, 2, PANDAS, asker=NEWCOMER)
    with pytest.raises(NotAllowed):
        await svc.similar.reuse(new, earlier, Actor(STRANGER))
    outcomes = await asyncio.gather(
        svc.similar.reuse(new, earlier, Actor(NEWCOMER)),
        svc.similar.reuse(new, earlier, Actor(NEWCOMER)),
    )
    assert sorted(o.result for o in outcomes) == [ReuseResult.ALREADY, ReuseResult.CLOSED]
    closed = next(o for o in outcomes if o.result is ReuseResult.CLOSED)
    assert [(a.member_id, a.amount, a.kind.value) for a in closed.awards.awards] == [(HELPER, 5, "reuse")]
    assert closed.source.helped == 1
    again = await svc.similar.reuse(new, earlier, Actor(NEWCOMER, role_ids=frozenset({STAFF_ROLE})))
    assert again.result is ReuseResult.ALREADY
    thread = await svc.threads.get(new)
    assert (thread.state, thread.close_reason) == ("closed", "duplicate")
    solution = await svc.solutions.get(new)
    assert (solution.via, solution.source_thread_id, solution.author_id) == ("reuse", earlier, HELPER)
    assert (await svc.points.standing(GUILD, HELPER)).total == 15
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(ThreadReuse)) == 1
        reuse_lines = await session.scalar(
            select(func.count()).select_from(PointEntry).where(PointEntry.kind == "reuse")
        )
    assert reuse_lines == 1
    probe = await ask(svc, 3, PANDAS, asker=STRANGER)
    [shown] = await svc.similar.suggest_for(await svc.threads.get(probe), await svc.configs.get(GUILD))
    assert (shown.thread_id, shown.helped) == (earlier, 1)  # the duplicate itself is never suggested


async def test_reuse_follows_the_anti_abuse_rules(svc: Svc) -> None:
    own = await ask(svc, 1, PANDAS, asker=NEWCOMER)
    await solve(svc, own, author=NEWCOMER)  # answered their own question
    repeat = await ask(svc, 2, PANDAS, asker=NEWCOMER)
    outcome = await svc.similar.reuse(repeat, own, Actor(NEWCOMER))
    assert outcome.awards.awards == [] and "your own question" in outcome.awards.refusals[0].reason
    for n in range(3):  # the pair cap: three awards from one asker to one helper per week
        earlier = await ask(svc, 10 + n, VENV, asker=NEWCOMER)
        await solve(svc, earlier)
    capped = await ask(svc, 20, VENV, asker=NEWCOMER)
    outcome = await svc.similar.reuse(capped, 10, Actor(NEWCOMER))
    assert outcome.result is ReuseResult.CLOSED and outcome.awards.awards == []
    assert (await svc.points.standing(GUILD, HELPER)).total == 30


async def test_reuse_refusals_and_unsolving_a_reused_thread(svc: Svc) -> None:
    earlier = await ask(svc, 1, PANDAS)
    await solve(svc, earlier)
    unsolved = await ask(svc, 2, VENV)
    new = await ask(svc, 3, PANDAS, asker=NEWCOMER)
    with pytest.raises(UserFacingError, match="no longer solved"):
        await svc.similar.reuse(new, unsolved, Actor(NEWCOMER))
    with pytest.raises(UserFacingError, match="no longer solved"):
        await svc.similar.reuse(new, new, Actor(NEWCOMER))
    await svc.similar.reuse(new, earlier, Actor(NEWCOMER))
    await svc.solutions.unmark(new, Actor(NEWCOMER))  # "it did not solve it after all"
    assert (await svc.points.standing(GUILD, HELPER)).total == 10
    [card] = await svc.similar.search(GUILD, PANDAS[0], MEMBER)
    assert card.helped == 0
    outcome = await svc.similar.reuse(new, earlier, Actor(NEWCOMER))  # and then it did, after all
    assert outcome.result is ReuseResult.CLOSED
    assert (await svc.points.standing(GUILD, HELPER)).total == 15
    solved = await ask(svc, 4, PANDAS, asker=NEWCOMER)
    await solve(svc, solved)
    with pytest.raises(UserFacingError, match="already solved"):
        await svc.similar.reuse(solved, earlier, Actor(NEWCOMER))


async def test_titles_only_matching_uses_titles_and_its_own_threshold(db: Database, clock: FakeClock) -> None:
    svc = make_services(db, clock, titles_only=True)
    await svc.configs.add_help_channel(GUILD, FORUM, "forum")
    await seed_background(svc)
    await solve(svc, await ask(svc, 1, ("pandas read_csv FileNotFoundError", "")))
    await solve(svc, await ask(svc, 2, ("help please", "pandas read_csv FileNotFoundError")))
    assert svc.similar.threshold(await svc.configs.get(GUILD)) == DEFAULT_MIN_SCORE_TITLES_ONLY
    assert await suggestions(svc, await ask(svc, 3, ("read_csv FileNotFoundError pandas", ""))) == [1]
