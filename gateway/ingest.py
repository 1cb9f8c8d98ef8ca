"""Ingest after the ack: inbox rows → storage → bus, in batches, in order.

The webhook handler only calls `accept()` (a durable inbox write). Everything
else happens here, off the request path: one task reads committed rows back in
commit order and applies all their events in one transaction, a few
statements per table (storage.inbound, storage.status_events, ...), marking
the rows done in the same transaction. Events are then published in event-id
order. A crash leaves rows `pending`, and they are replayed at start; storage
dedup keys make replays harmless.

One applier at a time: on PostgreSQL the inbox is shared by every replica, and
only the replica holding the inbox-applier lock (storage.locks, a session-level
advisory lock) applies it; the others only acknowledge. They try the lock every
`poll` seconds, so when the holder dies its session ends, the lock is free, and a
survivor takes over and applies every pending row, whoever acknowledged it. Inbox
inserts NOTIFY at commit, so the applier learns at once of other replicas' rows.
Each transaction claims its rows first (storage.inbox.claim), so even two
appliers for a moment (a lock connection lost mid-batch) never apply a row twice.

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
from storage.inbox import FAILED, RAW, UNPARSED, InboxRecord, InboxWriter, PendingRow
from storage.locks import INBOX_APPLIER, SessionLock, is_postgres
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


Parsed = list[tuple[PendingRow, list[Item]]]  # inbox rows and their events


class Ingest:
    def __init__(
        self,
        tenants: Tenants,
        bus: Bus,
        batch: int = 200,
        max_defer: float = 0.25,
        max_backlog: int = 0,
        poll: float = 1.0,
    ) -> None:
        self.tenants = tenants
        self.bus = bus
        self.batch = batch
        self.max_defer = max_defer
        self.max_backlog = max_backlog  # 0: no bound
        self.poll = poll  # PostgreSQL: how often the applier lock and the backlog are checked
        self.writer = InboxWriter(on_commit=self._committed)
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._cursor = 0
        self._backlog = 0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        # PostgreSQL only: the applier lock, and the task that keeps or takes it.
        self._lock: SessionLock | None = None
        self._watch_task: asyncio.Task[None] | None = None

    def accept(self, records: list[InboxRecord]) -> Awaitable[Any]:
        """Durably record webhook deliveries: await the result, done once committed."""
        return self.writer.write(records)

    @property
    def backlog(self) -> int:
        """Rows acknowledged and not applied yet, as far as this process knows.

        Kept so that the check costs nothing per webhook. On SQLite (one process) it is
        counted in memory: committed rows add, applied rows subtract, and it is reset
        to 0 whenever the inbox is found empty (rows a previous run left pending are not
        counted). On PostgreSQL the inbox is shared and one replica applies it, so
        every replica sets it to the count of pending rows, all replicas' together,
        every `poll` seconds, and adds its own commits in between.
        """
        return self._backlog

    @property
    def leading(self) -> bool:
        """True when this process applies the inbox (always, on SQLite)."""
        return self._lock is None or self._lock.held

    def over_bound(self) -> bool:
        """True while new webhooks should be refused (503) so the providers retry later."""
        return 0 < self.max_backlog <= self._backlog

    def _committed(self, rows: int) -> None:
        self._backlog += rows
        self._wake()

    def _notified(self, sender: str) -> None:
        """Another replica committed inbox rows (its own commits wake it directly)."""
        if sender != inbox.SENDER:
            self._wake()

    def _wake(self) -> None:
        self._idle.clear()
        self._wakeup.set()

    def start(self) -> None:
        self.writer.start()
        if is_postgres():
            self._lock = SessionLock(INBOX_APPLIER, inbox.INBOX_CHANNEL, self._notified)
            self._watch_task = asyncio.create_task(self._watch(), name="ingest-applier-lock")
        self._wake()  # replay whatever a previous run left pending
        self._task = asyncio.create_task(self._run(), name="ingest")

    async def stop(self) -> None:
        await self.writer.stop()
        if self._lock is None:
            await self.drain()
        # PostgreSQL: finish the batch in hand; what is left is the next applier's.
        self._stopping = True
        self._wakeup.set()
        if self._task:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 5)
            except TimeoutError:
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._watch_task:
            self._watch_task.cancel()
            await asyncio.gather(self._watch_task, return_exceptions=True)
        if self._lock is not None:
            await self._lock.close()

    async def drain(self) -> None:
        """Wait until everything committed so far has been applied (tests, shutdown);
        on a replica that does not hold the applier lock, until it has nothing to do."""
        await self._idle.wait()

    async def _watch(self) -> None:
        """PostgreSQL: keep or take the applier lock, and refresh the backlog count."""
        assert self._lock is not None
        while True:
            was = self._lock.held
            held = await self._lock.poll()
            self.writer.notify = not held  # the applier wakes itself on its own commits
            if held and not was:
                log.info("applying the inbox: took the applier lock")
            if held:  # every pending row, whichever replica acknowledged it, even a
                self._wake()  # row whose NOTIFY was lost (a reconnect) or never sent
            try:
                self._backlog = await inbox.pending_count()
            except Exception as exc:  # the database is down: /readyz and webhooks say so
                log.debug("counting the inbox failed", extra={"error": str(exc)})
            await asyncio.sleep(self.poll)

    async def _run(self) -> None:
        while not self._stopping:
            await self._wakeup.wait()
            self._wakeup.clear()
            if not self.leading:  # another replica applies the inbox
                self._idle.set()
                continue
            # SQLite: one writer, so ids commit in order and a cursor skips nothing.
            # PostgreSQL: replicas' rows commit out of id order; always from the start.
            after = 0 if self._lock is not None else self._cursor
            try:
                while (
                    not self._stopping
                    and self.leading
                    and (rows := await inbox.pending_rows(after, self.batch))
                ):
                    await self._yield_to_acks()
                    await self._process(rows)
                    self._cursor = rows[-1].id
                    after = 0 if self._lock is not None else self._cursor
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

    async def _parsed(self, rows: list[PendingRow]) -> Parsed:
        """The rows' events; a raw body the parser rejects is set aside as `unparsed`."""
        parsed: Parsed = []
        for row in rows:
            try:
                parsed.append((row, self._items(row)))
            except Exception as exc:
                log.exception("parser failed; stored unparsed", extra={"inbox_row": row.id})
                await inbox.mark_rows([row.id], UNPARSED, f"{type(exc).__name__}: {exc}")
        return parsed

    async def _process(self, rows: list[PendingRow]) -> None:
        try:
            parsed = await self._parsed(rows)
            for _, items in parsed:
                for _, event in items:
                    ch = self.tenants.channel(event.channel_id)
                    await prepare(event, ch.provider.capabilities if ch else Capabilities())
            published = await self._apply(parsed)
        except Exception:
            log.exception("batch failed; applying its rows one by one")
            published = []
            for row in rows:
                try:
                    published += await self._apply(await self._parsed([row]))
                except Exception as exc:
                    log.exception("inbox row failed", extra={"inbox_row": row.id})
                    await inbox.mark_rows([row.id], FAILED, f"{type(exc).__name__}: {exc}")
        for event in published:
            await self.bus.publish(event)

    async def _apply(self, parsed: Parsed) -> list[event_pb2.Event]:
        with INGEST_APPLY_SECONDS.time():
            return await writer().run(_apply_rows, parsed)


async def _apply_rows(sql: Sql, parsed: Parsed) -> list[event_pb2.Event]:
    """One transaction: the rows claimed (marked done), then the events of those claimed."""
    claimed = await inbox.claim(sql, [row.id for row, _ in parsed])
    items = [item for row, row_items in parsed if row.id in claimed for item in row_items]
    published: list[event_pb2.Event] = []
    for wave in waves(items):
        for kind, group in wave.items():
            published += await storing(kind).apply(sql, group)
    return published
