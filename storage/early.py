"""Reports that may arrive before their message: statuses (`status_event`) and edits
or revokes (`message_change`). Each is kept with an `applied` flag and applied when
its message is stored or when it arrives, whichever comes last."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from storage.messages import StoredMessage
from storage.sql import Columns, Sql, chunks, flat, placeholders


def by_provider_key(targets: Sequence[StoredMessage]) -> dict[tuple[str, str], StoredMessage]:
    """Messages by (channel id, provider message id), those that have one."""
    return {
        (s.message.channel_id, s.message.provider_message_id): s
        for s in targets
        if s.message.provider_message_id
    }


async def record(
    sql: Sql, table: str, columns: Columns, rows: Sequence[tuple[Any, ...]]
) -> set[tuple[str, str]]:
    """Insert reports once each (the table's unique key drops redeliveries); returns the
    (channel id, provider message id) of those that were new."""
    fresh: set[tuple[str, str]] = set()
    for chunk in chunks(rows, columns.per_statement):
        got = await sql.rows(
            f"INSERT INTO {table} ({columns}) VALUES {columns.values(len(chunk))}"
            " ON CONFLICT DO NOTHING RETURNING channel_id, provider_message_id",
            flat(chunk),
        )
        fresh.update((r["channel_id"], r["provider_message_id"]) for r in got)
    return fresh


async def unapplied(
    sql: Sql, table: str, columns: str, keys: Iterable[tuple[str, str]]
) -> list[dict[str, Any]]:
    """A table's unapplied rows for these (channel id, provider message id) keys:
    `id`, `channel_id`, `provider_message_id`, `payload` and `columns`."""
    by_channel: dict[str, list[str]] = {}
    for channel_id, pmid in keys:
        by_channel.setdefault(channel_id, []).append(pmid)
    pending: list[dict[str, Any]] = []
    for channel_id, pmids in by_channel.items():
        for chunk in chunks(pmids):
            pending += await sql.rows(
                f"SELECT id, channel_id, provider_message_id, payload, {columns} FROM {table}"
                f" WHERE NOT applied AND channel_id = ? AND provider_message_id IN"
                f" ({placeholders(chunk)})",
                [channel_id, *chunk],
            )
    return pending


async def mark_applied(sql: Sql, table: str, ids: Sequence[int]) -> None:
    for chunk in chunks(ids):
        await sql.run(
            f"UPDATE {table} SET applied = ? WHERE id IN ({placeholders(chunk)})", [True, *chunk]
        )
