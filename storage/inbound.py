"""Storing inbound messages: contact, conversation, message row and events, per batch."""

from __future__ import annotations

from collections.abc import Sequence

from storage.contacts import conversations_of
from storage.events import append_events, message_event
from storage.ids import new_id
from storage.message_changes import apply_pending_changes
from storage.messages import StoredMessage, insert_messages
from storage.sql import Sql
from storage.status_events import apply_pending_statuses
from storage.times import from_ts, now
from wagate.v1 import event_pb2, message_pb2


async def store_inbound(
    sql: Sql, items: Sequence[tuple[str, message_pb2.Message]]
) -> list[event_pb2.Event]:
    """Store (tenant id, message) pairs once each, by their provider message id;
    returns the `message_new` events, then those of the statuses, edits and revokes
    that arrived first."""
    if not items:
        return []
    at = now()
    conversations = await conversations_of(
        sql,
        [(t, m.channel_id, m.contact, from_ts(m.timestamp) or at) for t, m in items],
        at,
    )
    stored = []
    for (tenant_id, m), conversation_id in zip(items, conversations, strict=True):
        m.id = new_id("msg")
        m.tenant_id = tenant_id
        m.conversation_id = conversation_id
        stored.append(StoredMessage(m))
    inserted = await insert_messages(sql, stored, at, None)
    new = [s for s in stored if s.message.id in inserted]
    events = await append_events(
        sql, [(message_event(s.message), s.message.conversation_id) for s in new]
    )
    known = [s for s in new if s.message.provider_message_id]
    events += await apply_pending_statuses(sql, known)
    return events + await apply_pending_changes(sql, known)
