"""Ingest after the ack: inbox rows → storage → bus, in order per conversation.

The webhook handler only calls `accept()` (a durable inbox write). Everything
else happens here, off the request path: rows are read back in commit order,
their events are routed to per-conversation lanes, applied to storage inside a
transaction, and published. Rows are marked done once all their events are.
A crash leaves rows `pending`, and they are replayed at start; storage dedup
keys make replays harmless.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from gateway import fallback
from gateway.bus import Bus
from gateway.ordering import KeyedLanes
from gateway.tenants import Tenants
from storage import inbox, repo, sessions
from storage.inbox import InboxRecord, InboxWriter
from wagate.v1 import event_pb2

log = logging.getLogger("wagate.ingest")


@dataclass
class _Work:
    row_id: int
    tenant_id: str
    event: event_pb2.Event


def conversation_key(event: event_pb2.Event) -> str:
    """Events of one contact on one channel share a key, so they run in order."""
    kind = event.WhichOneof("payload")
    if kind == "message_new":
        c = event.message_new.contact
        who = c.wa_id or c.user_id
    elif kind == "message_status":
        s = event.message_status
        who = "".join(ch for ch in s.recipient_id if ch.isdigit()) or s.recipient_user_id
    else:
        who = kind or ""
    return f"{event.channel_id}|{who}"


class Ingest:
    def __init__(self, tenants: Tenants, bus: Bus, lanes: int = 16) -> None:
        self.tenants = tenants
        self.bus = bus
        self.writer = InboxWriter(on_commit=self._wake)
        self.lanes: KeyedLanes[_Work] = KeyedLanes(self._apply, lanes)
        self._wakeup = asyncio.Event()
        self._cursor = 0
        self._remaining: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None

    async def accept(self, records: list[InboxRecord]) -> None:
        """Durably record webhook deliveries; returns once committed."""
        await self.writer.write(records)

    def _wake(self) -> None:
        self._wakeup.set()

    def start(self) -> None:
        self.writer.start()
        self.lanes.start()
        self._wakeup.set()  # replay whatever a previous run left pending
        self._task = asyncio.create_task(self._run(), name="ingest")

    async def stop(self) -> None:
        await self.writer.stop()
        await self.drain()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.lanes.stop()

    async def drain(self) -> None:
        """Wait until everything committed so far has been applied (tests, shutdown)."""
        while True:
            await self.lanes.join()
            if not self._remaining and not self._wakeup.is_set():
                rows = await inbox.pending_rows(self._cursor, limit=1)
                if not rows:
                    return
            await asyncio.sleep(0.005)

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            try:
                await self._dispatch_pending()
            except Exception:
                log.exception("reading the inbox failed; retrying")
                await asyncio.sleep(1)
                self._wakeup.set()

    async def _dispatch_pending(self) -> None:
        while True:
            rows = await inbox.pending_rows(self._cursor)
            if not rows:
                return
            empty: list[int] = []
            for row in rows:
                self._cursor = row.id
                rt = self.tenants.channel(row.channel_id)
                batch = event_pb2.EventBatch.FromString(row.events)
                if rt is None or not batch.events:
                    empty.append(row.id)
                    continue
                self._remaining[row.id] = len(batch.events)
                for event in batch.events:
                    self.lanes.submit(conversation_key(event), _Work(row.id, rt.tenant_id, event))
            await inbox.mark_rows(empty, "done")

    async def _apply(self, batch: list[_Work]) -> None:
        try:
            async with in_transaction():
                published = [e for w in batch for e in await self._apply_one(w)]
            failed: dict[int, str] = {}
        except Exception:
            log.exception("batch failed; applying its events one by one")
            published, failed = [], {}
            for work in batch:
                try:
                    async with in_transaction():
                        published += await self._apply_one(work)
                except Exception as exc:
                    log.exception("event failed", extra={"inbox_row": work.row_id})
                    failed[work.row_id] = f"{type(exc).__name__}: {exc}"
        for event in published:
            await self.bus.publish(event)
        await self._finish(batch, failed)

    async def _apply_one(self, work: _Work) -> list[event_pb2.Event]:
        event = work.event
        kind = event.WhichOneof("payload")
        if kind == "message_new":
            await fallback.map_numeric_reply(event.message_new)  # issue 3 hook: menu answers
            return await repo.store_inbound(work.tenant_id, event.message_new)
        if kind == "message_status":
            return await repo.apply_status(work.tenant_id, event.channel_id, event.message_status)
        if kind == "session_updated":  # issue 3 hook: QR session state (storage/sessions.py)
            return await sessions.apply_session(work.tenant_id, event)
        return [await repo.append_event(work.tenant_id, event)]

    async def _finish(self, batch: list[_Work], failed: dict[int, str]) -> None:
        done: list[int] = []
        for work in batch:
            left = self._remaining.get(work.row_id)
            if left is None:
                continue
            if left <= 1:
                del self._remaining[work.row_id]
                if work.row_id not in failed:
                    done.append(work.row_id)
            else:
                self._remaining[work.row_id] = left - 1
        await inbox.mark_rows(done, "done")
        for row_id, error in failed.items():
            self._remaining.pop(row_id, None)
            await inbox.mark_rows([row_id], "failed", error)
