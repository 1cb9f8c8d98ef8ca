"""Contact and conversation rows, upserted in batches for every stored message.

A contact is one per (channel, key), a conversation one per (channel, contact);
both are created by the first message either way and found again by their
unique keys (`ON CONFLICT`), never by a read-then-write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.ids import new_id
from storage.sql import Columns, Sql, chunks, flat
from wagate.v1 import message_pb2

M = message_pb2

_CONTACT = Columns(
    "id", "tenant_id", "channel_id", '"key"', "wa_id", "user_id", "name", "username", "created_at"
)
_CONVERSATION = Columns(
    "id", "tenant_id", "channel_id", "contact_id", "last_message_at", "created_at"
)
# Fields a later message may fill in; an empty value never blanks a known one.
_CONTACT_FIELDS = ("wa_id", "user_id", "name", "username")


def contact_key(contact: message_pb2.Contact) -> str:
    """wa_id when known, else the business-scoped user id (BSUID)."""
    return contact.wa_id or contact.user_id


def outbound_contact(to: str) -> message_pb2.Contact:
    """The contact a `to` addresses, keyed as inbound messages key it: a phone number
    or `<digits>@c.us` is a wa_id; a BSUID (`user.…`), `@lid` or `@g.us` id is kept whole."""
    user, at, server = to.partition("@")
    if to.startswith("user.") or (at and server not in ("c.us", "s.whatsapp.net")):
        return M.Contact(user_id=to)
    return M.Contact(wa_id="".join(c for c in user if c.isdigit()))


def _merged(
    items: Sequence[tuple[str, str, message_pb2.Contact]],
) -> dict[tuple[str, str], tuple[str, message_pb2.Contact]]:
    """One entry per (channel, key), later non-empty fields laid over earlier ones:
    PostgreSQL refuses to update one row twice in a statement."""
    merged: dict[tuple[str, str], tuple[str, message_pb2.Contact]] = {}
    for tenant_id, channel_id, contact in items:
        key = (channel_id, contact_key(contact))
        if key in merged:
            seen = merged[key][1]
            for f in _CONTACT_FIELDS:
                if getattr(contact, f):
                    setattr(seen, f, getattr(contact, f))
        else:
            copy = M.Contact()
            copy.CopyFrom(contact)
            merged[key] = (tenant_id, copy)
    return merged


async def upsert_contacts(
    sql: Sql, items: Sequence[tuple[str, str, message_pb2.Contact]], at: datetime
) -> dict[tuple[str, str], tuple[str, message_pb2.Contact]]:
    """(tenant, channel, contact) → {(channel, key): (contact id, merged contact)}.

    Known fields are never blanked: an empty name in a later webhook keeps the old one.
    """
    out: dict[tuple[str, str], tuple[str, message_pb2.Contact]] = {}
    entries = list(_merged(items).items())
    for chunk in chunks(entries, _CONTACT.per_statement):
        rows = [
            (new_id("ct"), tenant_id, ch, key, c.wa_id, c.user_id, c.name, c.username, at)
            for (ch, key), (tenant_id, c) in chunk
        ]
        got = await sql.rows(
            f"INSERT INTO contact ({_CONTACT}) VALUES {_CONTACT.values(len(rows))}"
            ' ON CONFLICT (channel_id, "key") DO UPDATE SET'
            " wa_id = CASE WHEN excluded.wa_id <> '' THEN excluded.wa_id ELSE contact.wa_id END,"
            " user_id = CASE WHEN excluded.user_id <> '' THEN excluded.user_id"
            " ELSE contact.user_id END,"
            " name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE contact.name END,"
            " username = CASE WHEN excluded.username <> '' THEN excluded.username"
            " ELSE contact.username END"
            ' RETURNING id, channel_id, "key", wa_id, user_id, name, username',
            flat(rows),
        )
        for r in got:
            out[(r["channel_id"], r["key"])] = (
                r["id"],
                M.Contact(
                    wa_id=r["wa_id"], user_id=r["user_id"], name=r["name"], username=r["username"]
                ),
            )
    return out


async def upsert_conversations(
    sql: Sql, items: Sequence[tuple[str, str, str, datetime]], at: datetime
) -> dict[tuple[str, str], str]:
    """(tenant, channel, contact id, last message at) → {(channel, contact id): conversation id}."""
    latest: dict[tuple[str, str], tuple[str, datetime]] = {}
    for tenant_id, channel_id, contact_id, when in items:
        key = (channel_id, contact_id)
        if key not in latest or latest[key][1] < when:
            latest[key] = (tenant_id, when)
    out: dict[tuple[str, str], str] = {}
    entries = list(latest.items())
    last = sql.greatest("conversation.last_message_at", "excluded.last_message_at")
    for chunk in chunks(entries, _CONVERSATION.per_statement):
        rows = [
            (new_id("cv"), tenant_id, ch, contact_id, when, at)
            for (ch, contact_id), (tenant_id, when) in chunk
        ]
        got = await sql.rows(
            f"INSERT INTO conversation ({_CONVERSATION}) VALUES {_CONVERSATION.values(len(rows))}"
            f" ON CONFLICT (channel_id, contact_id) DO UPDATE SET last_message_at = {last}"
            " RETURNING id, channel_id, contact_id",
            flat(rows),
        )
        out.update({(r["channel_id"], r["contact_id"]): r["id"] for r in got})
    return out


async def conversations_of(
    sql: Sql, items: Sequence[tuple[str, str, message_pb2.Contact, datetime]], at: datetime
) -> list[str]:
    """(tenant, channel, contact, activity time) → each item's conversation id; the
    contact and conversation are created at their first activity."""
    contacts = await upsert_contacts(sql, [(t, ch, c) for t, ch, c, _ in items], at)
    # Each item's (channel, contact id): the key of its conversation.
    keys = [(ch, contacts[(ch, contact_key(c))][0]) for _, ch, c, _ in items]
    conversations = await upsert_conversations(
        sql,
        [
            (t, ch, contact_id, when)
            for (t, _, _, when), (ch, contact_id) in zip(items, keys, strict=True)
        ],
        at,
    )
    return [conversations[key] for key in keys]
