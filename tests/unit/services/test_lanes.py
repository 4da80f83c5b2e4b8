"""Lanes: events of one channel in order, retried through database hiccups, parked when they persist."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.services.lanes import Lanes
from storage.errors import is_transient

GUILD = 1


def locked() -> sqlite3.OperationalError:
    return sqlite3.OperationalError("database is locked")


async def test_a_refused_event_is_retried_and_later_events_of_its_lane_wait_for_it() -> None:
    lanes = Lanes(is_transient, delays=(0.0, 0.0))
    done: list[str] = []
    refusals = iter([locked()])

    async def first() -> None:
        error = next(refusals, None)
        if error is not None:
            raise error
        done.append("first")

    async def second() -> None:
        done.append("second")

    async def elsewhere() -> None:
        done.append("elsewhere")

    await asyncio.gather(
        lanes.run(GUILD, (10,), first), lanes.run(GUILD, (10,), second), lanes.run(GUILD, (20,), elsewhere)
    )
    assert done.index("first") < done.index("second")
    assert lanes.failed_attempts == 1 and lanes.parked_guilds() == set()


async def test_an_event_refused_every_time_parks_its_lanes_until_the_catch_up() -> None:
    lanes = Lanes(is_transient, delays=(0.0,))

    async def refused() -> None:
        raise locked()

    async def later() -> str:
        return "ran"

    assert await lanes.run(GUILD, (10, 11), refused) is None
    assert lanes.failed_attempts == 2 and lanes.parked_guilds() == {GUILD}
    assert await lanes.run(GUILD, (11,), later) is None  # left to the catch-up, like the refused one
    assert await lanes.run(GUILD, (12,), later) == "ran"  # other lanes go on
    lanes.unpark(GUILD)
    assert await lanes.run(GUILD, (11,), later) == "ran"


async def test_other_errors_are_not_retried_and_nested_runs_share_the_lane() -> None:
    lanes = Lanes(is_transient, delays=(0.0,))

    async def broken() -> None:
        raise ValueError("a bug, not a hiccup")

    with pytest.raises(ValueError):
        await lanes.run(GUILD, (10,), broken)
    assert lanes.failed_attempts == 0 and lanes.parked_guilds() == set()

    async def inner() -> str:
        return "inner"

    async def outer() -> str | None:
        return await lanes.run(GUILD, (10,), inner)  # would wait for itself without the shared lane

    assert await asyncio.wait_for(lanes.run(GUILD, (10,), outer), 5) == "inner"
