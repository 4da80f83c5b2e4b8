"""The e2e world: the loopback Discord emulator, a small community in it, and the real bot.

Tests act as people through the emulator's driver and read what the bot did from the emulator's
state and the database. The bot is the production ``UnstuckBot``; only the clock is a test clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from bot.app import UnstuckBot
from bot.clock import FakeClock
from bot.config import Settings, load_settings
from emulator import Emulator

MANAGE_GUILD = 1 << 5
MANAGE_THREADS = 1 << 34


@dataclass
class Community:
    """Ids of everything in the test server."""

    guild: int
    forum: int
    text: int
    general: int
    escalations: int
    helper_role: int
    staff_role: int
    admin: int
    alice: int  # asks questions
    bob: int  # asks questions too
    helen: int  # holds the helper role
    sam: int  # holds the staff role
    mallory: int  # an ordinary member with no special powers
    moderator: int  # has Manage Threads but no Unstuck role
    other_bot: int
    members: dict[str, int] = field(default_factory=dict)


def build_community(emu: Emulator, guild_id: int | None = None, name: str = "Py Help") -> Community:
    admin = emu.create_user("admin")
    guild = emu.create_guild(name, owner_id=admin, guild_id=guild_id)
    helper_role = emu.create_role(guild, "Helpers")
    staff_role = emu.create_role(guild, "Maintainers")
    mod_role = emu.create_role(guild, "Moderators", permissions=MANAGE_THREADS)
    people: dict[str, int] = {"admin": admin}
    for person in ("alice", "bob", "helen", "sam", "mallory", "moderator"):
        people[person] = emu.create_user(person)
    people["other_bot"] = emu.create_user("otherbot", bot=True)
    roles = {"helen": [helper_role], "sam": [staff_role], "moderator": [mod_role]}
    for person, user_id in people.items():
        if person != "admin":
            emu.add_member(guild, user_id, roles=roles.get(person, []))
    return Community(
        guild=guild,
        forum=emu.create_forum_channel(guild, "help-forum", tags=["Solved", "Unanswered", "Python"]),
        text=emu.create_text_channel(guild, "help"),
        general=emu.create_text_channel(guild, "general"),
        escalations=emu.create_text_channel(guild, "escalations"),
        helper_role=helper_role,
        staff_role=staff_role,
        members=people,
        **{k: v for k, v in people.items()},
    )


class BotRunner:
    """Starts, stops and restarts the real bot against the emulator, on one database."""

    def __init__(self, emu: Emulator, clock: FakeClock, database_url: str, **env: str) -> None:
        self.emu = emu
        self.clock = clock
        self.database_url = database_url
        self.env = env
        self.bot: UnstuckBot | None = None
        self._task: asyncio.Task[None] | None = None

    def settings(self) -> Settings:
        env = {"UNSTUCK_DATABASE__URL": self.database_url, "UNSTUCK_LOGGING__LEVEL": "INFO", **self.env}
        return load_settings(None, env=env)

    async def start(self, guilds: set[int]) -> UnstuckBot:
        bot = UnstuckBot(self.settings(), clock=self.clock, start_scheduler=False, guild_ready_timeout=0.1)
        self.bot = bot
        self._task = asyncio.create_task(bot.start(self.emu.token), name="bot")
        ready = asyncio.create_task(bot.wait_until_reconciled(guilds))
        done, _ = await asyncio.wait({ready, self._task}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            ready.cancel()
            self._task.result()  # raises the start-up error
            raise RuntimeError("the bot stopped during start-up")
        if ready not in done:
            ready.cancel()
            raise TimeoutError("the bot did not finish start-up in 15 s")
        return bot

    async def stop(self) -> None:
        """Close the bot and await its task, so a crash in the gateway loop fails the test."""
        if self.bot is None or self._task is None:
            return
        await self.bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._task, timeout=10)
        errors, self.bot, self._task = list(self.unexpected_errors), None, None
        if errors:
            raise AssertionError(f"the bot logged unexpected errors: {errors!r}")

    @property
    def unexpected_errors(self) -> list[BaseException]:
        return self.bot.unexpected_errors if self.bot else []


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'unstuck.db'}"


async def eventually(check, timeout: float = 5.0, what: str = "condition"):
    """Poll an async ``check`` until it returns something truthy; return that value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
