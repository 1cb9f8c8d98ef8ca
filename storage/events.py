"""Reading the event log back: replay for resuming streams (Socket.IO, gRPC).

Rows are written by `storage.repo.append_event`; the row id is the event id.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from storage import models
from wagate.v1 import event_pb2


@dataclass(frozen=True)
class Page:
    events: list[event_pb2.Event]
    # Non-zero: the page stopped early at this row, whose payload is not written yet
    # (append_event inserts, then fills the payload): read again shortly.
    blocked_id: int = 0


async def events_after(
    tenant_id: str,
    after_id: int,
    *,
    channel_ids: Collection[str] = (),
    conversation_ids: Collection[str] = (),
    kinds: Collection[int] = (),
    limit: int = 500,
) -> Page:
    """The tenant's stored events with id > after_id, oldest first; empty filters match all."""
    query = models.EventLog.filter(tenant_id=tenant_id, id__gt=after_id)
    if channel_ids:
        query = query.filter(channel_id__in=list(channel_ids))
    if conversation_ids:
        query = query.filter(conversation_id__in=list(conversation_ids))
    if kinds:
        query = query.filter(kind__in=list(kinds))
    rows = await query.order_by("id").limit(limit).values_list("id", "payload")
    events: list[event_pb2.Event] = []
    for row_id, payload in rows:
        if not payload:
            return Page(events, blocked_id=int(row_id))
        event = event_pb2.Event.FromString(bytes(payload))
        event.id = str(row_id)
        events.append(event)
    return Page(events)


async def last_event_id(tenant_id: str) -> int:
    """The newest stored event id of a tenant, 0 when it has none."""
    row = await models.EventLog.filter(tenant_id=tenant_id).order_by("-id").first()
    return int(row.id) if row is not None else 0
