"""Fixtures for the emulator's own tests: a started emulator with a small guild."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord
import pytest

from emulator import Emulator
from emulator.validation import missing_data_files

# Outside CI a machine without ../shared/data skips these; in CI the data must be there (they run).
needs_schemas = pytest.mark.skipif(
    bool(missing_data_files()) and not os.environ.get("CI"),
    reason="Discord schema files absent (see ../shared/data/README.md)",
)


@dataclass
class Server:
    """Ids of the small test guild."""

    guild: int
    text: int
    forum: int
    alice: int
    bob: int
    helper_role: int


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    emulator = Emulator()
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
def server(emu: Emulator) -> Server:
    guild = emu.create_guild("Python Help")
    helper_role = emu.create_role(guild, "Helpers")
    alice, bob = emu.create_user("alice"), emu.create_user("bob")
    emu.add_member(guild, alice)
    emu.add_member(guild, bob, roles=[helper_role])
    return Server(
        guild=guild,
        text=emu.create_text_channel(guild, "help"),
        forum=emu.create_forum_channel(guild, "help-forum", tags=["Solved", "Unanswered", "Python"]),
        alice=alice,
        bob=bob,
        helper_role=helper_role,
    )


def make_client(**kwargs: object) -> discord.Client:
    """A plain client with every intent (tests that need fewer pass ``intents``)."""
    kwargs.setdefault("intents", discord.Intents.all())
    return discord.Client(guild_ready_timeout=0.05, **kwargs)  # type: ignore[arg-type]
