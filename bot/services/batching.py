"""Group commit: many callers, one transaction.

Under load, dozens of messages arrive while one transaction is being written. Writing each in its
own transaction makes them queue on the database's write lock (SQLite's busy handler sleeps);
instead, callers hand their item to a :class:`Batcher` and await its result. Whatever arrived
while the previous batch was being written goes into the next one, so a lone event is written at
once and a burst costs a few transactions. A caller still returns only after its item is
committed, so nothing is acknowledged that a crash could lose.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from storage.errors import is_transient

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)


class Batcher(Generic[T, R]):
    def __init__(
        self, handle: Callable[[list[T]], Awaitable[list[R]]], max_size: int = 500, linger: float = 0.002
    ) -> None:
        self.handle = handle
        self.max_size = max_size
        self.linger = linger
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), name="unstuck-batch-writer")
        return await future

    async def _drain(self) -> None:
        while self._pending:
            # Let handlers that are already running add their items: under load that turns many
            # one-item transactions into a few large ones, for the cost of one loop turn.
            await asyncio.sleep(self.linger)
            batch, self._pending = self._pending[: self.max_size], self._pending[self.max_size :]
            await self._write(batch)

    async def _write(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self.handle([item for item, _ in batch])
        except Exception as error:
            if len(batch) == 1 or is_transient(error):
                # A locked or unreachable database refuses every item alike: each caller retries in
                # its own lane (bot.services.lanes), and none is committed ahead of the others.
                for _, future in batch:
                    _settle(future, error=error)
                return
            # One bad item must not fail its neighbours: write them one by one to find it.
            log.warning("batch of %d failed (%r); retrying one by one", len(batch), error)
            for entry in batch:
                await self._write([entry])
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result=result)


def _settle(
    future: asyncio.Future[R], *, result: R | None = None, error: BaseException | None = None
) -> None:
    if future.done():
        return  # the caller gave up (cancelled); the write itself stands
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]
