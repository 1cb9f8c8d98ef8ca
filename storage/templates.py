"""Message templates as the provider's webhooks describe them: the category a
template was last given decides whether sending it is marketing."""

from __future__ import annotations

from collections.abc import Sequence

from storage.events import append_events
from storage.sql import Columns, Sql, chunks, flat
from storage.times import now
from wagate.v1 import event_pb2

Item = tuple[str, event_pb2.Event]  # (tenant id, template_updated event)

_TEMPLATE = Columns(
    "tenant_id",
    "account_id",
    "template_id",
    "name",
    "language",
    "category",
    "status",
    "quality",
    "updated_at",
)


async def apply_templates(sql: Sql, items: Sequence[Item]) -> list[event_pb2.Event]:
    """Keep each template's latest category, status and quality; log the events."""
    at = now()
    latest: dict[tuple[str, str, str], tuple[str, ...]] = {}
    for tenant_id, event in items:
        t = event.template_updated
        event.tenant_id = tenant_id
        if t.template_id:
            key = (tenant_id, t.waba_id, t.template_id)
            old = latest.get(key)
            merged = [t.name, t.language, t.category, t.status, t.quality]
            if old is not None:  # one row per key and statement; later values win
                merged = [new or prev for new, prev in zip(merged, old, strict=True)]
            latest[key] = tuple(merged)
    rows = [(*key, *fields, at) for key, fields in latest.items()]
    for chunk in chunks(rows, _TEMPLATE.per_statement):
        await sql.run(
            f"INSERT INTO message_template ({_TEMPLATE}) VALUES {_TEMPLATE.values(len(chunk))}"
            " ON CONFLICT (tenant_id, account_id, template_id) DO UPDATE SET"
            " name = CASE WHEN excluded.name <> '' THEN excluded.name"
            " ELSE message_template.name END,"
            " language = CASE WHEN excluded.language <> '' THEN excluded.language"
            " ELSE message_template.language END,"
            " category = CASE WHEN excluded.category <> '' THEN excluded.category"
            " ELSE message_template.category END,"
            " status = CASE WHEN excluded.status <> '' THEN excluded.status"
            " ELSE message_template.status END,"
            " quality = CASE WHEN excluded.quality <> '' THEN excluded.quality"
            " ELSE message_template.quality END,"
            " updated_at = excluded.updated_at",
            flat(chunk),
        )
    return await append_events(sql, [(e, "") for _, e in items])


async def template_category(sql: Sql, tenant_id: str, name: str, language: str) -> str:
    """The category the provider last gave the tenant's template `name` in `language`
    (any language when none matches); "" when no webhook described it."""
    rows = await sql.rows(
        "SELECT category, language FROM message_template WHERE tenant_id = ? AND name = ?"
        " AND category <> '' ORDER BY updated_at DESC",
        [tenant_id, name],
    )
    exact = [r["category"] for r in rows if r["language"] == language]
    return str((exact or [r["category"] for r in rows] or [""])[0])
