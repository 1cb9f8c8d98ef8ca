"""Repositories: the only code that turns storage rows into wagate.v1 objects and back."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from tortoise.expressions import Q

from storage import events, models, outbound
from storage.messages import READ_FIELDS, StoredMessage, stored_message
from storage.times import from_micros, to_micros, to_ts
from storage.writer import writer
from wagate.v1 import event_pb2, message_pb2

M = message_pb2


R = TypeVar("R")


# -- tenants ----------------------------------------------------------------------------


async def sync_tenants(tenants: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> None:
    """Mirror configured tenants and their (channel id, provider) into the database."""
    for tenant_id, channels in tenants:
        await models.Tenant.get_or_create(id=tenant_id)
        for channel_id, provider in channels:
            await models.Channel.update_or_create(
                id=channel_id, defaults={"tenant_id": tenant_id, "provider": provider}
            )


# -- single writes, each its own transaction (hot paths batch through writer().run) ------


async def write(fn: Callable[..., Awaitable[R]], *args: Any, **kwargs: Any) -> R:
    """Run one transaction body (`fn(sql, *args, **kwargs)`) in its own transaction."""
    return await writer().run(functools.partial(fn, **kwargs) if kwargs else fn, *args)


async def append_event(
    tenant_id: str, event: event_pb2.Event, conversation_id: str = ""
) -> event_pb2.Event:
    """Record an event in the log; its row id becomes the event id."""
    event.tenant_id = tenant_id
    return (await write(events.append_events, [(event, conversation_id)]))[0]


async def schedule_retry(message_id: str, at: datetime, *, count: bool = True) -> None:
    await write(outbound.schedule_retry, message_id, at, count=count)


def contact_proto(row: models.Contact) -> message_pb2.Contact:
    contact = M.Contact(
        wa_id=row.wa_id,
        user_id=row.user_id,
        name=row.name,
        username=row.username,
        marketing_messages=row.marketing_messages or "",
    )
    if row.marketing_messages_at is not None:
        contact.marketing_messages_updated_at.CopyFrom(to_ts(row.marketing_messages_at))
    return contact


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


def _stored(row: models.Message) -> StoredMessage:
    return stored_message({name: getattr(row, name) for name in READ_FIELDS})


def message_proto(row: models.Message) -> message_pb2.Message:
    """The stored payload with the row's live columns laid over it."""
    return _stored(row).message


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
