"""Group commit: callers get their own result, a burst shares one write, a bad item fails alone."""

from __future__ import annotations

import asyncio

import pytest

from bot.services.batching import Batcher


async def test_a_burst_is_written_in_one_batch_and_each_caller_gets_its_result() -> None:
    batches: list[list[int]] = []

    async def write(items: list[int]) -> list[int]:
        batches.append(items)
        return [item * 10 for item in items]

    batcher = Batcher(write)
    results = await asyncio.gather(*(batcher.submit(n) for n in range(5)))
    assert results == [0, 10, 20, 30, 40]
    assert batches == [[0, 1, 2, 3, 4]]
    assert await batcher.submit(7) == 70  # a lone item is written at once, in its own batch


async def test_one_failing_item_does_not_fail_its_neighbours() -> None:
    async def write(items: list[int]) -> list[int]:
        if 3 in items:
            raise ValueError("item 3 is broken")
        return items

    batcher = Batcher(write)
    results = await asyncio.gather(*(batcher.submit(n) for n in range(5)), return_exceptions=True)
    assert results[:3] == [0, 1, 2] and results[4] == 4
    assert isinstance(results[3], ValueError)
    with pytest.raises(ValueError, match="broken"):
        await batcher.submit(3)


async def test_a_locked_database_fails_the_whole_batch_so_none_is_committed_ahead() -> None:
    import sqlite3

    written: list[list[int]] = []

    async def write(items: list[int]) -> list[int]:
        written.append(items)
        raise sqlite3.OperationalError("database is locked")

    batcher = Batcher(write)
    results = await asyncio.gather(*(batcher.submit(n) for n in range(3)), return_exceptions=True)
    assert all(isinstance(result, sqlite3.OperationalError) for result in results)
    assert written == [[0, 1, 2]]  # not split one by one: each caller retries in its own lane
