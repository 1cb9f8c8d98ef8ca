"""Durable webhook inbox with group commit.

Each webhook handler awaits `InboxWriter.write()`; concurrent writes are
batched into one transaction (one fsync), so durability costs little per
request. A unique key on (channel_id, dedup_key) stores a redelivered webhook
once, whichever replica receives it. On PostgreSQL each insert also NOTIFYs
`INBOX_CHANNEL` (delivered at commit), so the replica that applies the inbox
learns at once of rows another replica acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.batching import GroupCommit
from storage.sql import Columns, Sql, chunks, placeholders
from storage.times import db_text, now
from storage.writer import writer

log = logging.getLogger("wagate.inbox")

# PostgreSQL NOTIFY channel of inbox inserts; the payload names the process that
# inserted, so that it can ignore its own (it knows of them already).
INBOX_CHANNEL = "wagate_inbox"
SENDER = uuid.uuid4().hex

_COLUMNS = Columns("channel_id", "provider", "dedup_key", "body", "events", "state", "received_at")
_INSERT = (
    f"INSERT INTO webhook_inbox ({_COLUMNS}) VALUES {_COLUMNS.values(1)}"
    " ON CONFLICT (channel_id, dedup_key) DO NOTHING"
)


async def _insert(sql: Sql, records: list[InboxRecord], at: datetime, notify: bool) -> bool:
    """Insert what is new; False when every record was a redelivery (SQLite only
    tells: on PostgreSQL this is always True)."""
    # SQLite stores datetimes as text; converted once per batch, not once per row.
    stamp = at if sql.postgres else db_text(at)
    rows = [
        (r.channel_id, r.provider, r.dedup_key, r.body, r.events, r.state, stamp) for r in records
    ]
    if sql.postgres:
        await sql.run_many(_INSERT, rows)
        if notify:
            await sql.run("SELECT pg_notify(?, ?)", [INBOX_CHANNEL, SENDER])
        return True
    before = await sql.rows("SELECT total_changes() AS n")
    await sql.run_many(_INSERT, rows)
    after = await sql.rows("SELECT total_changes() AS n")
    return bool(after[0]["n"] != before[0]["n"])


# Row states, the only values `webhook_inbox.state` holds.
RAW = "raw"  # acknowledged, body not parsed yet (Provider.parse_after_ack)
PENDING = "pending"  # parsed, events not applied yet
DONE = "done"  # events applied
FAILED = "failed"  # applying the events failed; kept for replay after a fix
UNPARSED = "unparsed"  # the parser failed (our bug or a payload it rejects); kept for replay


@dataclass(frozen=True)
class InboxRecord:
    channel_id: str
    provider: str
    dedup_key: str
    body: bytes
    events: bytes
    state: str = PENDING


@dataclass(frozen=True)
class PendingRow:
    id: int
    channel_id: str
    events: bytes
    state: str = PENDING
    body: bytes = b""  # only for RAW rows


class InboxWriter:
    """Group-commits concurrent inserts; `write` returns once its rows are committed."""

    def __init__(self, on_commit: Callable[[int], None], max_batch: int = 512) -> None:
        self._on_commit = on_commit
        # Whether inserts NOTIFY (PostgreSQL): not needed while this process applies the
        # inbox itself, and notifying transactions queue for one lock at commit.
        self.notify = True
        self._commits: GroupCommit[InboxRecord, None] = GroupCommit(
            "inbox-writer", self._insert, max_batch
        )

    def start(self) -> None:
        self._commits.start()

    async def stop(self) -> None:
        """Flush what is queued, then stop."""
        await self._commits.stop()

    @property
    def idle(self) -> asyncio.Event:
        """Set while no webhook is waiting for its commit."""
        return self._commits.idle

    def write(self, records: list[InboxRecord]) -> Awaitable[Any]:
        """Await the result: it is done once every record is committed."""
        if len(records) == 1:  # the common case, without gather's overhead
            return self._commits.submit(records[0])
        return self._commits.submit_many(records)

    async def _insert(self, records: list[InboxRecord]) -> list[None]:
        if await writer().run(_insert, records, now(), self.notify, events=False):
            # How many rows were offered (PostgreSQL does not say how many were new);
            # redeliveries alone leave ingest nothing to do.
            self._on_commit(len(records))
        return [None] * len(records)


async def _pending(sql: Sql, after_id: int, limit: int) -> list[PendingRow]:
    rows = await sql.rows(
        "SELECT id, channel_id, events, state, CASE WHEN state = ? THEN body END AS body"
        " FROM webhook_inbox WHERE id > ? AND state IN (?, ?) ORDER BY id LIMIT ?",
        [RAW, after_id, PENDING, RAW, limit],
    )
    return [
        PendingRow(
            int(r["id"]),
            str(r["channel_id"]),
            bytes(r["events"]),
            r["state"],
            bytes(r["body"] or b""),
        )
        for r in rows
    ]


async def pending_rows(after_id: int, limit: int = 500) -> list[PendingRow]:
    """Unprocessed rows past `after_id`, oldest first (read on the writer's connection,
    so it sees every commit the writer has made).

    With several replicas inserting, row ids commit out of order (id 7 may commit
    after id 8 was read), so a reader that must not skip any passes `after_id=0`.
    """
    return await writer().read(_pending, after_id, limit)


async def _count(sql: Sql) -> int:
    rows = await sql.rows(
        "SELECT count(*) AS n FROM webhook_inbox WHERE state IN (?, ?)", [PENDING, RAW]
    )
    return int(rows[0]["n"])


async def pending_count() -> int:
    """Rows acknowledged and not applied yet, by every replica."""
    return await writer().read(_count)


async def claim(sql: Sql, ids: Sequence[int]) -> set[int]:
    """Mark rows done, inside the caller's transaction, and return those that were
    still to apply: a row another applier finished meanwhile is not applied twice
    (this UPDATE waits for its transaction, then no longer matches it)."""
    claimed: set[int] = set()
    for chunk in chunks(ids):
        rows = await sql.rows(
            f"UPDATE webhook_inbox SET state = ?, error = NULL WHERE id IN ({placeholders(chunk)})"
            " AND state IN (?, ?) RETURNING id",
            [DONE, *chunk, PENDING, RAW],
        )
        claimed.update(int(r["id"]) for r in rows)
    return claimed


async def mark(sql: Sql, ids: Sequence[int], state: str, error: str | None = None) -> None:
    """Set rows' state (and error), inside the caller's transaction."""
    for chunk in chunks(ids):
        await sql.run(
            f"UPDATE webhook_inbox SET state = ?, error = ? WHERE id IN ({placeholders(chunk)})",
            [state, error, *chunk],
        )


async def mark_rows(ids: list[int], state: str, error: str | None = None) -> None:
    """`mark` in a transaction of its own."""
    if ids:
        await writer().run(mark, ids, state, error, events=False)
