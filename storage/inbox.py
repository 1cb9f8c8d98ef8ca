"""Durable webhook inbox with group commit.

Each webhook handler awaits `InboxWriter.write()`; concurrent writes are
batched into one transaction (one fsync), so durability costs little per
request. A unique key on (channel_id, dedup_key) stores a redelivered webhook
once, whichever replica receives it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise import connections

from storage.batching import GroupCommit

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
    """Group-commits concurrent inserts; `write` returns once its rows are committed."""

    def __init__(self, on_commit: Callable[[], None], max_batch: int = 512) -> None:
        self._on_commit = on_commit
        self._commits: GroupCommit[InboxRecord, None] = GroupCommit(
            "inbox-writer", self._insert, max_batch
        )
        self._sql = ""

    def start(self) -> None:
        dialect = str(connections.get("default").capabilities.dialect)
        self._sql = _INSERT.format(p=_placeholders(dialect, 7))
        self._commits.start()

    async def stop(self) -> None:
        """Flush what is queued, then stop."""
        await self._commits.stop()

    async def write(self, records: list[InboxRecord]) -> None:
        await self._commits.submit_many(records)

    async def _insert(self, records: list[InboxRecord]) -> list[None]:
        now = datetime.now(UTC)
        rows = [
            [r.channel_id, r.provider, r.dedup_key, r.body, r.events, r.state, now] for r in records
        ]
        await connections.get("default").execute_many(self._sql, rows)
        self._on_commit()
        return [None] * len(records)


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
