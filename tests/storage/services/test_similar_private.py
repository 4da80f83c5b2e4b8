"""Private stays private, on SQLite and PostgreSQL: suggestions and `/similar` show only threads from
channels the reader (or a thread's whole audience) can view."""

from __future__ import annotations

import pytest

from bot.clock import FakeClock
from bot.domain.channel_access import Overwrite, Viewer
from bot.domain.permissions import Actor
from bot.services.errors import UserFacingError
from bot.services.help_threads import NewThread
from bot.services.similar import ReuseResult
from storage.engine import Database
from tests.storage.services.test_help_threads import FakePort
from tests.storage.services.test_similar import (
    FORUM,
    GUILD,
    NEWCOMER,
    PANDAS,
    STAFF_ROLE,
    VIEW,
    Svc,
    ask,
    make_services,
    seed_background,
    solve,
    suggestions,
)

STAFF_FORUM = 70
STAFF_ONLY = (
    Overwrite(GUILD, is_member=False, deny=VIEW),
    Overwrite(STAFF_ROLE, is_member=False, allow=VIEW),
)
MEMBER, STAFF = Viewer(NEWCOMER), Viewer(NEWCOMER + 1, frozenset({STAFF_ROLE}))
# The private thread is the better match: the filter must not let it push the public one out.
PRIVATE_Q = ("pandas read_csv FileNotFoundError", "pd.read_csv('data.csv') raises FileNotFoundError")
PUBLIC_Q = ("read_csv FileNotFoundError", "pandas cannot open my csv file")
PRIVATE, PUBLIC = 1, 2


@pytest.fixture
async def svc(db: Database, clock: FakeClock) -> Svc:
    """A public forum and a staff-only forum, each with a solved pandas thread."""
    s = make_services(db, clock)
    s.threads.suggest = s.similar.suggest_for
    await s.configs.add_help_channel(GUILD, FORUM, "forum")
    await s.configs.add_help_channel(GUILD, STAFF_FORUM, "forum")
    await s.configs.add_role(GUILD, STAFF_ROLE, "staff")
    s.access.overwrites[STAFF_FORUM] = STAFF_ONLY
    await seed_background(s)
    await solve(s, await ask(s, PRIVATE, PRIVATE_Q, channel=STAFF_FORUM))
    await solve(s, await ask(s, PUBLIC, PUBLIC_Q))
    return s


async def found(svc: Svc, viewer: Viewer, limit: int = 5) -> list[int]:
    return [s.thread_id for s in await svc.similar.search(GUILD, PANDAS[0], viewer, limit=limit)]


async def test_a_member_never_finds_a_staff_only_thread_and_staff_do(svc: Svc) -> None:
    assert await found(svc, STAFF) == [PRIVATE, PUBLIC]
    assert await found(svc, MEMBER) == [PUBLIC]
    # Filtered before the top-k: the private thread, first for staff, leaves room for the public one.
    assert await found(svc, STAFF, limit=1) == [PRIVATE]
    assert await found(svc, MEMBER, limit=1) == [PUBLIC]


async def test_a_member_overwrite_lets_one_member_in(svc: Svc) -> None:
    svc.access.overwrites[STAFF_FORUM] = (*STAFF_ONLY, Overwrite(NEWCOMER, is_member=True, allow=VIEW))
    assert await found(svc, MEMBER) == [PRIVATE, PUBLIC]
    assert await found(svc, Viewer(NEWCOMER + 5)) == [PUBLIC]


async def test_a_welcome_note_suggests_only_what_the_whole_thread_can_view(svc: Svc) -> None:
    port = FakePort()
    public = await ask(svc, 10, PANDAS, asker=NEWCOMER)
    assert await suggestions(svc, public) == [PUBLIC]
    staff = await ask(svc, 11, PANDAS, asker=NEWCOMER + 1, channel=STAFF_FORUM)
    assert await suggestions(svc, staff) == [PRIVATE, PUBLIC]  # staff may be shown public threads
    # The welcome note itself, as the thread service hands it to Discord.
    await svc.threads.open_thread(
        NewThread(13, GUILD, FORUM, "forum", NEWCOMER, *PANDAS, svc.clock.now()), port
    )
    assert port.suggested == [[PUBLIC]]


async def test_without_discords_view_only_the_threads_own_channel_is_shown(svc: Svc) -> None:
    svc.similar.access = None
    staff = await ask(svc, 11, PANDAS, channel=STAFF_FORUM)
    assert await suggestions(svc, staff) == [PRIVATE]
    assert await suggestions(svc, await ask(svc, 12, PANDAS)) == [PUBLIC]
    assert await found(svc, STAFF) == []


async def test_a_help_channel_the_bot_cannot_see_shows_nothing(svc: Svc) -> None:
    del svc.access.overwrites[STAFF_FORUM]
    assert await found(svc, STAFF) == [PUBLIC]


async def test_this_solved_it_refuses_a_thread_the_audience_cannot_view(svc: Svc) -> None:
    new = await ask(svc, 10, PANDAS, asker=NEWCOMER)
    thread = await svc.threads.get(new)
    results = await svc.similar.search(GUILD, PANDAS[0], STAFF)
    assert svc.similar.reusable_in(thread, results) == {PUBLIC}
    with pytest.raises(UserFacingError, match="not everyone here can see"):
        await svc.similar.reuse(new, PRIVATE, Actor(NEWCOMER))
    assert (await svc.threads.get(new)).state == "open"
    assert (await svc.similar.reuse(new, PUBLIC, Actor(NEWCOMER))).result is ReuseResult.CLOSED
    staff = await ask(svc, 11, PANDAS, asker=NEWCOMER + 1, channel=STAFF_FORUM)
    assert svc.similar.reusable_in(await svc.threads.get(staff), results) == {PRIVATE, PUBLIC}
