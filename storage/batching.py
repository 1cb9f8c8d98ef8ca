"""Group commit: many concurrent callers, one transaction.

Each caller awaits `submit(item)`; a single task takes everything queued, hands
the whole batch to `apply`, and resolves every caller with its own result. A
batch that fails is retried item by item, so one bad item fails alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger("wagate.batching")


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        name: str,
        apply: Callable[[list[T]], Awaitable[list[R]]],
        max_batch: int = 256,
    ) -> None:
        self.name = name
        self._apply = apply
        self._max_batch = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._wakeup = asyncio.Event()
        self.idle = asyncio.Event()  # nothing queued, nothing committing
        self.idle.set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Finish what is queued, then stop."""
        if self._task is None:
            return
        while self._queue:
            self._wakeup.set()
            await asyncio.sleep(0.001)
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    # Plain functions returning the future, not coroutines: a webhook awaits this on
    # every request, and each coroutine layer costs a frame on suspend and resume.
    def submit(self, item: T) -> asyncio.Future[R]:
        fut: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, fut))
        self.idle.clear()
        self._wakeup.set()
        return fut

    def submit_many(self, items: list[T]) -> asyncio.Future[list[R]]:
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[R]] = []
        for item in items:
            fut: asyncio.Future[R] = loop.create_future()
            self._queue.append((item, fut))
            futures.append(fut)
        self.idle.clear()
        self._wakeup.set()
        return asyncio.gather(*futures)

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._commit(batch)
            self.idle.set()

    async def _commit(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._apply([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                log.exception("group commit failed", extra={"batch": self.name})
                _resolve(batch[0][1], exc=exc)
                return
            for one in batch:  # isolate the item that broke the batch
                await self._commit([one])
            return
        for (_, fut), result in zip(batch, results, strict=True):
            _resolve(fut, result=result)


def _resolve(fut: asyncio.Future[R], result: R | None = None, exc: Exception | None = None) -> None:
    if fut.done():  # the caller was cancelled; its item was still committed
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)  # type: ignore[arg-type]
