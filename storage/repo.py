"""Repositories: the only code that turns storage rows into wagate.v1 objects and back."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from storage import models
from storage.ids import new_id
from storage.status import advances
from wagate.v1 import event_pb2, message_pb2

M = message_pb2


T = TypeVar("T", bound=Model)


async def create_unique(model: type[T], **values: Any) -> T | None:
    """INSERT in its own savepoint; None when a unique key already holds the row.

    On PostgreSQL a failed statement aborts the whole transaction, so a conflict
    must be contained in a savepoint to let the caller carry on.
    """
    try:
        async with in_transaction():
            return await model.create(**values)
    except IntegrityError:
        return None


def now() -> datetime:
    return datetime.now(UTC)


def to_ts(dt: datetime | None) -> Timestamp:
    ts = Timestamp()
    if dt is not None:
        ts.FromDatetime(dt.astimezone(UTC))
    return ts


def from_ts(ts: Timestamp) -> datetime | None:
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return ts.ToDatetime(tzinfo=UTC)


def key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


# -- tenants ----------------------------------------------------------------------------


async def sync_tenants(
    tenants: Sequence[tuple[str, Sequence[str], Sequence[tuple[str, str]]]],
) -> None:
    """Mirror configured tenants, key hashes and channels into the database."""
    for tenant_id, api_keys, channels in tenants:
        await models.Tenant.get_or_create(id=tenant_id)
        for api_key in api_keys:
            await models.ApiKey.update_or_create(
                key_hash=key_hash(api_key), defaults={"tenant_id": tenant_id}
            )
        for channel_id, provider in channels:
            await models.Channel.update_or_create(
                id=channel_id, defaults={"tenant_id": tenant_id, "provider": provider}
            )


# -- contacts and conversations -----------------------------------------------------------


def contact_key(contact: message_pb2.Contact) -> str:
    return contact.wa_id or contact.user_id


async def upsert_contact(
    tenant_id: str, channel_id: str, contact: message_pb2.Contact
) -> models.Contact:
    key = contact_key(contact)
    row = await models.Contact.get_or_none(channel_id=channel_id, key=key)
    if row is None:
        created = await create_unique(
            models.Contact,
            id=new_id("ct"),
            tenant_id=tenant_id,
            channel_id=channel_id,
            key=key,
            wa_id=contact.wa_id,
            user_id=contact.user_id,
            name=contact.name,
            username=contact.username,
        )
        # None: another replica created it first.
        return created or await models.Contact.get(channel_id=channel_id, key=key)
    changed = False
    for field in ("wa_id", "user_id", "name", "username"):
        value = getattr(contact, field)
        if value and getattr(row, field) != value:
            setattr(row, field, value)
            changed = True
    if changed:
        await row.save()
    return row


async def upsert_conversation(
    tenant_id: str, channel_id: str, contact: models.Contact, at: datetime
) -> models.Conversation:
    row = await models.Conversation.get_or_none(channel_id=channel_id, contact_id=contact.id)
    if row is None:
        created = await create_unique(
            models.Conversation,
            id=new_id("cv"),
            tenant_id=tenant_id,
            channel_id=channel_id,
            contact_id=contact.id,
            last_message_at=at,
        )
        if created is not None:
            return created
        row = await models.Conversation.get(channel_id=channel_id, contact_id=contact.id)
    if row.last_message_at < at:
        row.last_message_at = at
        await row.save(update_fields=["last_message_at"])
    return row


def contact_proto(row: models.Contact) -> message_pb2.Contact:
    return M.Contact(wa_id=row.wa_id, user_id=row.user_id, name=row.name, username=row.username)


async def conversation_proto(row: models.Conversation) -> message_pb2.Conversation:
    contact = await models.Contact.get(id=row.contact_id)  # type: ignore[attr-defined]
    return M.Conversation(
        id=row.id,
        tenant_id=row.tenant_id,
        channel_id=row.channel_id,
        contact=contact_proto(contact),
        last_message_at=to_ts(row.last_message_at),
        created_at=to_ts(row.created_at),
    )


# -- messages ------------------------------------------------------------------------------


def message_proto(row: models.Message) -> message_pb2.Message:
    """The stored payload with the row's live columns laid over it."""
    msg = M.Message.FromString(row.payload)
    msg.id = row.id
    msg.tenant_id = row.tenant_id
    msg.channel_id = row.channel_id
    msg.conversation_id = row.conversation_id
    msg.provider_message_id = row.provider_message_id or ""
    msg.status = row.status
    msg.created_at.CopyFrom(to_ts(row.created_at))
    msg.updated_at.CopyFrom(to_ts(row.updated_at))
    return msg


def _content_type(msg: message_pb2.Message) -> str:
    return msg.WhichOneof("content") or "unsupported"


async def append_event(
    tenant_id: str, event: event_pb2.Event, conversation_id: str = ""
) -> event_pb2.Event:
    """Record an event in the log; its row id becomes the event id."""
    event.tenant_id = tenant_id
    if not event.HasField("occurred_at"):
        event.occurred_at.GetCurrentTime()
    kind = event.WhichOneof("payload") or ""
    row = await models.EventLog.create(
        tenant_id=tenant_id,
        channel_id=event.channel_id,
        conversation_id=conversation_id,
        kind=_EVENT_KINDS.get(kind, 0),
        payload=b"",
    )
    event.id = str(row.id)
    row.payload = event.SerializeToString()
    await row.save(update_fields=["payload"])
    return event


_EVENT_KINDS = {
    "message_new": event_pb2.EVENT_KIND_MESSAGE_NEW,
    "message_status": event_pb2.EVENT_KIND_MESSAGE_STATUS,
    "session_updated": event_pb2.EVENT_KIND_SESSION_UPDATED,
    "typing": event_pb2.EVENT_KIND_TYPING,
}


def _message_event(tenant_id: str, msg: message_pb2.Message) -> event_pb2.Event:
    return event_pb2.Event(
        tenant_id=tenant_id, channel_id=msg.channel_id, message_new=msg, occurred_at=msg.timestamp
    )


async def store_inbound(tenant_id: str, msg: message_pb2.Message) -> list[event_pb2.Event]:
    """Store an inbound message once; returns the events to publish (none if a duplicate)."""
    if msg.provider_message_id and await models.Message.exists(
        channel_id=msg.channel_id, provider_message_id=msg.provider_message_id
    ):
        return []
    at = from_ts(msg.timestamp) or now()
    contact = await upsert_contact(tenant_id, msg.channel_id, msg.contact)
    conversation = await upsert_conversation(tenant_id, msg.channel_id, contact, at)
    msg.id = new_id("msg")
    msg.tenant_id = tenant_id
    msg.conversation_id = conversation.id
    row = await create_unique(
        models.Message,
        id=msg.id,
        tenant_id=tenant_id,
        channel_id=msg.channel_id,
        conversation_id=conversation.id,
        provider=msg.provider,
        provider_message_id=msg.provider_message_id or None,
        direction=msg.direction,
        status=msg.status,
        content_type=_content_type(msg),
        payload=msg.SerializeToString(),
    )
    if row is None:  # stored by another replica meanwhile
        return []
    events = [
        await append_event(
            tenant_id, _message_event(tenant_id, message_proto(row)), conversation.id
        )
    ]
    events += await apply_pending_statuses(row)
    return events


async def apply_status(
    tenant_id: str, channel_id: str, status: message_pb2.StatusUpdate
) -> list[event_pb2.Event]:
    """Record a status report once, and move its message forward if it is known."""
    if not await create_unique(
        models.StatusEvent,
        channel_id=channel_id,
        provider_message_id=status.provider_message_id,
        status=status.status,
        payload=status.SerializeToString(),
    ):
        return []  # this exact status was seen before
    row = await models.Message.get_or_none(
        channel_id=channel_id, provider_message_id=status.provider_message_id
    )
    if row is None:
        return []  # kept; applied when the message shows up
    return await apply_pending_statuses(row)


async def apply_pending_statuses(row: models.Message) -> list[event_pb2.Event]:
    """Apply stored, unapplied statuses of a message in forward order."""
    if not row.provider_message_id:
        return []
    pending = await models.StatusEvent.filter(
        channel_id=row.channel_id, provider_message_id=row.provider_message_id, applied=False
    ).order_by("status")
    events = []
    for st_row in pending:
        status = M.StatusUpdate.FromString(st_row.payload)
        st_row.applied = True
        await st_row.save(update_fields=["applied"])
        if not advances(row.status, status.status):
            continue
        row.status = status.status
        if status.errors:
            msg = M.Message.FromString(row.payload)
            del msg.errors[:]
            msg.errors.extend(status.errors)
            row.payload = msg.SerializeToString()
        await row.save(update_fields=["status", "payload", "updated_at"])
        status.message_id = row.id
        status.conversation_id = row.conversation_id
        event = event_pb2.Event(
            tenant_id=row.tenant_id, channel_id=row.channel_id, message_status=status
        )
        if status.HasField("timestamp"):
            event.occurred_at.CopyFrom(status.timestamp)
        events.append(await append_event(row.tenant_id, event, row.conversation_id))
    return events


# -- outbound -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outbound:
    row: models.Message
    created: bool
    events: list[event_pb2.Event]


async def create_outbound(
    tenant_id: str,
    channel_id: str,
    provider: str,
    to: str,
    msg: message_pb2.Message,
    idempotency_key: str,
) -> Outbound:
    """Store an outbound message PENDING. A known idempotency key returns the first row."""
    if idempotency_key:
        existing = await models.Message.get_or_none(
            tenant_id=tenant_id, idempotency_key=idempotency_key
        )
        if existing is not None:
            return Outbound(existing, False, [])
    contact_in = M.Contact(
        wa_id="".join(c for c in to if c.isdigit()) if not to.startswith("user.") else ""
    )
    if to.startswith("user."):
        contact_in.user_id = to
    contact = await upsert_contact(tenant_id, channel_id, contact_in)
    at = now()
    conversation = await upsert_conversation(tenant_id, channel_id, contact, at)
    msg.id = new_id("msg")
    msg.tenant_id = tenant_id
    msg.channel_id = channel_id
    msg.provider = provider
    msg.conversation_id = conversation.id
    msg.direction = M.DIRECTION_OUTBOUND
    msg.status = M.MESSAGE_STATUS_PENDING
    msg.idempotency_key = idempotency_key
    msg.contact.CopyFrom(contact_proto(contact))
    msg.timestamp.CopyFrom(to_ts(at))
    row = await create_unique(
        models.Message,
        id=msg.id,
        tenant_id=tenant_id,
        channel_id=channel_id,
        conversation_id=conversation.id,
        provider=provider,
        direction=msg.direction,
        status=msg.status,
        content_type=_content_type(msg),
        idempotency_key=idempotency_key or None,
        payload=msg.SerializeToString(),
        to=to,
    )
    if row is None:  # a concurrent call with the same key won
        existing = await models.Message.get(tenant_id=tenant_id, idempotency_key=idempotency_key)
        return Outbound(existing, False, [])
    event = await append_event(
        tenant_id, _message_event(tenant_id, message_proto(row)), conversation.id
    )
    return Outbound(row, True, [event])


async def mark_sent(
    row: models.Message, provider_message_id: str, recipient_id: str = ""
) -> list[event_pb2.Event]:
    """PENDING → SENT with the provider's id; then apply statuses that arrived early."""
    row.provider_message_id = provider_message_id
    events: list[event_pb2.Event] = []
    if advances(row.status, M.MESSAGE_STATUS_SENT):
        row.status = M.MESSAGE_STATUS_SENT
        status = M.StatusUpdate(
            provider_message_id=provider_message_id,
            message_id=row.id,
            status=M.MESSAGE_STATUS_SENT,
            recipient_id=recipient_id,
            conversation_id=row.conversation_id,
        )
        status.timestamp.GetCurrentTime()
        await row.save(update_fields=["provider_message_id", "status", "updated_at"])
        # The provider's own `sent` webhook is then a duplicate of this transition.
        if not await create_unique(
            models.StatusEvent,
            channel_id=row.channel_id,
            provider_message_id=provider_message_id,
            status=M.MESSAGE_STATUS_SENT,
            payload=status.SerializeToString(),
            applied=True,
        ):
            await models.StatusEvent.filter(
                channel_id=row.channel_id,
                provider_message_id=provider_message_id,
                status=M.MESSAGE_STATUS_SENT,
            ).update(applied=True)
        event = event_pb2.Event(
            tenant_id=row.tenant_id, channel_id=row.channel_id, message_status=status
        )
        events.append(await append_event(row.tenant_id, event, row.conversation_id))
    else:
        await row.save(update_fields=["provider_message_id", "updated_at"])
    return events + await apply_pending_statuses(row)


async def mark_failed(
    row: models.Message, error: message_pb2.ProviderError
) -> list[event_pb2.Event]:
    if not advances(row.status, M.MESSAGE_STATUS_FAILED):
        return []
    msg = M.Message.FromString(row.payload)
    msg.errors.append(error)
    row.payload = msg.SerializeToString()
    row.status = M.MESSAGE_STATUS_FAILED
    row.next_attempt_at = None
    await row.save(update_fields=["status", "payload", "next_attempt_at", "updated_at"])
    status = M.StatusUpdate(
        provider_message_id=row.provider_message_id or "",
        message_id=row.id,
        status=M.MESSAGE_STATUS_FAILED,
        conversation_id=row.conversation_id,
        errors=[error],
    )
    status.timestamp.GetCurrentTime()
    event = event_pb2.Event(
        tenant_id=row.tenant_id, channel_id=row.channel_id, message_status=status
    )
    return [await append_event(row.tenant_id, event, row.conversation_id)]


async def schedule_retry(row: models.Message, at: datetime, *, count: bool = True) -> None:
    """Set the next attempt time; `count` records a failed attempt."""
    if count:
        row.attempts += 1
    row.next_attempt_at = at
    await row.save(update_fields=["attempts", "next_attempt_at", "updated_at"])


async def due_outbound(limit: int = 100) -> list[models.Message]:
    """PENDING outbound messages whose retry time has come (or that a crash left behind)."""
    return (
        await models.Message.filter(
            direction=M.DIRECTION_OUTBOUND,
            status=M.MESSAGE_STATUS_PENDING,
            provider_message_id=None,
            next_attempt_at__lte=now(),
        )
        .order_by("seq")
        .limit(limit)
    )


# -- queries ----------------------------------------------------------------------------------


# Gateway ids are at most 40 characters; tortoise validates filter values against
# the column, so longer values (wamids) must not be matched against `id`.
_ID_MAX = 40


async def get_message(tenant_id: str, ident: str) -> models.Message | None:
    """By gateway id or provider message id, within the tenant."""
    cond = Q(provider_message_id=ident)
    if len(ident) <= _ID_MAX:
        cond |= Q(id=ident)
    return await models.Message.filter(tenant_id=tenant_id).filter(cond).first()


async def get_conversation(tenant_id: str, conversation_id: str) -> models.Conversation | None:
    if not conversation_id or len(conversation_id) > _ID_MAX:
        return None
    return await models.Conversation.get_or_none(tenant_id=tenant_id, id=conversation_id)


async def list_messages(
    tenant_id: str, conversation_id: str, limit: int, cursor: int | None
) -> tuple[list[models.Message], int | None]:
    """Newest first; the cursor is the last row's sequence number."""
    query = models.Message.filter(tenant_id=tenant_id, conversation_id=conversation_id)
    if cursor is not None:
        query = query.filter(seq__lt=cursor)
    rows = await query.order_by("-seq").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].seq if more else None)


async def list_conversations(
    tenant_id: str, channel_id: str, limit: int, cursor: int | None
) -> tuple[list[models.Conversation], int | None]:
    """Most recently created first, cursor on the sequence number (stable under new traffic)."""
    query = models.Conversation.filter(tenant_id=tenant_id)
    if channel_id:
        query = query.filter(channel_id=channel_id)
    if cursor is not None:
        query = query.filter(seq__lt=cursor)
    rows = await query.order_by("-seq").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].seq if more else None)


async def last_inbound(tenant_id: str, conversation_id: str) -> models.Message | None:
    return (
        await models.Message.filter(
            tenant_id=tenant_id, conversation_id=conversation_id, direction=M.DIRECTION_INBOUND
        )
        .order_by("-seq")
        .first()
    )
