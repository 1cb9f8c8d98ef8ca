"""Storing inbound messages: contact, conversation, message row and events, per batch."""

from __future__ import annotations

from collections.abc import Sequence

from storage.contacts import contact_key, upsert_contacts, upsert_conversations
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
    returns the `message_new` events, then those of statuses that arrived first."""
    if not items:
        return []
    at = now()
    contacts = await upsert_contacts(
        sql, [(tenant_id, m.channel_id, m.contact) for tenant_id, m in items], at
    )

    # Each message's (channel, contact id): the key of its conversation.
    keys = [(m.channel_id, contacts[(m.channel_id, contact_key(m.contact))][0]) for _, m in items]
    conversations = await upsert_conversations(
        sql,
        [
            (tenant_id, channel_id, contact_id, from_ts(m.timestamp) or at)
            for (tenant_id, m), (channel_id, contact_id) in zip(items, keys, strict=True)
        ],
        at,
    )
    stored = []
    for (tenant_id, m), key in zip(items, keys, strict=True):
        m.id = new_id("msg")
        m.tenant_id = tenant_id
        m.conversation_id = conversations[key]
        stored.append(StoredMessage(m))
    inserted = await insert_messages(sql, stored, at, None)
    new = [s for s in stored if s.message.id in inserted]
    events = await append_events(
        sql, [(message_event(s.message), s.message.conversation_id) for s in new]
    )
    known = [s for s in new if s.message.provider_message_id]
    events += await apply_pending_statuses(sql, known)
    return events + await apply_pending_changes(sql, known)
