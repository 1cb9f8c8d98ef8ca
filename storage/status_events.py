"""Delivery statuses as reported: each stored once, applied to its message in order.

Providers report statuses out of order and before we know the message (a
`delivered` can overtake the send's own answer), so every report is kept in
`status_event` with an `applied` flag, and a message moves forward through the
ones it has whenever it or a new report is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.early import by_provider_key, mark_applied, record, unapplied
from storage.events import append_events, status_event
from storage.messages import StoredMessage, messages_by_provider_id, save_status
from storage.sql import Columns, Sql, chunks, flat
from storage.status import advances
from storage.times import now
from wagate.v1 import event_pb2, message_pb2

M = message_pb2

_STATUS = Columns("channel_id", "provider_message_id", "status", "payload", "applied", "created_at")


async def apply_statuses(
    sql: Sql, items: Sequence[tuple[str, message_pb2.StatusUpdate]]
) -> list[event_pb2.Event]:
    """Record (channel, status) reports once each, and move known messages forward.

    A status for a message we do not have yet stays unapplied until it arrives.
    """
    seen: set[tuple[str, str, int]] = set()
    rows = []
    at = now()
    for channel_id, st in items:
        key = (channel_id, st.provider_message_id, st.status)
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            (channel_id, st.provider_message_id, st.status, st.SerializeToString(), False, at)
        )
    fresh = await record(sql, "status_event", _STATUS, rows)
    events: list[event_pb2.Event] = []
    if fresh:
        events = await apply_pending_statuses(sql, await messages_by_provider_id(sql, fresh))
    await _keep_pricing(sql, [(ch, st) for ch, st in items if st.HasField("pricing")])
    return events


async def _keep_pricing(sql: Sql, items: Sequence[tuple[str, message_pb2.StatusUpdate]]) -> None:
    """Pricing on the message, from every status that reports it: also from a status
    whose transition is already recorded (our own send marks SENT before Meta's
    `sent` webhook, which carries the pricing)."""
    if not items:
        return
    keys = [(channel_id, st.provider_message_id) for channel_id, st in items]
    found = by_provider_key(await messages_by_provider_id(sql, keys))
    changed: dict[str, StoredMessage] = {}
    for channel_id, st in items:
        target = found.get((channel_id, st.provider_message_id))
        if target is not None and target.message.pricing != st.pricing:
            target.message.pricing.CopyFrom(st.pricing)
            changed[target.message.id] = target
    await sql.run_many(
        "UPDATE message SET payload = ? WHERE id = ?",
        [(s.message.SerializeToString(), s.message.id) for s in changed.values()],
    )


async def apply_pending_statuses(
    sql: Sql, targets: Sequence[StoredMessage]
) -> list[event_pb2.Event]:
    """Apply stored, unapplied statuses of these messages, each in forward order."""
    by_key = by_provider_key(targets)
    pending = await unapplied(sql, "status_event", "status", by_key)
    if not pending:
        return []
    pending.sort(key=lambda r: (r["channel_id"], r["provider_message_id"], r["status"]))
    at = now()
    changed: dict[str, StoredMessage] = {}
    events: list[tuple[event_pb2.Event, str]] = []
    for r in pending:
        target = by_key[(r["channel_id"], r["provider_message_id"])]
        msg = target.message
        status = M.StatusUpdate.FromString(bytes(r["payload"]))
        if status.HasField("pricing") and msg.pricing != status.pricing:
            msg.pricing.CopyFrom(status.pricing)  # kept even when the status is stale
            changed[msg.id] = target
        if not advances(msg.status, status.status):
            continue
        msg.status = status.status
        if status.errors:
            del msg.errors[:]
            msg.errors.extend(status.errors)
        changed[msg.id] = target
        events.append((status_event(msg, status), msg.conversation_id))
    await mark_applied(sql, "status_event", [r["id"] for r in pending])
    await save_status(sql, list(changed.values()), at)
    return await append_events(sql, events)


async def record_applied(
    sql: Sql, items: Sequence[tuple[str, message_pb2.StatusUpdate]], at: datetime
) -> None:
    """Record (channel, status) transitions our own writes already made, so that the
    provider's later report of the same status is a duplicate."""
    rows = [
        (channel_id, st.provider_message_id, st.status, st.SerializeToString(), True, at)
        for channel_id, st in items
    ]
    for chunk in chunks(rows, _STATUS.per_statement):
        await sql.run(
            f"INSERT INTO status_event ({_STATUS}) VALUES {_STATUS.values(len(chunk))}"
            " ON CONFLICT (channel_id, provider_message_id, status)"
            " DO UPDATE SET applied = excluded.applied",
            flat(chunk),
        )


async def unapply(sql: Sql, channel_id: str, provider_message_id: str, except_status: int) -> None:
    """Mark a provider message id's stored statuses, all but `except_status`, unapplied:
    the next `apply_pending_statuses` of the row holding that id applies them again."""
    await sql.run(
        "UPDATE status_event SET applied = ? WHERE channel_id = ? AND provider_message_id = ?"
        " AND status <> ?",
        [False, channel_id, provider_message_id, except_status],
    )
