"""Message rows: inserted in batches, read back as protos, their status saved.

A row keeps the whole message as its serialized payload; the columns that change
after the insert (ids, status, times) are laid over the payload when it is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.sql import Columns, Sql, chunks, flat, placeholders
from storage.times import db_datetime, to_ts
from wagate.v1 import message_pb2

M = message_pb2

_INSERT = Columns(
    "id",
    "tenant_id",
    "channel_id",
    "conversation_id",
    "provider",
    "provider_message_id",
    "direction",
    "status",
    "content_type",
    "idempotency_key",
    "payload",
    '"to"',
    "attempts",
    "next_attempt_at",
    "created_at",
    "updated_at",
)
# What `stored_message` reads.
_READ = Columns(
    "id",
    "tenant_id",
    "channel_id",
    "conversation_id",
    "provider_message_id",
    "status",
    "payload",
    '"to"',
    "attempts",
    "created_at",
    "updated_at",
)
# The keys of a row `stored_message` reads: the columns above, as ORM fields too.
READ_FIELDS = tuple(name.strip('"') for name in _READ.names)


@dataclass
class StoredMessage:
    """A message as the outbox and the status machine carry it between statements."""

    message: message_pb2.Message
    to: str = ""
    attempts: int = 0


def content_type(msg: message_pb2.Message) -> str:
    return msg.WhichOneof("content") or "unsupported"


def stored_message(row: Mapping[str, Any]) -> StoredMessage:
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


def _row(s: StoredMessage, at: datetime, next_attempt_at: datetime | None) -> tuple[Any, ...]:
    m = s.message
    return (
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


async def insert_messages(
    sql: Sql, msgs: Sequence[StoredMessage], at: datetime, next_attempt_at: datetime | None
) -> set[str]:
    """INSERT, skipping rows a unique key already holds; returns the ids inserted."""
    inserted: set[str] = set()
    stamp = to_ts(at)
    for chunk in chunks(msgs, _INSERT.per_statement):
        for s in chunk:
            s.message.created_at.CopyFrom(stamp)
            s.message.updated_at.CopyFrom(stamp)
        rows = [_row(s, at, next_attempt_at) for s in chunk]
        got = await sql.rows(
            f"INSERT INTO message ({_INSERT}) VALUES {_INSERT.values(len(rows))}"
            " ON CONFLICT DO NOTHING RETURNING id",
            flat(rows),
        )
        inserted.update(r["id"] for r in got)
    return inserted


async def _messages_where(sql: Sql, where: str, args: Sequence[Any]) -> list[StoredMessage]:
    rows = await sql.rows(f"SELECT {_READ} FROM message WHERE {where}", args)
    return [stored_message(r) for r in rows]


async def messages_by_provider_id(sql: Sql, keys: Iterable[tuple[str, str]]) -> list[StoredMessage]:
    """Messages by (channel_id, provider_message_id)."""
    by_channel: dict[str, list[str]] = {}
    for channel_id, pmid in keys:
        by_channel.setdefault(channel_id, []).append(pmid)
    out: list[StoredMessage] = []
    for channel_id, pmids in by_channel.items():
        for chunk in chunks(pmids):
            out += await _messages_where(
                sql,
                f"channel_id = ? AND provider_message_id IN ({placeholders(chunk)})",
                [channel_id, *chunk],
            )
    return out


async def messages_by_id(sql: Sql, ids: Sequence[str]) -> list[StoredMessage]:
    out: list[StoredMessage] = []
    for chunk in chunks(ids):
        out += await _messages_where(sql, f"id IN ({placeholders(chunk)})", chunk)
    return out


async def messages_by_idempotency_key(
    sql: Sql, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], StoredMessage]:
    """(tenant id, idempotency key) → the message stored under it."""
    by_tenant: dict[str, list[str]] = {}
    for tenant_id, key in keys:
        by_tenant.setdefault(tenant_id, []).append(key)
    out: dict[tuple[str, str], StoredMessage] = {}
    for tenant_id, idem in by_tenant.items():
        for chunk in chunks(idem):
            rows = await sql.rows(
                f"SELECT {_READ}, idempotency_key FROM message WHERE tenant_id = ?"
                f" AND idempotency_key IN ({placeholders(chunk)})",
                [tenant_id, *chunk],
            )
            for row in rows:
                out[(tenant_id, row["idempotency_key"])] = stored_message(row)
    return out


async def save_status(sql: Sql, targets: Sequence[StoredMessage], at: datetime) -> None:
    """Store each message's status and payload (its errors); a settled message is no
    longer due for an attempt."""
    for s in targets:
        s.message.updated_at.CopyFrom(to_ts(at))
    await sql.run_many(
        "UPDATE message SET status = ?, payload = ?, next_attempt_at = NULL, updated_at = ?"
        " WHERE id = ?",
        [(s.message.status, s.message.SerializeToString(), at, s.message.id) for s in targets],
    )
