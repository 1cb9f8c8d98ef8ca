"""Conversation events that are not messages: a contact's preferences and calls.

Preferences are kept on the contact row (the contact of REST and gRPC
conversations carries them); calls are logged as events of the conversation.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.contacts import contact_key, conversations_of, upsert_contacts
from storage.events import append_events
from storage.sql import Sql
from storage.times import from_ts, now
from wagate.v1 import event_pb2

Item = tuple[str, event_pb2.Event]  # (tenant id, event)


async def apply_contact_updates(sql: Sql, items: Sequence[Item]) -> list[event_pb2.Event]:
    """Keep each contact's marketing choice (the latest by its time) and log the events."""
    at = now()
    contacts = await upsert_contacts(
        sql, [(t, e.channel_id, e.contact_updated.contact) for t, e in items], at
    )
    logged = []
    for tenant_id, event in items:
        update = event.contact_updated
        contact_id, stored = contacts[(event.channel_id, contact_key(update.contact))]
        if update.contact.marketing_messages:
            when = from_ts(update.contact.marketing_messages_updated_at) or at
            await sql.run(
                "UPDATE contact SET marketing_messages = ?, marketing_messages_at = ?"
                " WHERE id = ? AND (marketing_messages_at IS NULL OR marketing_messages_at <= ?)",
                [update.contact.marketing_messages, when, contact_id, when],
            )
        rows = await sql.rows(
            "SELECT id FROM conversation WHERE channel_id = ? AND contact_id = ?",
            [event.channel_id, contact_id],
        )
        update.conversation_id = rows[0]["id"] if rows else ""
        for field in ("name", "username"):
            setattr(update.contact, field, getattr(stored, field))
        event.tenant_id = tenant_id
        logged.append((event, update.conversation_id))
    return await append_events(sql, logged)


async def apply_calls(sql: Sql, items: Sequence[Item]) -> list[event_pb2.Event]:
    """Log call events in their conversation (started by the call if it is the first)."""
    at = now()
    conversations = await conversations_of(
        sql,
        [(t, e.channel_id, e.call.contact, from_ts(e.occurred_at) or at) for t, e in items],
        at,
    )
    logged = []
    for (tenant_id, event), conversation_id in zip(items, conversations, strict=True):
        event.tenant_id = tenant_id
        event.call.conversation_id = conversation_id
        logged.append((event, conversation_id))
    return await append_events(sql, logged)


async def marketing_choice(sql: Sql, channel_id: str, key: str) -> str:
    """The contact's marketing choice on this channel ("stop", "resume" or "")."""
    rows = await sql.rows(
        'SELECT marketing_messages FROM contact WHERE channel_id = ? AND "key" = ?',
        [channel_id, key],
    )
    return str(rows[0]["marketing_messages"] or "") if rows else ""
