"""Bot state (gateway.bots): run claims, flow sessions, AI usage and history.

Every function here is a `storage.writer` transaction body (`fn(sql, ...)`): it
only awaits `Sql` methods, so on SQLite it runs whole on the loop.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.sql import Columns, Sql, flat
from storage.times import db_datetime_or_none
from wagate.v1 import message_pb2

M = message_pb2

ACTIVE, PAUSED, COMPLETED, ERRORED = "active", "paused", "completed", "errored"
HANDOFF = "@handoff"  # the session a hand-off to a human keeps, whoever asked for it

_RUN = Columns("tenant_id", "message_id", "conversation_id", "state", "plugin", "created_at")
_SESSION = Columns("tenant_id", "conversation_id", "flow", "node", "status", "vars", "updated_at")
_USAGE = Columns(
    "tenant_id", "conversation_id", "provider", "model", "tokens_in", "tokens_out", "created_at"
)


@dataclass
class SessionRow:
    flow: str
    node: str
    status: str
    vars: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


async def claim(
    sql: Sql, tenant_id: str, conversation_id: str, message_ids: Sequence[str], at: datetime
) -> tuple[list[str], dict[str, SessionRow]]:
    """Claim inbound messages for one chain run (a claimed id is never run again),
    and load the conversation's sessions."""
    rows = [(tenant_id, m, conversation_id, "claimed", "", at) for m in message_ids]
    got = await sql.rows(
        f"INSERT INTO bot_run ({_RUN}) VALUES {_RUN.values(len(rows))}"
        " ON CONFLICT (message_id) DO NOTHING"
        " RETURNING message_id",
        flat(rows),
    )
    claimed = {str(r["message_id"]) for r in got}
    sessions: dict[str, SessionRow] = {}
    if claimed:
        for r in await sql.rows(
            "SELECT flow, node, status, vars, updated_at FROM bot_session"
            " WHERE conversation_id = ?",
            [conversation_id],
        ):
            sessions[str(r["flow"])] = SessionRow(
                str(r["flow"]),
                str(r["node"]),
                str(r["status"]),
                json.loads(r["vars"] or "{}"),
                db_datetime_or_none(r["updated_at"]),
            )
    return [m for m in message_ids if m in claimed], sessions


async def finish(sql: Sql, message_ids: Sequence[str], state: str, plugin: str) -> None:
    marks = ", ".join("?" * len(message_ids))
    await sql.run(
        f"UPDATE bot_run SET state = ?, plugin = ? WHERE message_id IN ({marks})",
        [state, plugin, *message_ids],
    )


async def save_session(
    sql: Sql, tenant_id: str, conversation_id: str, row: SessionRow, at: datetime
) -> None:
    await sql.run(
        f"INSERT INTO bot_session ({_SESSION}) VALUES {_SESSION.values(1)}"
        " ON CONFLICT (conversation_id, flow)"
        " DO UPDATE SET node = excluded.node, status = excluded.status,"
        " vars = excluded.vars, updated_at = excluded.updated_at",
        [tenant_id, conversation_id, row.flow, row.node, row.status, json.dumps(row.vars), at],
    )


async def release(sql: Sql, conversation_id: str, at: datetime) -> int:
    """End every paused session of the conversation; returns how many."""
    got = await sql.rows(
        "UPDATE bot_session SET status = ?, updated_at = ? WHERE conversation_id = ?"
        " AND status = ? RETURNING id",
        [COMPLETED, at, conversation_id, PAUSED],
    )
    return len(got)


async def record_usage(
    sql: Sql,
    tenant_id: str,
    conversation_id: str,
    provider: str,
    model: str,
    tokens: tuple[int, int],
    at: datetime,
) -> None:
    await sql.run(
        f"INSERT INTO bot_usage ({_USAGE}) VALUES {_USAGE.values(1)}",
        [tenant_id, conversation_id, provider, model, tokens[0], tokens[1], at],
    )


async def usage_counts(
    sql: Sql, tenant_id: str, conversation_id: str, since: datetime
) -> tuple[int, int]:
    """(AI calls of the tenant ever, AI calls in this conversation since `since`)."""
    total = await sql.rows("SELECT count(*) AS n FROM bot_usage WHERE tenant_id = ?", [tenant_id])
    today = await sql.rows(
        "SELECT count(*) AS n FROM bot_usage WHERE conversation_id = ? AND created_at >= ?",
        [conversation_id, since],
    )
    return int(total[0]["n"]), int(today[0]["n"])


async def history(
    sql: Sql, conversation_id: str, since: datetime, limit: int
) -> list[tuple[str, str]]:
    """The last `limit` text messages since `since`, oldest first, as (role, text)."""
    rows = await sql.rows(
        "SELECT direction, payload FROM message WHERE conversation_id = ? AND created_at >= ?"
        " ORDER BY seq DESC LIMIT ?",
        [conversation_id, since, limit],
    )
    out = []
    for r in reversed(rows):
        msg = M.Message.FromString(bytes(r["payload"]))
        text = message_text(msg)
        if text:
            role = "user" if int(r["direction"]) == M.DIRECTION_INBOUND else "assistant"
            out.append((role, text))
    return out


def message_text(msg: message_pb2.Message) -> str:
    kind = msg.WhichOneof("content")
    if kind == "text":
        return msg.text.body
    if kind == "button_reply":
        return msg.button_reply.title or msg.button_reply.id
    if kind == "list_reply":
        return msg.list_reply.title or msg.list_reply.id
    if kind == "interactive":
        return msg.interactive.body
    if kind in ("image", "video", "document"):
        return str(getattr(msg, kind).caption)
    return ""
