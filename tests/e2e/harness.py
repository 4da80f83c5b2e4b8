"""The e2e world: the loopback Discord emulator, a small community in it, and the real bot.

Tests act as people through the emulator's driver and read what the bot did from the emulator's
state and the database. The bot is the production ``UnstuckBot``; only the clock is a test clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import discord

from bot.app import HANDLER_TASKS
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


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'unstuck.db'}"


async def eventually(check, timeout: float = 60.0, what: str = "condition"):
    """Poll an async ``check`` until it returns something truthy; return that value.

    It waits for a positive outcome, so the timeout only bounds a real failure: generous, because a
    loaded 2-core machine once took more than 5 s to handle one edit.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def handled(
    bot: discord.Client,
    event: str,
    check: Callable[..., bool] = lambda *_: True,
    timeout: float = 10.0,
) -> AsyncIterator[None]:
    """Around what a user does: on leaving the block, wait until the bot has processed it.

    That is: the bot received ``event`` (discord.py's name, e.g. ``raw_reaction_add``) matching
    ``check``, and every event, command and button handler it had started by then has finished.
    The gateway delivers in order, so earlier events of the block are covered too. This is the
    positive proof a test needs before asserting that an action changed nothing: the bot has
    decided, rather than merely been quiet for a while. Entered before acting, as the event
    may arrive at once.
    """
    received = asyncio.ensure_future(bot.wait_for(event, check=check, timeout=timeout))
    try:
        yield
    except BaseException:
        received.cancel()
        raise
    try:
        await received
    except TimeoutError:
        raise TimeoutError(f"the bot did not receive {event} within {timeout} s") from None
    await handlers_finished(timeout)


async def handlers_finished(timeout: float = 10.0) -> None:
    """Wait for every handler task the bot has started so far (the names discord.py gives them),
    and for the ones they started in turn (the delivery of what a handler owed Discord)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        running = [
            task
            for task in asyncio.all_tasks()
            if task is not asyncio.current_task()
            and not task.done()
            and task.get_name().startswith(HANDLER_TASKS)
        ]
        if not running:
            return
        left = max(0.0, deadline - asyncio.get_running_loop().time())
        _, unfinished = await asyncio.wait(running, timeout=left)
        if unfinished:
            names = sorted(task.get_name() for task in unfinished)
            raise TimeoutError(f"bot handlers still running after {timeout} s: {names}")


class LogGuard(logging.Handler):
    """Collects every ERROR (or worse) record: an e2e test fails if anything reached the log that way."""

    WATCHED = ("bot", "cogs", "storage", "discord", "apscheduler")

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in self.WATCHED:
            self.records.append(record)

    def __enter__(self) -> LogGuard:
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self)

    def messages(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()} {r.exc_info[1] if r.exc_info else ''}" for r in self.records]


def unexpected_pings(emu: Emulator, allowed_roles: set[int]) -> list[dict[str, object]]:
    """Bot messages that would ping @everyone/@here, any user, or a role nobody configured."""
    return [
        ping
        for ping in emu.pings
        if ping["everyone"] or ping["users"] or not set(ping["roles"]) <= allowed_roles
    ]
