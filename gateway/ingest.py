"""Ingest after the ack: inbox rows → storage → bus, in batches, in order.

The webhook handler only calls `accept()` (a durable inbox write). Everything
else happens here, off the request path: one task reads committed rows back in
commit order and applies all their events in one transaction, a few
statements per table (storage.inbound, storage.status_events, ...), marking
the rows done in the same transaction. Events are then published in event-id
order. A crash leaves rows `pending`, and they are replayed at start; storage
dedup keys make replays harmless.

Order: events are applied in "waves". An event joins the wave of the previous
event of its conversation unless its kind differs, in which case it starts the
next wave. Waves run in order, so each conversation sees its events in arrival
order, while a homogeneous burst is still one wave and a handful of statements.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core import kinds
from core.kinds import Kind
from core.metrics import INGEST_APPLY_SECONDS
from gateway import fallback
from gateway.bus import Bus
from gateway.tenants import Tenants
from providers.base import Capabilities, WebhookRequest
from storage import contact_events, inbox, message_changes, sessions, templates
from storage.events import append_events
from storage.inbound import store_inbound
from storage.inbox import DONE, FAILED, RAW, UNPARSED, InboxRecord, InboxWriter, PendingRow
from storage.sql import Sql
from storage.status_events import apply_statuses
from storage.writer import writer
from wagate.v1 import event_pb2

log = logging.getLogger("wagate.ingest")

Item = tuple[str, event_pb2.Event]  # (tenant id, event)
Applier = Callable[[Sql, Sequence[Item]], Awaitable[list[event_pb2.Event]]]
Prepare = Callable[[event_pb2.Event, Capabilities], Awaitable[None]]


async def _messages(sql: Sql, items: Sequence[Item]) -> list[event_pb2.Event]:
    return await store_inbound(sql, [(t, e.message_new) for t, e in items])


async def _statuses(sql: Sql, items: Sequence[Item]) -> list[event_pb2.Event]:
    return await apply_statuses(sql, [(e.channel_id, e.message_status) for _, e in items])


async def _sessions(sql: Sql, items: Sequence[Item]) -> list[event_pb2.Event]:
    return await sessions.apply_sessions(sql, items)


async def _record(sql: Sql, items: Sequence[Item]) -> list[event_pb2.Event]:
    for tenant_id, event in items:
        event.tenant_id = tenant_id
    return await append_events(sql, [(e, kinds.conversation_of(e)) for _, e in items])


async def _numeric_reply(event: event_pb2.Event, caps: Capabilities) -> None:
    if not (caps.buttons and caps.lists):  # only such channels get numbered menus
        await fallback.map_numeric_reply(event.message_new)  # "2" → the option's id


async def _render_qr(event: event_pb2.Event, caps: Capabilities) -> None:
    await sessions.render_qr(event)


@dataclass(frozen=True)
class Storing:
    """How ingest stores a kind: work outside the transaction, then a batch write in it."""

    apply: Applier
    prepare: Prepare | None = None


# The kinds (core.kinds) with tables of their own. Every other kind is appended to
# the event log as it is.
STORING: dict[Kind, Storing] = {
    kinds.MESSAGE_NEW: Storing(_messages, prepare=_numeric_reply),
    kinds.MESSAGE_STATUS: Storing(_statuses),
    kinds.SESSION_UPDATED: Storing(_sessions, prepare=_render_qr),
    kinds.MESSAGE_UPDATED: Storing(message_changes.apply_changes),
    kinds.MESSAGE_DELETED: Storing(message_changes.apply_changes),
    kinds.TEMPLATE_UPDATED: Storing(templates.apply_templates),
    kinds.CONTACT_UPDATED: Storing(contact_events.apply_contact_updates),
    kinds.CALL: Storing(contact_events.apply_calls),
}
LOGGED = Storing(_record)


def storing(kind: Kind | None) -> Storing:
    return STORING.get(kind, LOGGED) if kind is not None else LOGGED


async def prepare(event: event_pb2.Event, caps: Capabilities) -> None:
    """Work that must not run inside the write transaction: reads and slow CPU."""
    step = storing(kinds.kind_of(event)).prepare
    if step is not None:
        await step(event, caps)


def waves(items: Sequence[Item]) -> list[dict[Kind | None, list[Item]]]:
    """Split a batch into ordered waves of {kind: items}; see the module docstring."""
    out: list[dict[Kind | None, list[Item]]] = []
    last: dict[str, tuple[Kind | None, int]] = {}
    for item in items:
        event = item[1]
        kind = kinds.kind_of(event)
        key = kinds.ordering_key(event)
        prev = last.get(key)
        wave = 0 if prev is None else prev[1] + (prev[0] != kind)
        last[key] = (kind, wave)
        while len(out) <= wave:
            out.append({})
        out[wave].setdefault(kind, []).append(item)
    return out


class Ingest:
    def __init__(
        self,
        tenants: Tenants,
        bus: Bus,
        batch: int = 200,
        max_defer: float = 0.25,
        max_backlog: int = 0,
    ) -> None:
        self.tenants = tenants
        self.bus = bus
        self.batch = batch
        self.max_defer = max_defer
        self.max_backlog = max_backlog  # 0: no bound
        self.writer = InboxWriter(on_commit=self._committed)
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._cursor = 0
        self._backlog = 0
        self._task: asyncio.Task[None] | None = None

    def accept(self, records: list[InboxRecord]) -> Awaitable[Any]:
        """Durably record webhook deliveries: await the result, done once committed."""
        return self.writer.write(records)

    @property
    def backlog(self) -> int:
        """Rows this process committed and has not applied yet.

        Counted in memory, so that the check costs nothing per webhook: committed rows
        add, applied rows subtract, and it is reset to 0 whenever the inbox is found
        empty (PostgreSQL counts redeliveries in until then). Rows a previous run left
        pending are not counted.
        """
        return self._backlog

    def over_bound(self) -> bool:
        """True while new webhooks should be refused (503) so the providers retry later."""
        return 0 < self.max_backlog <= self._backlog

    def _committed(self, rows: int) -> None:
        self._backlog += rows
        self._wake()

    def _wake(self) -> None:
        self._idle.clear()
        self._wakeup.set()

    def start(self) -> None:
        self.writer.start()
        self._wake()  # replay whatever a previous run left pending
        self._task = asyncio.create_task(self._run(), name="ingest")

    async def stop(self) -> None:
        await self.writer.stop()
        await self.drain()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def drain(self) -> None:
        """Wait until everything committed so far has been applied (tests, shutdown)."""
        await self._idle.wait()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            try:
                while rows := await inbox.pending_rows(self._cursor, limit=self.batch):
                    await self._yield_to_acks()
                    await self._process(rows)
                    self._cursor = rows[-1].id
                    self._backlog = max(self._backlog - len(rows), 0)
            except Exception:
                log.exception("reading the inbox failed; retrying")
                await asyncio.sleep(1)
                self._wakeup.set()
                continue
            if not self._wakeup.is_set():  # nothing committed since the empty read
                self._backlog = 0
                self._idle.set()

    async def _yield_to_acks(self) -> None:
        """Acks first: while webhooks wait for their commit, processing waits too.

        In a burst this lets the gateway acknowledge at nearly its ack-only rate while
        the durable inbox absorbs the backlog; processing catches up as soon as the
        burst eases, and never waits longer than `max_defer` per batch.
        """
        try:
            await asyncio.wait_for(self.writer.idle.wait(), self.max_defer)
        except TimeoutError:
            pass

    def _items(self, row: PendingRow) -> list[Item]:
        ch = self.tenants.channel(row.channel_id)
        if ch is None:  # the channel left the config: nothing to apply it to
            return []
        if row.state == RAW:  # acknowledged before parsing (Provider.parse_after_ack)
            provider = ch.provider
            events = provider.parse(WebhookRequest(body=row.body), provider.decode(row.body))
        else:
            events = list(event_pb2.EventBatch.FromString(row.events).events)
        return [(ch.tenant_id, e) for e in events]

    async def _parsed(self, rows: list[PendingRow]) -> tuple[list[PendingRow], list[Item]]:
        """The rows' events; a raw body the parser rejects is set aside as `unparsed`."""
        good: list[PendingRow] = []
        items: list[Item] = []
        for row in rows:
            try:
                items += self._items(row)
                good.append(row)
            except Exception as exc:
                log.exception("parser failed; stored unparsed", extra={"inbox_row": row.id})
                await inbox.mark_rows([row.id], UNPARSED, f"{type(exc).__name__}: {exc}")
        return good, items

    async def _process(self, rows: list[PendingRow]) -> None:
        try:
            rows, items = await self._parsed(rows)
            for _, event in items:
                ch = self.tenants.channel(event.channel_id)
                await prepare(event, ch.provider.capabilities if ch else Capabilities())
            published = await self._apply(rows, items)
        except Exception:
            log.exception("batch failed; applying its rows one by one")
            published = []
            for row in rows:
                try:
                    published += await self._apply([row], (await self._parsed([row]))[1])
                except Exception as exc:
                    log.exception("inbox row failed", extra={"inbox_row": row.id})
                    await inbox.mark_rows([row.id], FAILED, f"{type(exc).__name__}: {exc}")
        for event in published:
            await self.bus.publish(event)

    async def _apply(self, rows: list[PendingRow], items: list[Item]) -> list[event_pb2.Event]:
        with INGEST_APPLY_SECONDS.time():
            return await writer().run(_apply_rows, [r.id for r in rows], items)


async def _apply_rows(sql: Sql, row_ids: list[int], items: list[Item]) -> list[event_pb2.Event]:
    """One transaction: every event of the rows, then the rows marked done."""
    published: list[event_pb2.Event] = []
    for wave in waves(items):
        for kind, group in wave.items():
            published += await storing(kind).apply(sql, group)
    await inbox.mark(sql, row_ids, DONE)
    return published
