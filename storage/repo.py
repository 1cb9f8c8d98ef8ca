"""Repositories: the only code that turns storage rows into wagate.v1 objects and back."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from tortoise.expressions import Q

from storage import models, writes
from storage.times import from_micros, now, to_micros, to_ts
from storage.writer import writer
from wagate.v1 import event_pb2, message_pb2

M = message_pb2


R = TypeVar("R")


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


# -- single writes (tests, rare paths); hot paths batch through storage.writes ------------


async def write(fn: Callable[..., Awaitable[R]], *args: Any, **kwargs: Any) -> R:
    """Run one `storage.writes` function in its own transaction."""
    return await writer().run(functools.partial(fn, **kwargs) if kwargs else fn, *args)


async def store_inbound(tenant_id: str, msg: message_pb2.Message) -> list[event_pb2.Event]:
    return await write(writes.store_inbound, [(tenant_id, msg)])


async def apply_status(
    tenant_id: str, channel_id: str, status: message_pb2.StatusUpdate
) -> list[event_pb2.Event]:
    return await write(writes.apply_statuses, [(channel_id, status)])


async def append_event(
    tenant_id: str, event: event_pb2.Event, conversation_id: str = ""
) -> event_pb2.Event:
    """Record an event in the log; its row id becomes the event id."""
    event.tenant_id = tenant_id
    return (await write(writes.append_events, [(event, conversation_id)]))[0]


async def create_outbound(
    tenant_id: str,
    channel_id: str,
    provider: str,
    to: str,
    msg: message_pb2.Message,
    idempotency_key: str,
    lease_until: datetime | None = None,
) -> writes.Outbound:
    request = writes.OutboundRequest(tenant_id, channel_id, provider, to, msg, idempotency_key)
    outs, _ = await write(writes.create_outbound, [request], lease_until or now())
    return outs[0]


async def mark_sent(
    message_id: str, provider_message_id: str, recipient_id: str = ""
) -> list[event_pb2.Event]:
    return await write(
        writes.mark_sent, [writes.Sent(message_id, provider_message_id, recipient_id)]
    )


async def mark_failed(message_id: str, error: message_pb2.ProviderError) -> list[event_pb2.Event]:
    return await write(writes.mark_failed, message_id, error)


async def schedule_retry(message_id: str, at: datetime, *, count: bool = True) -> None:
    await write(writes.schedule_retry, message_id, at, count=count)


async def due_outbound(limit: int = 100) -> list[writes.StoredMessage]:
    """PENDING outbound messages whose retry time has come (or that a crash left behind)."""
    rows = (
        await models.Message.filter(
            direction=M.DIRECTION_OUTBOUND,
            status=M.MESSAGE_STATUS_PENDING,
            provider_message_id=None,
            next_attempt_at__lte=now(),
        )
        .order_by("seq")
        .limit(limit)
    )
    return [writes.StoredMessage(message_proto(r), r.to, r.attempts) for r in rows]


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


def conversation_cursor(row: models.Conversation) -> str:
    """`<last message, µs since the epoch>.<seq>`: where the next page starts."""
    return f"{to_micros(row.last_message_at)}.{row.seq}"


def parse_conversation_cursor(cursor: str) -> tuple[datetime, int]:
    """ValueError for anything `conversation_cursor` did not make."""
    micros, seq = cursor.split(".")
    return from_micros(int(micros)), int(seq)


async def list_conversations(
    tenant_id: str, channel_id: str, limit: int, cursor: tuple[datetime, int] | None
) -> tuple[list[models.Conversation], str | None]:
    """Most recent activity first, as an inbox shows them (ties by creation order).

    Paging never shows a conversation twice in one pass: one that gets a message
    meanwhile moves above the cursor, and the client sees it at the top on its next
    refresh, as in any inbox.
    """
    query = models.Conversation.filter(tenant_id=tenant_id)
    if channel_id:
        query = query.filter(channel_id=channel_id)
    if cursor is not None:
        at, seq = cursor
        query = query.filter(Q(last_message_at__lt=at) | Q(last_message_at=at, seq__lt=seq))
    rows = await query.order_by("-last_message_at", "-seq").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (conversation_cursor(rows[-1]) if more else None)


async def last_inbound(tenant_id: str, conversation_id: str) -> models.Message | None:
    return (
        await models.Message.filter(
            tenant_id=tenant_id, conversation_id=conversation_id, direction=M.DIRECTION_INBOUND
        )
        .order_by("-seq")
        .first()
    )
