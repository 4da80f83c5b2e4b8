"""Two bot instances sharing one PostgreSQL, each owning one of two shards: no digest is sent twice.

Runs wherever ``UNSTUCK_TEST_POSTGRES_URL`` is set (CI always sets it; without it CI fails loudly,
see ``tests.conftest.postgres_url``). The instances connect as a throw-away PostgreSQL role whose
``search_path`` is this run's private schema, since the bot reads only a URL from its settings.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.local import BotRunner
from emulator import Emulator
from tests.e2e.db_faults import postgres_role_url
from tests.e2e.harness import Community, LogGuard, build_community, unexpected_pings

SHARDS = 2


def guild_id_for_shard(shard: int, ms: int = 10_000) -> int:
    """A guild id that ``(id >> 22) % SHARDS`` puts on ``shard``."""
    ms += (shard - ms) % SHARDS
    return ms << 22


@pytest.fixture
async def shared_postgres_url(postgres_schema: tuple[str, dict[str, object]]) -> AsyncIterator[str]:
    """A URL whose role sees only this run's (emptied) schema."""
    async with postgres_role_url(postgres_schema) as url:
        yield url


async def configure(emu: Emulator, c: Community) -> None:
    for command, options in [
        ("unstuck config add-help-channel", {"channel": c.forum}),
        ("unstuck config add-role", {"role": c.helper_role, "kind": "helper"}),
        ("unstuck config add-role", {"role": c.staff_role, "kind": "staff"}),
        ("unstuck config channel", {"purpose": "escalation", "channel": c.escalations}),
    ]:
        reply = await emu.user_runs_slash(c.admin, c.general, command, options=options)
        assert "✅" in reply.text()


def digests(emu: Emulator, c: Community) -> list[dict[str, object]]:
    return [m for m in emu.bot_messages(c.escalations) if "Waiting for help" in str(m["embeds"])]


async def test_two_instances_owning_different_shards_never_both_deliver(
    emu: Emulator, clock: FakeClock, shared_postgres_url: str
) -> None:
    servers = [build_community(emu, guild_id_for_shard(s), name=f"Server {s}") for s in range(SHARDS)]
    runners = [
        BotRunner(
            emu,
            clock,
            shared_postgres_url,
            env={"UNSTUCK_SHARDING__SHARD_COUNT": str(SHARDS), "UNSTUCK_SHARDING__SHARD_IDS": f"[{s}]"},
        )
        for s in range(SHARDS)
    ]
    with LogGuard() as guard:
        bots = [await runner.start({c.guild}) for runner, c in zip(runners, servers, strict=True)]
        try:
            assert [bot.scope.owns(c.guild) for bot, c in zip(bots, servers, strict=True)] == [True, True]
            assert not bots[0].scope.owns(servers[1].guild)
            for c in servers:
                await configure(emu, c)
                thread = await emu.user_posts_in_forum(c.alice, c.forum, f"Stuck on {c.guild}", "help?")
                await emu.wait_for_bot_message(int(thread["id"]), contains="Welcome")
            clock.advance(timedelta(hours=4))
            for _ in range(2):  # both instances sweep at the same time, twice
                await asyncio.gather(*(bot.run_sweeps() for bot in bots))
                await asyncio.gather(
                    *(
                        bot.services.escalation.sweep(bot.get_cog("Escalation").port, force=True)
                        for bot in bots
                    )
                )
            for c in servers:  # every sweep above posted before it returned
                [digest] = digests(emu, c)
                assert f"Stuck on {c.guild}" in str(digest["embeds"])
            allowed = {c.helper_role for c in servers} | {c.staff_role for c in servers}
        finally:
            errors = [error for runner in runners for error in await runner.stop()]
    assert errors == []
    assert emu.problems == []
    assert guard.messages() == []
    assert unexpected_pings(emu, allowed) == []
