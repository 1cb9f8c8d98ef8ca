"""The event log: events appended in the transaction that stores what they report,
and read back in id order to resume streams (Socket.IO, gRPC).

The row id is the event id: ids ascend in commit order, so a client that
resumes after id N misses nothing and sees nothing twice. On SQLite that holds
because there is one writer; on PostgreSQL, where several replicas write, because
every transaction that appends events holds the event-log lock from before it
draws ids until it commits (storage.locks).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from core.kinds import enum_of
from storage import models
from storage.locks import lock_event_log
from storage.sql import Columns, Sql, chunks, flat
from storage.times import now, to_ts
from wagate.v1 import event_pb2, message_pb2

E = event_pb2

_EVENT = Columns(
    "id", "tenant_id", "channel_id", "conversation_id", "kind", "payload", "created_at"
)


async def _allocate_event_ids(sql: Sql, n: int) -> list[int]:
    """Event ids, ascending, in commit order.

    SQLite has one writer (our one connection), so the next ids follow max(id).
    PostgreSQL takes them from the table's sequence, under the event-log lock:
    `writer().run` takes it first thing, and this takes it in a transaction that did
    not (right for order, but such a transaction may deadlock with one that waits
    for the lock while holding a row it wants: PostgreSQL then aborts one of them).
    """
    if sql.postgres:
        await lock_event_log(sql)
        rows = await sql.rows(
            "SELECT nextval(pg_get_serial_sequence('event_log', 'id')) AS id"
            " FROM generate_series(1, ?)",
            [n],
        )
        return sorted(int(r["id"]) for r in rows)
    rows = await sql.rows("SELECT coalesce(max(id), 0) AS id FROM event_log")
    start = int(rows[0]["id"]) + 1
    return list(range(start, start + n))


async def append_events(
    sql: Sql, items: Sequence[tuple[event_pb2.Event, str]]
) -> list[event_pb2.Event]:
    """Log events (each with its conversation id); sets each `Event.id`."""
    if not items:
        return []
    ids = await _allocate_event_ids(sql, len(items))
    at = now()
    rows = []
    for (event, conversation_id), event_id in zip(items, ids, strict=True):
        event.id = str(event_id)
        if not event.HasField("occurred_at"):
            event.occurred_at.CopyFrom(to_ts(at))
        rows.append(
            (
                event_id,
                event.tenant_id,
                event.channel_id,
                conversation_id,
                enum_of(event),
                event.SerializeToString(),
                at,
            )
        )
    for chunk in chunks(rows, _EVENT.per_statement):
        await sql.run(
            f"INSERT INTO event_log ({_EVENT}) VALUES {_EVENT.values(len(chunk))}", flat(chunk)
        )
    return [event for event, _ in items]


def message_event(msg: message_pb2.Message) -> event_pb2.Event:
    """`message_new`, occurring when the message was sent (if known)."""
    event = E.Event(tenant_id=msg.tenant_id, channel_id=msg.channel_id)
    event.message_new.CopyFrom(msg)
    if msg.HasField("timestamp"):
        event.occurred_at.CopyFrom(msg.timestamp)
    return event


def status_event(msg: message_pb2.Message, status: message_pb2.StatusUpdate) -> event_pb2.Event:
    """`message_status` of a stored message, which fills in the status's message ids."""
    status.message_id = msg.id
    status.conversation_id = msg.conversation_id
    event = E.Event(tenant_id=msg.tenant_id, channel_id=msg.channel_id, message_status=status)
    if status.HasField("timestamp"):
        event.occurred_at.CopyFrom(status.timestamp)
    return event


@dataclass(frozen=True)
class Page:
    events: list[event_pb2.Event]
    # Non-zero: the page stopped early at this row, which has no payload to decode
    # (`append_events` always writes one); the reader decides to wait or skip it.
    blocked_id: int = 0


async def events_after(
    tenant_id: str,
    after_id: int,
    *,
    channel_ids: Collection[str] = (),
    conversation_ids: Collection[str] = (),
    kinds: Collection[int] = (),
    limit: int = 500,
) -> Page:
    """The tenant's stored events with id > after_id, oldest first; empty filters match all."""
    query = models.EventLog.filter(tenant_id=tenant_id, id__gt=after_id)
    if channel_ids:
        query = query.filter(channel_id__in=list(channel_ids))
    if conversation_ids:
        query = query.filter(conversation_id__in=list(conversation_ids))
    if kinds:
        query = query.filter(kind__in=list(kinds))
    rows = await query.order_by("id").limit(limit).values_list("id", "payload")
    events: list[event_pb2.Event] = []
    for row_id, payload in rows:
        if not payload:
            return Page(events, blocked_id=int(row_id))
        event = event_pb2.Event.FromString(bytes(payload))
        event.id = str(row_id)
        events.append(event)
    return Page(events)


async def _since(sql: Sql, after_id: int, limit: int) -> list[event_pb2.Event]:
    rows = await sql.rows(
        "SELECT id, tenant_id, payload FROM event_log WHERE id > ? ORDER BY id LIMIT ?",
        [after_id, limit],
    )
    out = []
    for row in rows:
        event = event_pb2.Event.FromString(bytes(row["payload"] or b""))
        event.id = str(row["id"])
        event.tenant_id = str(row["tenant_id"])
        out.append(event)
    return out


async def events_since(after_id: int, limit: int = 500) -> list[event_pb2.Event]:
    """Every tenant's events with id > after_id, oldest first."""
    return await _since(Sql(), after_id, limit)


async def last_event_id() -> int:
    rows = await Sql().rows("SELECT coalesce(max(id), 0) AS id FROM event_log")
    return int(rows[0]["id"])
