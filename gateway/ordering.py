"""Per-key serial execution: one conversation's work runs one item at a time,
in submission order; different conversations run in parallel.

Keys hash onto a fixed set of lanes, each drained by one task, so memory stays
bounded however many conversations exist.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class KeyedLanes(Generic[T]):
    def __init__(self, handle: Callable[[list[T]], Awaitable[None]], lanes: int = 16) -> None:
        """`handle` gets the items queued on one lane, oldest first, in small batches."""
        self._handle = handle
        self._queues: list[asyncio.Queue[T]] = [asyncio.Queue() for _ in range(lanes)]
        self._tasks: list[asyncio.Task[None]] = []
        self._max_batch = 64

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(q), name=f"lane-{i}") for i, q in enumerate(self._queues)
        ]

    def submit(self, key: str, item: T) -> None:
        self._queues[zlib.crc32(key.encode()) % len(self._queues)].put_nowait(item)

    async def _run(self, queue: asyncio.Queue[T]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self._max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self._handle(batch)
            finally:
                for _ in batch:
                    queue.task_done()

    async def join(self) -> None:
        for q in self._queues:
            await q.join()

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
