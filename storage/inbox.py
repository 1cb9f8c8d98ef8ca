"""Durable webhook inbox with group commit.

Each webhook handler awaits `InboxWriter.write()`; concurrent writes are
batched into one transaction (one fsync), so durability costs little per
request. A unique key on (channel_id, dedup_key) stores a redelivered webhook
once, whichever replica receives it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise import connections

log = logging.getLogger("wagate.inbox")

_INSERT = (
    "INSERT INTO webhook_inbox (channel_id, provider, dedup_key, body, events, state, received_at)"
    " VALUES ({p}) ON CONFLICT (channel_id, dedup_key) DO NOTHING"
)


@dataclass(frozen=True)
class InboxRecord:
    channel_id: str
    provider: str
    dedup_key: str
    body: bytes
    events: bytes
    # "unparsed" keeps a body the adapter could not read, for replay after a fix.
    state: str = "pending"


@dataclass(frozen=True)
class PendingRow:
    id: int
    channel_id: str
    events: bytes


def _placeholders(dialect: str, n: int) -> str:
    if dialect == "postgres":
        return ", ".join(f"${i}" for i in range(1, n + 1))
    return ", ".join("?" * n)


class InboxWriter:
    """Batches concurrent inserts; `write` returns once its row is committed."""

    def __init__(self, on_commit: Callable[[], None], max_batch: int = 512) -> None:
        self._queue: list[tuple[InboxRecord, asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._on_commit = on_commit
        self._max_batch = max_batch
        self._task: asyncio.Task[None] | None = None
        self._sql = ""

    def start(self) -> None:
        dialect = str(connections.get("default").capabilities.dialect)
        self._sql = _INSERT.format(p=_placeholders(dialect, 7))
        self._task = asyncio.create_task(self._run(), name="inbox-writer")

    async def stop(self) -> None:
        """Flush what is queued, then stop."""
        if self._task is None:
            return
        while self._queue:
            self._wakeup.set()
            await asyncio.sleep(0.001)
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None

    async def write(self, records: list[InboxRecord]) -> None:
        loop = asyncio.get_running_loop()
        futures = []
        for record in records:
            fut: asyncio.Future[None] = loop.create_future()
            self._queue.append((record, fut))
            futures.append(fut)
        self._wakeup.set()
        await asyncio.gather(*futures)

    async def _run(self) -> None:
        conn = connections.get("default")
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                now = datetime.now(UTC)
                rows = [
                    [r.channel_id, r.provider, r.dedup_key, r.body, r.events, r.state, now]
                    for r, _ in batch
                ]
                try:
                    await conn.execute_many(self._sql, rows)
                except Exception as exc:
                    log.exception("inbox write failed")
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for _, fut in batch:
                    if not fut.done():
                        fut.set_result(None)
                self._on_commit()


async def pending_rows(after_id: int, limit: int = 500) -> list[PendingRow]:
    """Unprocessed rows past `after_id`, oldest first."""
    from storage.models import WebhookInbox

    rows = (
        await WebhookInbox.filter(id__gt=after_id, state="pending")
        .order_by("id")
        .limit(limit)
        .values_list("id", "channel_id", "events")
    )
    return [PendingRow(int(i), str(c), bytes(e)) for i, c, e in rows]


async def mark_rows(ids: list[int], state: str, error: str | None = None) -> None:
    from storage.models import WebhookInbox

    if ids:
        await WebhookInbox.filter(id__in=ids).update(state=state, error=error)
