"""Set-based writes: the hot paths store whole batches, a few statements per batch.

Ingest applies every event of a batch of inbox rows in one transaction; the
outbox group-commits the sends of many concurrent callers. Each function here
takes an open `Sql` (normally inside a transaction) and lists of items, and
returns the events to publish once the transaction commits, in event-id order.

Uniqueness is enforced by the database (`ON CONFLICT`), never by a read-then-
write, so replicas and replays cannot store anything twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Sized
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.kinds import enum_of
from storage.ids import new_id
from storage.sql import Sql, flat, values
from storage.status import advances
from storage.times import db_datetime, from_ts, now, to_ts
from wagate.v1 import event_pb2, message_pb2

M = message_pb2
E = event_pb2


_MESSAGE_COLS = (
    "id, tenant_id, channel_id, conversation_id, provider, provider_message_id, direction,"
    ' status, content_type, idempotency_key, payload, "to", attempts, next_attempt_at,'
    " created_at, updated_at"
)
_READ_COLS = (
    "id, tenant_id, channel_id, conversation_id, provider_message_id, status, payload,"
    ' "to", attempts, created_at, updated_at'
)
# SQLite and PostgreSQL both allow 32k bind parameters per statement.
_CHUNK = 1000


def _in(items: Sized) -> str:
    """Placeholders for an IN list."""
    return ", ".join("?" * len(items))


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def contact_key(contact: message_pb2.Contact) -> str:
    """wa_id when known, else the business-scoped user id (BSUID)."""
    return contact.wa_id or contact.user_id


def content_type(msg: message_pb2.Message) -> str:
    return msg.WhichOneof("content") or "unsupported"


# -- message rows ---------------------------------------------------------------------


@dataclass
class StoredMessage:
    """A message as the outbox and the status machine carry it between statements."""

    message: message_pb2.Message
    to: str = ""
    attempts: int = 0


def stored_message(row: dict[str, Any]) -> StoredMessage:
    """The stored payload with the row's live columns laid over it."""
    msg = M.Message.FromString(bytes(row["payload"]))
    msg.id = row["id"]
    msg.tenant_id = row["tenant_id"]
    msg.channel_id = row["channel_id"]
    msg.conversation_id = row["conversation_id"]
    msg.provider_message_id = row["provider_message_id"] or ""
    msg.status = row["status"]
    msg.created_at.CopyFrom(to_ts(db_datetime(row["created_at"])))
    msg.updated_at.CopyFrom(to_ts(db_datetime(row["updated_at"])))
    return StoredMessage(msg, row["to"] or "", int(row["attempts"] or 0))


async def _insert_messages(
    sql: Sql, msgs: Sequence[StoredMessage], at: datetime, next_attempt_at: datetime | None
) -> set[str]:
    """INSERT, skipping rows a unique key already holds; returns the ids inserted."""
    inserted: set[str] = set()
    for chunk in _chunks(msgs, _CHUNK // 16):
        rows = []
        stamp = to_ts(at)
        for s in chunk:
            m = s.message
            m.created_at.CopyFrom(stamp)
            m.updated_at.CopyFrom(stamp)
            rows.append(
                (
                    m.id,
                    m.tenant_id,
                    m.channel_id,
                    m.conversation_id,
                    m.provider,
                    m.provider_message_id or None,
                    m.direction,
                    m.status,
                    content_type(m),
                    m.idempotency_key or None,
                    m.SerializeToString(),
                    s.to,
                    0,
                    next_attempt_at,
                    at,
                    at,
                )
            )
        got = await sql.rows(
            f"INSERT INTO message ({_MESSAGE_COLS}) VALUES {values(len(rows), 16)}"
            " ON CONFLICT DO NOTHING RETURNING id",
            flat(rows),
        )
        inserted.update(r["id"] for r in got)
    return inserted


async def _messages_where(sql: Sql, where: str, args: Sequence[Any]) -> list[StoredMessage]:
    rows = await sql.rows(f"SELECT {_READ_COLS} FROM message WHERE {where}", args)
    return [stored_message(r) for r in rows]


async def messages_by_provider_id(sql: Sql, keys: Iterable[tuple[str, str]]) -> list[StoredMessage]:
    """Messages by (channel_id, provider_message_id)."""
    by_channel: dict[str, list[str]] = {}
    for channel_id, pmid in keys:
        by_channel.setdefault(channel_id, []).append(pmid)
    out: list[StoredMessage] = []
    for channel_id, pmids in by_channel.items():
        for chunk in _chunks(pmids, _CHUNK):
            out += await _messages_where(
                sql,
                f"channel_id = ? AND provider_message_id IN ({_in(chunk)})",
                [channel_id, *chunk],
            )
    return out


async def messages_by_id(sql: Sql, ids: Sequence[str]) -> list[StoredMessage]:
    out: list[StoredMessage] = []
    for chunk in _chunks(ids, _CHUNK):
        out += await _messages_where(sql, f"id IN ({_in(chunk)})", chunk)
    return out


# -- contacts and conversations --------------------------------------------------------


async def upsert_contacts(
    sql: Sql, items: Sequence[tuple[str, str, message_pb2.Contact]], at: datetime
) -> dict[tuple[str, str], tuple[str, message_pb2.Contact]]:
    """(tenant, channel, contact) → {(channel, key): (contact id, merged contact)}.

    Known fields are never blanked: an empty name in a later webhook keeps the old one.
    """
    merged: dict[tuple[str, str], tuple[str, message_pb2.Contact]] = {}
    for tenant_id, channel_id, contact in items:
        key = (channel_id, contact_key(contact))
        if key in merged:  # one row per key: PostgreSQL refuses to update a row twice
            seen = merged[key][1]
            for f in ("wa_id", "user_id", "name", "username"):
                if getattr(contact, f):
                    setattr(seen, f, getattr(contact, f))
        else:
            copy = M.Contact()
            copy.CopyFrom(contact)
            merged[key] = (tenant_id, copy)
    out: dict[tuple[str, str], tuple[str, message_pb2.Contact]] = {}
    entries = list(merged.items())
    for chunk in _chunks(entries, _CHUNK // 9):
        rows = [
            (new_id("ct"), tenant_id, ch, key, c.wa_id, c.user_id, c.name, c.username, at)
            for (ch, key), (tenant_id, c) in chunk
        ]
        got = await sql.rows(
            'INSERT INTO contact (id, tenant_id, channel_id, "key", wa_id, user_id, name,'
            f" username, created_at) VALUES {values(len(rows), 9)}"
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
    for chunk in _chunks(entries, _CHUNK // 6):
        rows = [
            (new_id("cv"), tenant_id, ch, contact_id, when, at)
            for (ch, contact_id), (tenant_id, when) in chunk
        ]
        last = sql.greatest("conversation.last_message_at", "excluded.last_message_at")
        got = await sql.rows(
            "INSERT INTO conversation (id, tenant_id, channel_id, contact_id, last_message_at,"
            f" created_at) VALUES {values(len(rows), 6)}"
            f" ON CONFLICT (channel_id, contact_id) DO UPDATE SET last_message_at = {last}"
            " RETURNING id, channel_id, contact_id",
            flat(rows),
        )
        out.update({(r["channel_id"], r["contact_id"]): r["id"] for r in got})
    return out


# -- the event log ---------------------------------------------------------------------


async def _allocate_event_ids(sql: Sql, n: int) -> list[int]:
    """Event ids, ascending, in commit order.

    SQLite has one writer (our one connection), so the next ids follow max(id).
    PostgreSQL takes them from the table's sequence.
    """
    if sql.postgres:
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
    for chunk in _chunks(rows, _CHUNK // 7):
        await sql.run(
            "INSERT INTO event_log (id, tenant_id, channel_id, conversation_id, kind, payload,"
            f" created_at) VALUES {values(len(chunk), 7)}",
            flat(chunk),
        )
    return [event for event, _ in items]


def message_event(msg: message_pb2.Message) -> event_pb2.Event:
    event = E.Event(tenant_id=msg.tenant_id, channel_id=msg.channel_id)
    event.message_new.CopyFrom(msg)
    if msg.HasField("timestamp"):
        event.occurred_at.CopyFrom(msg.timestamp)
    return event


def status_event(msg: message_pb2.Message, status: message_pb2.StatusUpdate) -> event_pb2.Event:
    status.message_id = msg.id
    status.conversation_id = msg.conversation_id
    event = E.Event(tenant_id=msg.tenant_id, channel_id=msg.channel_id, message_status=status)
    if status.HasField("timestamp"):
        event.occurred_at.CopyFrom(status.timestamp)
    return event


# -- inbound ---------------------------------------------------------------------------


async def store_inbound(
    sql: Sql, items: Sequence[tuple[str, message_pb2.Message]]
) -> list[event_pb2.Event]:
    """Store inbound messages once each; returns `message_new` (+ early status) events."""
    if not items:
        return []
    at = now()
    contacts = await upsert_contacts(
        sql, [(tenant_id, m.channel_id, m.contact) for tenant_id, m in items], at
    )
    sent_at = {id(m): (from_ts(m.timestamp) or at) for _, m in items}
    conversations = await upsert_conversations(
        sql,
        [
            (
                tenant_id,
                m.channel_id,
                contacts[(m.channel_id, contact_key(m.contact))][0],
                sent_at[id(m)],
            )
            for tenant_id, m in items
        ],
        at,
    )
    stored = []
    for tenant_id, m in items:
        contact_id = contacts[(m.channel_id, contact_key(m.contact))][0]
        m.id = new_id("msg")
        m.tenant_id = tenant_id
        m.conversation_id = conversations[(m.channel_id, contact_id)]
        stored.append(StoredMessage(m))
    inserted = await _insert_messages(sql, stored, at, None)
    new = [s for s in stored if s.message.id in inserted]
    events = await append_events(
        sql, [(message_event(s.message), s.message.conversation_id) for s in new]
    )
    return events + await apply_pending_statuses(
        sql, [s for s in new if s.message.provider_message_id]
    )


# -- statuses --------------------------------------------------------------------------


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
    fresh: set[tuple[str, str]] = set()
    for chunk in _chunks(rows, _CHUNK // 6):
        got = await sql.rows(
            "INSERT INTO status_event (channel_id, provider_message_id, status, payload, applied,"
            f" created_at) VALUES {values(len(chunk), 6)}"
            " ON CONFLICT DO NOTHING RETURNING channel_id, provider_message_id",
            flat(chunk),
        )
        fresh.update((r["channel_id"], r["provider_message_id"]) for r in got)
    if not fresh:
        return []
    return await apply_pending_statuses(sql, await messages_by_provider_id(sql, fresh))


async def apply_pending_statuses(
    sql: Sql, targets: Sequence[StoredMessage]
) -> list[event_pb2.Event]:
    """Apply stored, unapplied statuses of these messages, each in forward order."""
    by_key = {
        (s.message.channel_id, s.message.provider_message_id): s
        for s in targets
        if s.message.provider_message_id
    }
    if not by_key:
        return []
    by_channel: dict[str, list[str]] = {}
    for channel_id, pmid in by_key:
        by_channel.setdefault(channel_id, []).append(pmid)
    pending: list[dict[str, Any]] = []
    for channel_id, pmids in by_channel.items():
        for chunk in _chunks(pmids, _CHUNK):
            pending += await sql.rows(
                "SELECT id, channel_id, provider_message_id, status, payload FROM status_event"
                f" WHERE NOT applied AND channel_id = ? AND provider_message_id IN"
                f" ({_in(chunk)})",
                [channel_id, *chunk],
            )
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
        if not advances(msg.status, status.status):
            continue
        msg.status = status.status
        if status.errors:
            del msg.errors[:]
            msg.errors.extend(status.errors)
        changed[msg.id] = target
        events.append((status_event(msg, status), msg.conversation_id))
    for chunk in _chunks([r["id"] for r in pending], _CHUNK):
        await sql.run(
            f"UPDATE status_event SET applied = ? WHERE id IN ({_in(chunk)})",
            [True, *chunk],
        )
    await _save_status(sql, list(changed.values()), at)
    return await append_events(sql, events)


async def _save_status(sql: Sql, targets: Sequence[StoredMessage], at: datetime) -> None:
    for s in targets:
        s.message.updated_at.CopyFrom(to_ts(at))
    await sql.run_many(
        "UPDATE message SET status = ?, payload = ?, next_attempt_at = NULL, updated_at = ?"
        " WHERE id = ?",
        [(s.message.status, _payload(s.message), at, s.message.id) for s in targets],
    )


def _payload(msg: message_pb2.Message) -> bytes:
    return msg.SerializeToString()


# -- outbound --------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboundRequest:
    tenant_id: str
    channel_id: str
    provider: str
    to: str
    message: message_pb2.Message  # content (and reply context) only
    idempotency_key: str = ""


@dataclass(frozen=True)
class Outbound:
    stored: StoredMessage
    created: bool

    @property
    def message(self) -> message_pb2.Message:
        return self.stored.message


def outbound_contact(to: str) -> message_pb2.Contact:
    """The contact a `to` addresses, keyed as inbound messages key it: a phone number
    or `<digits>@c.us` is a wa_id; a BSUID (`user.…`), `@lid` or `@g.us` id is kept whole."""
    user, at, server = to.partition("@")
    if to.startswith("user.") or (at and server not in ("c.us", "s.whatsapp.net")):
        return M.Contact(user_id=to)
    return M.Contact(wa_id="".join(c for c in user if c.isdigit()))


async def create_outbound(
    sql: Sql, requests: Sequence[OutboundRequest], lease_until: datetime
) -> tuple[list[Outbound], list[event_pb2.Event]]:
    """Store outbound messages PENDING; a known idempotency key returns the first message.

    `lease_until` is the first `next_attempt_at`: if this process dies before the
    provider answers, the sweeper of any replica retries after it.
    """
    results: list[Outbound | None] = [None] * len(requests)
    existing = await _by_idempotency_key(
        sql, {(r.tenant_id, r.idempotency_key) for r in requests if r.idempotency_key}
    )
    first_of_key: dict[tuple[str, str], int] = {}
    todo: list[int] = []
    for i, r in enumerate(requests):
        key = (r.tenant_id, r.idempotency_key)
        if r.idempotency_key and key in existing:
            results[i] = Outbound(existing[key], False)
        elif r.idempotency_key and key in first_of_key:
            continue  # resolved below, from the first request with this key
        else:
            if r.idempotency_key:
                first_of_key[key] = i
            todo.append(i)
    at = now()
    events: list[event_pb2.Event] = []
    if todo:
        contacts = await upsert_contacts(
            sql,
            [
                (requests[i].tenant_id, requests[i].channel_id, outbound_contact(requests[i].to))
                for i in todo
            ],
            at,
        )

        def contact_of(r: OutboundRequest) -> tuple[str, message_pb2.Contact]:
            return contacts[(r.channel_id, contact_key(outbound_contact(r.to)))]

        conversations = await upsert_conversations(
            sql,
            [
                (requests[i].tenant_id, requests[i].channel_id, contact_of(requests[i])[0], at)
                for i in todo
            ],
            at,
        )
        stored: dict[int, StoredMessage] = {}
        for i in todo:
            r = requests[i]
            contact_id, contact = contact_of(r)
            msg = M.Message()
            msg.CopyFrom(r.message)
            msg.id = new_id("msg")
            msg.tenant_id = r.tenant_id
            msg.channel_id = r.channel_id
            msg.provider = r.provider
            msg.conversation_id = conversations[(r.channel_id, contact_id)]
            msg.direction = M.DIRECTION_OUTBOUND
            msg.status = M.MESSAGE_STATUS_PENDING
            msg.idempotency_key = r.idempotency_key
            msg.contact.CopyFrom(contact)
            msg.timestamp.CopyFrom(to_ts(at))
            stored[i] = StoredMessage(msg, r.to)
        inserted = await _insert_messages(sql, list(stored.values()), at, lease_until)
        lost = {
            (requests[i].tenant_id, requests[i].idempotency_key)
            for i, s in stored.items()
            if s.message.id not in inserted
        }
        winners = await _by_idempotency_key(sql, lost) if lost else {}
        for i, s in stored.items():
            r = requests[i]
            if s.message.id in inserted:
                results[i] = Outbound(s, True)
            else:  # another replica stored this key between our read and our insert
                results[i] = Outbound(winners[(r.tenant_id, r.idempotency_key)], False)
        events = await append_events(
            sql,
            [
                (message_event(s.message), s.message.conversation_id)
                for i, s in stored.items()
                if s.message.id in inserted
            ],
        )
    for i, r in enumerate(requests):
        if results[i] is None:
            first = results[first_of_key[(r.tenant_id, r.idempotency_key)]]
            assert first is not None
            results[i] = Outbound(first.stored, False)
    return [r for r in results if r is not None], events


async def _by_idempotency_key(
    sql: Sql, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], StoredMessage]:
    by_tenant: dict[str, list[str]] = {}
    for tenant_id, key in keys:
        by_tenant.setdefault(tenant_id, []).append(key)
    out: dict[tuple[str, str], StoredMessage] = {}
    for tenant_id, idem in by_tenant.items():
        for chunk in _chunks(idem, _CHUNK):
            rows = await sql.rows(
                f"SELECT {_READ_COLS}, idempotency_key FROM message WHERE tenant_id = ?"
                f" AND idempotency_key IN ({_in(chunk)})",
                [tenant_id, *chunk],
            )
            for row in rows:
                out[(tenant_id, row["idempotency_key"])] = stored_message(row)
    return out


@dataclass(frozen=True)
class Sent:
    message_id: str
    provider_message_id: str
    recipient_id: str = ""


async def mark_sent(sql: Sql, items: Sequence[Sent]) -> list[event_pb2.Event]:
    """PENDING → SENT with the provider's id; then apply statuses that arrived early."""
    current = {s.message.id: s for s in await messages_by_id(sql, [i.message_id for i in items])}
    await _adopt_echoes(sql, [(current[i.message_id], i) for i in items if i.message_id in current])
    at = now()
    updates = []
    status_rows = []
    events: list[tuple[event_pb2.Event, str]] = []
    targets = []
    for item in items:
        target = current.get(item.message_id)
        if target is None:
            continue
        msg = target.message
        msg.provider_message_id = item.provider_message_id
        if advances(msg.status, M.MESSAGE_STATUS_SENT):
            msg.status = M.MESSAGE_STATUS_SENT
            status = M.StatusUpdate(
                provider_message_id=item.provider_message_id,
                status=M.MESSAGE_STATUS_SENT,
                recipient_id=item.recipient_id,
                timestamp=to_ts(at),
            )
            events.append((status_event(msg, status), msg.conversation_id))
            # The provider's own `sent` webhook is then a duplicate of this transition.
            status_rows.append(
                (
                    msg.channel_id,
                    item.provider_message_id,
                    msg.status,
                    status.SerializeToString(),
                    True,
                    at,
                )
            )
        msg.updated_at.CopyFrom(to_ts(at))
        updates.append((item.provider_message_id, msg.status, at, msg.id))
        targets.append(target)
    await sql.run_many(
        "UPDATE message SET provider_message_id = ?, status = ?, next_attempt_at = NULL,"
        " updated_at = ? WHERE id = ?",
        updates,
    )
    for chunk in _chunks(status_rows, _CHUNK // 6):
        await sql.run(
            "INSERT INTO status_event (channel_id, provider_message_id, status, payload, applied,"
            f" created_at) VALUES {values(len(chunk), 6)}"
            " ON CONFLICT (channel_id, provider_message_id, status)"
            " DO UPDATE SET applied = excluded.applied",
            flat(chunk),
        )
    out = await append_events(sql, events)
    return out + await apply_pending_statuses(sql, targets)


async def _adopt_echoes(sql: Sql, pairs: Sequence[tuple[StoredMessage, Sent]]) -> None:
    """A QR engine may report our own send (a `fromMe` echo) before its HTTP answer
    reaches us, and ingest then stored the echo under the provider id. The send's
    own row wins: the echo row goes, and statuses already applied to it are applied
    again to ours."""
    keys = [(s.message.channel_id, sent.provider_message_id) for s, sent in pairs]
    ours = {s.message.id for s, _ in pairs}
    found = await messages_by_provider_id(sql, keys)
    echoes = [
        e for e in found if e.message.id not in ours and e.message.direction == M.DIRECTION_OUTBOUND
    ]
    for echo in echoes:
        await sql.run("DELETE FROM message WHERE id = ?", [echo.message.id])
        await sql.run(
            "UPDATE status_event SET applied = ? WHERE channel_id = ? AND provider_message_id = ?"
            " AND status <> ?",
            [
                False,
                echo.message.channel_id,
                echo.message.provider_message_id,
                M.MESSAGE_STATUS_SENT,
            ],
        )


async def mark_failed(
    sql: Sql, message_id: str, error: message_pb2.ProviderError
) -> list[event_pb2.Event]:
    found = await messages_by_id(sql, [message_id])
    if not found or not advances(found[0].message.status, M.MESSAGE_STATUS_FAILED):
        return []
    msg = found[0].message
    msg.errors.append(error)
    msg.status = M.MESSAGE_STATUS_FAILED
    await _save_status(sql, found, now())
    status = M.StatusUpdate(
        provider_message_id=msg.provider_message_id,
        status=M.MESSAGE_STATUS_FAILED,
        errors=[error],
        timestamp=to_ts(now()),
    )
    return await append_events(sql, [(status_event(msg, status), msg.conversation_id)])


async def schedule_retry(sql: Sql, message_id: str, at: datetime, *, count: bool = True) -> None:
    """Set the next attempt time; `count` records a failed attempt."""
    await sql.run(
        "UPDATE message SET attempts = attempts + ?, next_attempt_at = ?, updated_at = ?"
        " WHERE id = ?",
        [1 if count else 0, at, now(), message_id],
    )


# -- inbox -----------------------------------------------------------------------------


async def mark_inbox(sql: Sql, ids: Sequence[int], state: str, error: str | None = None) -> None:
    for chunk in _chunks(ids, _CHUNK):
        await sql.run(
            f"UPDATE webhook_inbox SET state = ?, error = ? WHERE id IN ({_in(chunk)})",
            [state, error, *chunk],
        )
