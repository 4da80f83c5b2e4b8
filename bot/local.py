"""Running the real bot against a local emulator: shared by `unstuck demo` and the e2e tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from bot.app import UnstuckBot
from bot.clock import FakeClock
from bot.config import Settings, load_settings
from emulator import Emulator

START_TIMEOUT = 15.0


class BotRunner:
    """Starts, stops and restarts the real bot against the emulator, on one database."""

    def __init__(
        self, emu: Emulator, clock: FakeClock, database_url: str, env: Mapping[str, str] | None = None
    ):
        self.emu = emu
        self.clock = clock
        self.database_url = database_url
        self.env = dict(env or {})
        self.bot: UnstuckBot | None = None
        self._task: asyncio.Task[None] | None = None

    def settings(self) -> Settings:
        env = {"UNSTUCK_DATABASE__URL": self.database_url, **self.env}
        return load_settings(None, env=env)

    async def start(self, guilds: set[int]) -> UnstuckBot:
        """Start the bot and wait until it caught up with ``guilds``; raise if start-up fails."""
        bot = UnstuckBot(self.settings(), clock=self.clock, start_scheduler=False, guild_ready_timeout=0.1)
        self.bot = bot
        self._task = asyncio.create_task(bot.start(self.emu.token), name="unstuck-bot")
        ready = asyncio.create_task(bot.wait_until_reconciled(guilds))
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if self._task in done:
                self._task.result()  # raises the start-up error
                raise RuntimeError("the bot stopped during start-up")
            raise TimeoutError(f"the bot did not finish start-up in {START_TIMEOUT:.0f} s")
        # And the paced comparison of reactions in threads that did not change: a test sees all
        # a restart owes applied.
        await bot.services.catch_up.reactions.settled()
        return bot

    async def stop(self) -> list[BaseException]:
        """Close the bot and await its task (so a crash in the gateway loop surfaces).

        Returns the unexpected errors the bot logged while it ran.
        """
        if self.bot is None or self._task is None:
            return []
        bot, task = self.bot, self._task
        self.bot, self._task = None, None
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
        return list(bot.unexpected_errors)
