"""Storing outbound messages: PENDING before the provider is called, then SENT with
the provider's id, FAILED, or due again for a retry.

`create_outbound` and `mark_sent` take the batches the outbox group-commits;
an idempotency key is unique per tenant in the database, so a retried request
returns the first message whichever replica stored it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.contacts import contact_key, outbound_contact, upsert_contacts, upsert_conversations
from storage.events import append_events, message_event, status_event
from storage.ids import new_id
from storage.message_changes import apply_pending_changes
from storage.messages import (
    StoredMessage,
    insert_messages,
    messages_by_id,
    messages_by_idempotency_key,
    messages_by_provider_id,
    save_status,
)
from storage.sql import Sql
from storage.status import advances
from storage.status_events import apply_pending_statuses, record_applied, unapply
from storage.times import now, to_ts
from wagate.v1 import event_pb2, message_pb2

M = message_pb2


@dataclass(frozen=True)
class OutboundRequest:
    tenant_id: str
    channel_id: str
    provider: str
    to: str
    message: message_pb2.Message  # content (and reply context) only
    idempotency_key: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """The idempotency key's scope: one tenant."""
        return (self.tenant_id, self.idempotency_key)


@dataclass(frozen=True)
class Outbound:
    stored: StoredMessage
    created: bool

    @property
    def message(self) -> message_pb2.Message:
        return self.stored.message


async def create_outbound(
    sql: Sql, requests: Sequence[OutboundRequest], lease_until: datetime
) -> tuple[list[Outbound], list[event_pb2.Event]]:
    """Store outbound messages PENDING; a known idempotency key returns the first message.

    `lease_until` is the first `next_attempt_at`: if this process dies before the
    provider answers, the sweeper of any replica retries after it. Returns one
    `Outbound` per request, in order, and the `message_new` events of the new rows.
    """
    # The answer for each idempotency key that already has a message.
    by_key = await messages_by_idempotency_key(sql, {r.key for r in requests if r.idempotency_key})
    fresh = _needing_rows(requests, by_key)
    at = now()
    stored = await _pending_messages(sql, [requests[i] for i in fresh], at)
    inserted = await insert_messages(sql, stored, at, lease_until)
    created = {i: s for i, s in zip(fresh, stored, strict=True) if s.message.id in inserted}
    # A key another replica stored between our read and our insert: its message wins.
    lost = {requests[i].key for i, s in zip(fresh, stored, strict=True) if i not in created}
    if lost:
        by_key.update(await messages_by_idempotency_key(sql, lost))
    events = await append_events(
        sql, [(message_event(s.message), s.message.conversation_id) for s in created.values()]
    )
    # Later requests of the batch with a key get the message its first request created.
    by_key.update({requests[i].key: s for i, s in created.items() if requests[i].idempotency_key})
    results = [
        Outbound(created[i], True) if i in created else Outbound(by_key[r.key], False)
        for i, r in enumerate(requests)
    ]
    return results, events


def _needing_rows(
    requests: Sequence[OutboundRequest], stored_keys: Mapping[tuple[str, str], StoredMessage]
) -> list[int]:
    """Indexes of the requests that need a new row: those without an idempotency key,
    and the first request of each key that has no message yet."""
    out: list[int] = []
    claimed = set(stored_keys)
    for i, r in enumerate(requests):
        if r.idempotency_key:
            if r.key in claimed:
                continue
            claimed.add(r.key)
        out.append(i)
    return out


async def _pending_messages(
    sql: Sql, requests: Sequence[OutboundRequest], at: datetime
) -> list[StoredMessage]:
    """The PENDING message of each request, its contact and conversation upserted."""
    addressed = [outbound_contact(r.to) for r in requests]
    contacts = await upsert_contacts(
        sql, [(r.tenant_id, r.channel_id, c) for r, c in zip(requests, addressed, strict=True)], at
    )
    # Each request's (contact id, contact as stored).
    found = [
        contacts[(r.channel_id, contact_key(c))] for r, c in zip(requests, addressed, strict=True)
    ]
    conversations = await upsert_conversations(
        sql,
        [
            (r.tenant_id, r.channel_id, contact_id, at)
            for r, (contact_id, _) in zip(requests, found, strict=True)
        ],
        at,
    )
    out = []
    for r, (contact_id, contact) in zip(requests, found, strict=True):
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
        out.append(StoredMessage(msg, r.to))
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
    transitions: list[tuple[str, message_pb2.StatusUpdate]] = []
    events: list[tuple[event_pb2.Event, str]] = []
    targets = []
    for item in items:
        target = current.get(item.message_id)
        if target is None:
            continue
        msg = target.message
        if msg.provider_message_id and msg.provider_message_id != item.provider_message_id:
            # A second attempt of this send (its first lease ran out, and another
            # replica sent it again): the first answer recorded stays.
            continue
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
            transitions.append((msg.channel_id, status))
        msg.updated_at.CopyFrom(to_ts(at))
        updates.append((item.provider_message_id, msg.status, at, msg.id))
        targets.append(target)
    await sql.run_many(
        "UPDATE message SET provider_message_id = ?, status = ?, next_attempt_at = NULL,"
        " updated_at = ? WHERE id = ?",
        updates,
    )
    # The provider's own `sent` report is then a duplicate of this transition.
    await record_applied(sql, transitions, at)
    out = await append_events(sql, events)
    out += await apply_pending_statuses(sql, targets)
    return out + await apply_pending_changes(sql, targets)


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
        await unapply(
            sql, echo.message.channel_id, echo.message.provider_message_id, M.MESSAGE_STATUS_SENT
        )


async def mark_failed(
    sql: Sql, message_id: str, error: message_pb2.ProviderError
) -> list[event_pb2.Event]:
    """A send that will not be retried: FAILED with the provider's error."""
    found = await messages_by_id(sql, [message_id])
    if not found or not advances(found[0].message.status, M.MESSAGE_STATUS_FAILED):
        return []
    msg = found[0].message
    msg.errors.append(error)
    msg.status = M.MESSAGE_STATUS_FAILED
    await save_status(sql, found, now())
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


async def claim_due(
    sql: Sql, at: datetime, lease_until: datetime, limit: int
) -> list[StoredMessage]:
    """PENDING outbound messages due at `at` (a retry, or a send whose lease ran out
    because the process attempting it died), each leased to the caller until
    `lease_until`. Replicas sweeping at once never claim one message twice: on
    PostgreSQL the rows are locked (another sweep skips them) and re-checked."""
    skip = " FOR UPDATE SKIP LOCKED" if sql.postgres else ""
    rows = await sql.rows(
        "UPDATE message SET next_attempt_at = ? WHERE seq IN (SELECT seq FROM message"
        " WHERE direction = ? AND status = ? AND provider_message_id IS NULL"
        f" AND next_attempt_at <= ? ORDER BY seq LIMIT ?{skip}) RETURNING id",
        [lease_until, M.DIRECTION_OUTBOUND, M.MESSAGE_STATUS_PENDING, at, limit],
    )
    return await messages_by_id(sql, [str(r["id"]) for r in rows]) if rows else []
