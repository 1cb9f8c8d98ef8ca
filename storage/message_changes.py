"""Edits and revokes: they change a stored message instead of adding one.

Each change is recorded once (by the provider's id of the edit or revoke) and
applied to its message as soon as that message is stored: a change that arrives
first waits, like an early status. An edit keeps the replaced content in the
message's `revisions`; a revoke sets `deleted_at` and keeps the content, so what
was received is never lost. Both return the events to publish
(`message_updated`, `message_deleted`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.early import by_provider_key, mark_applied, record, unapplied
from storage.events import append_events
from storage.messages import StoredMessage, content_type, messages_by_provider_id
from storage.sql import Columns, Sql
from storage.times import now, to_ts
from wagate.v1 import event_pb2, message_pb2

Item = tuple[str, event_pb2.Event]  # (tenant id, message_updated or message_deleted event)

_CHANGE = Columns(
    "channel_id", "provider_message_id", "change_id", "payload", "applied", "created_at"
)


def _target(event: event_pb2.Event) -> tuple[str, str]:
    """(provider id of the message changed, provider id of the change)."""
    if event.HasField("message_deleted"):
        d = event.message_deleted
        return d.provider_message_id, d.revoke_id
    m = event.message_updated
    return m.provider_message_id, m.revisions[0].edit_id if m.revisions else ""


async def apply_changes(sql: Sql, items: Sequence[Item]) -> list[event_pb2.Event]:
    """Record edits and revokes once each; apply those whose message is stored."""
    at = now()
    rows = []
    seen: set[tuple[str, str]] = set()
    for _, event in items:
        original, change_id = _target(event)
        # A change without an id of its own is keyed by its message and time.
        change_id = change_id or f"{original}@{event.occurred_at.ToNanoseconds()}"
        if not original or (event.channel_id, change_id) in seen:
            continue
        seen.add((event.channel_id, change_id))
        rows.append((event.channel_id, original, change_id, event.SerializeToString(), False, at))
    fresh = await record(sql, "message_change", _CHANGE, rows)
    if not fresh:
        return []
    return await apply_pending_changes(sql, await messages_by_provider_id(sql, fresh))


async def apply_pending_changes(
    sql: Sql, targets: Sequence[StoredMessage]
) -> list[event_pb2.Event]:
    """Apply the recorded, unapplied changes of these messages, oldest first."""
    by_key = by_provider_key(targets)
    pending = await unapplied(sql, "message_change", "change_id", by_key)
    if not pending:
        return []
    changes = [(r, event_pb2.Event.FromString(bytes(r["payload"]))) for r in pending]
    changes.sort(key=lambda rc: (rc[1].occurred_at.ToNanoseconds(), rc[0]["id"]))
    at = now()
    changed: dict[str, StoredMessage] = {}
    events: list[tuple[event_pb2.Event, str]] = []
    for row, change in changes:
        target = by_key[(row["channel_id"], row["provider_message_id"])]
        event = _apply(target.message, change)
        changed[target.message.id] = target
        events.append((event, target.message.conversation_id))
    await mark_applied(sql, "message_change", [r["id"] for r in pending])
    await _save(sql, list(changed.values()), at)
    return await append_events(sql, events)


def _apply(msg: message_pb2.Message, change: event_pb2.Event) -> event_pb2.Event:
    """Change `msg` in place; the event that says so."""
    event = event_pb2.Event(
        tenant_id=msg.tenant_id, channel_id=msg.channel_id, occurred_at=change.occurred_at
    )
    if change.HasField("message_deleted"):
        d = change.message_deleted
        if not msg.HasField("deleted_at"):
            msg.deleted_at.CopyFrom(d.deleted_at)
        deleted = event.message_deleted
        deleted.CopyFrom(d)
        deleted.message_id = msg.id
        deleted.conversation_id = msg.conversation_id
        deleted.contact.CopyFrom(msg.contact)
        return event
    edit = change.message_updated
    revision = message_pb2.MessageRevision(
        replaced_at=edit.edited_at, edit_id=edit.revisions[0].edit_id if edit.revisions else ""
    )
    newer = not msg.HasField("edited_at") or (
        edit.edited_at.ToNanoseconds() >= msg.edited_at.ToNanoseconds()
    )
    if newer:  # the content it replaces becomes history
        _copy_content(msg, revision.content)
        _copy_content(edit, msg)
        msg.edited_at.CopyFrom(edit.edited_at)
    else:  # an older edit arriving late is history only
        _copy_content(edit, revision.content)
    msg.revisions.append(revision)
    msg.revisions.sort(key=lambda r: r.replaced_at.ToNanoseconds())
    event.message_updated.CopyFrom(msg)
    return event


def _copy_content(src: message_pb2.Message, dst: message_pb2.Message) -> None:
    field = src.WhichOneof("content")
    if field is not None:
        getattr(dst, field).CopyFrom(getattr(src, field))


async def _save(sql: Sql, targets: Sequence[StoredMessage], at: datetime) -> None:
    for s in targets:
        s.message.updated_at.CopyFrom(to_ts(at))
    await sql.run_many(
        "UPDATE message SET payload = ?, content_type = ?, updated_at = ? WHERE id = ?",
        [
            (s.message.SerializeToString(), content_type(s.message), at, s.message.id)
            for s in targets
        ],
    )
