"""Fixtures for end-to-end tests: emulator + community + the real bot, configured by slash commands."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import UnstuckBot
from bot.clock import FakeClock
from bot.local import BotRunner
from emulator import Emulator
from emulator.faults import NAME_EDIT_WINDOW
from tests.conftest import sqlite_copy
from tests.e2e.harness import Community, LogGuard, build_community, handled, unexpected_pings


@dataclass
class World:
    emu: Emulator
    clock: FakeClock
    runner: BotRunner
    c: Community

    @property
    def bot(self) -> UnstuckBot:
        assert self.runner.bot is not None
        return self.runner.bot

    @contextlib.asynccontextmanager
    async def handled(self, event: str, check: Callable[..., bool] = lambda *_: True) -> AsyncIterator[None]:
        """On leaving the block, the bot has received ``event`` and finished handling it (see harness)."""
        async with handled(self.bot, event, check):
            yield

    async def edit_window_passes(self) -> None:
        """Discord allows 2 name or tag edits per thread in 10 minutes: the clocks move 10 minutes
        on, and the bot delivers what waited for the window (its delivery tick)."""
        self.clock.advance(NAME_EDIT_WINDOW)
        await self.bot.services.delivery.deliver_due()

    async def stop(self) -> None:
        errors = await self.runner.stop()
        assert errors == [], f"the bot logged unexpected errors: {errors!r}"

    async def start(self) -> UnstuckBot:
        return await self.runner.start({self.c.guild})

    async def restart(self) -> UnstuckBot:
        await self.stop()
        return await self.start()

    async def configure(self) -> None:
        """The admin sets the server up the way a real admin would: with slash commands."""
        c = self.c
        for channel in (c.forum, c.text):
            await self.emu.user_runs_slash(
                c.admin, c.general, "unstuck config add-help-channel", options={"channel": channel}
            )
        await self.emu.user_runs_slash(
            c.admin, c.general, "unstuck config add-role", options={"role": c.helper_role, "kind": "helper"}
        )
        await self.emu.user_runs_slash(
            c.admin, c.general, "unstuck config add-role", options={"role": c.staff_role, "kind": "staff"}
        )


@pytest.fixture
async def emu(clock: FakeClock) -> AsyncIterator[Emulator]:
    emulator = Emulator(clock=clock.now)
    await emulator.start()
    emulator.configure_discord_py()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def world(
    emu: Emulator, clock: FakeClock, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[World]:
    """A running bot in a configured server.

    Ends by checking what a user would never accept: problems the emulator recorded (invalid or
    unknown requests, broken limits), errors that reached the log, and pings of anyone the
    configuration does not name (@everyone/@here, users, or roles that are not escalation targets).
    """
    community = build_community(emu)
    runner = BotRunner(emu, clock, sqlite_copy(sqlite_template, tmp_path))
    with LogGuard() as guard:
        await runner.start({community.guild})
        w = World(emu=emu, clock=clock, runner=runner, c=community)
        await w.configure()
        yield w
        allowed = await configured_ping_roles(w) if w.runner.bot else set()
        await w.stop()
    assert emu.problems == [], f"the emulator recorded problems: {emu.problems}"
    assert guard.messages() == [], "errors reached the log"
    assert unexpected_pings(emu, allowed) == [], "the bot pinged someone it was not configured to ping"


async def configured_ping_roles(w: World) -> set[int]:
    """Roles the server's configuration names as escalation targets (helper/staff roles, tier roles)."""
    config = await w.bot.services.configs.get(w.c.guild)
    roles = set(config.roles.helper_roles | config.roles.staff_roles)
    roles |= {tier.role for tier in config.settings.escalation.tiers if isinstance(tier.role, int)}
    return roles
