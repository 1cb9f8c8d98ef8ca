"""What is waiting, read when Prometheus scrapes `/metrics`: acknowledged webhooks not
applied yet (and how long the oldest has waited), and sends not accepted yet.

Read from the database rather than counted in memory, so the numbers survive a
restart and agree across replicas (each replica reports the same totals).
"""

from __future__ import annotations

from core.metrics import INGEST_BACKLOG_AGE, INGEST_BACKLOG_ROWS, OUTBOX_PENDING
from storage import models
from storage.inbox import PENDING, RAW
from storage.times import db_datetime, now
from wagate.v1 import message_pb2

M = message_pb2


async def refresh_gauges() -> None:
    """Set the backlog and outbox gauges from the database."""
    waiting = models.WebhookInbox.filter(state__in=[PENDING, RAW])
    INGEST_BACKLOG_ROWS.set(await waiting.count())
    oldest = await waiting.order_by("id").first()
    age = (now() - db_datetime(oldest.received_at)).total_seconds() if oldest else 0.0
    INGEST_BACKLOG_AGE.set(max(age, 0.0))
    OUTBOX_PENDING.set(
        await models.Message.filter(
            direction=M.DIRECTION_OUTBOUND,
            status=M.MESSAGE_STATUS_PENDING,
            provider_message_id=None,
        ).count()
    )
