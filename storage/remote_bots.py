"""Remote bots in shared storage: who is connected, and the deliveries not yet settled.

A delivery is a row from the moment the chain hands a turn to a remote bot until
the chain has acted on the bot's reply (`done`) or given up waiting (`expired`),
so the replica a bot is connected to can send it, and a bot that reconnects, to
any replica, gets it again. States: `pending` (waiting for a reply), `answered`
(the first reply is stored; later replies to the same delivery are ignored),
`done`, `expired`. The chain's replica holds the rows it waits on (`held_until`,
renewed); an answered row nobody holds is acted on by another replica. See
docs/bots.md, "Remote bots over gRPC".

Every function is a `storage.writer` transaction body (`fn(sql, ...)`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.sql import Columns, Sql, placeholders

PENDING, ANSWERED, DONE, EXPIRED = "pending", "answered", "done", "expired"

_DELIVERY = Columns(
    "tenant_id", "bot", "delivery_id", "conversation_id", "payload", "state", "attempt",
    "created_at", "expires_at", "held_until",
)  # fmt: skip
_STREAM = Columns(
    "stream_id", "tenant_id", "name", "priority", "channels", "connected_at", "expires_at"
)


@dataclass(frozen=True)
class Connected:
    """A remote bot with at least one live stream, on any replica."""

    tenant_id: str
    name: str
    priority: int
    channels: tuple[str, ...]


@dataclass(frozen=True)
class Outgoing:
    """A pending delivery, as the replica holding the bot's stream sends it."""

    row_id: int
    payload: bytes
    attempt: int


# -- streams --------------------------------------------------------------------------


async def open_stream(
    sql: Sql, stream_id: str, bot: Connected, at: datetime, expires_at: datetime
) -> None:
    channels = json.dumps(list(bot.channels))
    await sql.run(
        f"INSERT INTO bot_stream ({_STREAM}) VALUES {_STREAM.values(1)}",
        [stream_id, bot.tenant_id, bot.name, bot.priority, channels, at, expires_at],
    )


async def _extend(sql: Sql, lease: str, ids: Sequence[object], until: datetime) -> None:
    """`lease` is "table.time_column.key_column": set the time of these rows to `until`."""
    table, column, key = lease.split(".")
    if ids:
        await sql.run(
            f"UPDATE {table} SET {column} = ? WHERE {key} IN ({placeholders(ids)})", [until, *ids]
        )


async def renew_streams(sql: Sql, stream_ids: list[str], expires_at: datetime) -> None:
    await _extend(sql, "bot_stream.expires_at.stream_id", stream_ids, expires_at)


async def close_stream(sql: Sql, stream_id: str, at: datetime) -> None:
    """Forget the stream, and the streams whose replica died without closing them."""
    await sql.run("DELETE FROM bot_stream WHERE stream_id = ? OR expires_at < ?", [stream_id, at])


async def connected(sql: Sql, at: datetime) -> list[Connected]:
    """Every remote bot with a live stream; the latest registration's priority and
    channels when a name has several streams."""
    rows = await sql.rows(
        "SELECT tenant_id, name, priority, channels FROM bot_stream WHERE expires_at >= ?"
        " ORDER BY connected_at, id",
        [at],
    )
    latest = {
        (str(r["tenant_id"]), str(r["name"])): Connected(
            str(r["tenant_id"]),
            str(r["name"]),
            int(r["priority"]),
            tuple(json.loads(r["channels"] or "[]")),
        )
        for r in rows
    }
    return list(latest.values())


# -- deliveries -----------------------------------------------------------------------


@dataclass(frozen=True)
class NewDelivery:
    tenant_id: str
    bot: str
    delivery_id: str
    conversation_id: str
    payload: bytes


async def add_delivery(
    sql: Sql, d: NewDelivery, at: datetime, expires_at: datetime, held_until: datetime
) -> int:
    """A new pending delivery, awaited until `expires_at`, held by the caller's replica
    until `held_until` (see `hold`); its row id. The same delivery again keeps its row."""
    await sql.run(
        f"INSERT INTO bot_delivery ({_DELIVERY}) VALUES {_DELIVERY.values(1)}"
        " ON CONFLICT (tenant_id, bot, delivery_id) DO NOTHING",
        [
            *(d.tenant_id, d.bot, d.delivery_id, d.conversation_id, d.payload),
            *(PENDING, 0, at, expires_at, held_until),
        ],
    )
    got = await sql.rows(
        "SELECT id FROM bot_delivery WHERE tenant_id = ? AND bot = ? AND delivery_id = ?",
        [d.tenant_id, d.bot, d.delivery_id],
    )
    return int(got[0]["id"])


async def hold(sql: Sql, row_ids: list[int], held_until: datetime) -> None:
    """The chain's replica still waits on (or acts on) these deliveries."""
    await _extend(sql, "bot_delivery.held_until.id", row_ids, held_until)


@dataclass(frozen=True)
class Orphan:
    """An answered delivery whose chain's replica stopped holding it (it died)."""

    row_id: int
    tenant_id: str
    bot: str
    payload: bytes
    reply: bytes


async def orphans(sql: Sql, at: datetime, held_until: datetime) -> list[Orphan]:
    """Answered deliveries nobody holds since before `at`, now held by the caller until
    `held_until`, so one replica at a time acts on each."""
    rows = await sql.rows(
        "UPDATE bot_delivery SET held_until = ? WHERE state = ? AND held_until < ?"
        " RETURNING id, tenant_id, bot, payload, reply",
        [held_until, ANSWERED, at],
    )
    return sorted(
        (
            Orphan(
                int(r["id"]),
                str(r["tenant_id"]),
                str(r["bot"]),
                bytes(r["payload"]),
                bytes(r["reply"]),
            )
            for r in rows
        ),
        key=lambda o: o.row_id,
    )


async def pending_ids(sql: Sql, tenant_id: str, bot: str, at: datetime) -> set[int]:
    """The row ids of the bot's deliveries that still wait for a reply."""
    rows = await sql.rows(
        "SELECT id FROM bot_delivery"
        " WHERE tenant_id = ? AND bot = ? AND state = ? AND expires_at > ?",
        [tenant_id, bot, PENDING, at],
    )
    return {int(r["id"]) for r in rows}


async def take(sql: Sql, row_ids: list[int]) -> list[Outgoing]:
    """These deliveries, each counted as one more attempt, oldest first (so in
    conversation order); those answered meanwhile are left out."""
    if not row_ids:
        return []
    rows = await sql.rows(
        "UPDATE bot_delivery SET attempt = attempt + 1"
        f" WHERE id IN ({placeholders(row_ids)}) AND state = ?"
        " RETURNING id, payload, attempt",
        [*row_ids, PENDING],
    )
    out = (Outgoing(int(r["id"]), bytes(r["payload"]), int(r["attempt"])) for r in rows)
    return sorted(out, key=lambda o: o.row_id)


async def answer(
    sql: Sql, tenant_id: str, bot: str, delivery_id: str, reply: bytes, at: datetime
) -> int | None:
    """Store the bot's reply if the delivery still waits for one; its row id, else None
    (a second reply, or one after the delivery's time is up, changes nothing)."""
    rows = await sql.rows(
        "UPDATE bot_delivery SET state = ?, reply = ?"
        " WHERE tenant_id = ? AND bot = ? AND delivery_id = ? AND state = ? AND expires_at > ?"
        " RETURNING id",
        [ANSWERED, reply, tenant_id, bot, delivery_id, PENDING, at],
    )
    return int(rows[0]["id"]) if rows else None


async def reply_of(sql: Sql, row_id: int) -> bytes | None:
    """The stored reply, once the delivery is answered."""
    rows = await sql.rows(
        "SELECT reply FROM bot_delivery WHERE id = ? AND state = ?", [row_id, ANSWERED]
    )
    return bytes(rows[0]["reply"]) if rows else None


async def expire(sql: Sql, row_id: int) -> bytes | None:
    """Give up waiting: an unanswered delivery is never sent again. If a reply was
    stored just before, it wins and is returned instead."""
    await sql.run(
        "UPDATE bot_delivery SET state = ? WHERE id = ? AND state = ?", [EXPIRED, row_id, PENDING]
    )
    return await reply_of(sql, row_id)


async def settle(sql: Sql, row_id: int) -> None:
    """The chain has acted on the reply."""
    await sql.run(
        "UPDATE bot_delivery SET state = ?, reply = NULL WHERE id = ? AND state = ?",
        [DONE, row_id, ANSWERED],
    )
