"""Read a running gateway's SQLite database from a test, read-only."""

from __future__ import annotations

import sqlite3
from typing import Any

from storage.inbox import DONE
from tests.support.procs import Gateway


def db_rows(gw: Gateway, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the gateway's SQLite database (read-only connection)."""
    path = gw.database_url.removeprefix("sqlite://")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def db_count(gw: Gateway, sql: str, params: tuple[Any, ...] = ()) -> int:
    return int(db_rows(gw, sql, params)[0][0])


def inbox_states(gw: Gateway) -> list[str]:
    """The state of every webhook inbox row, oldest first."""
    return [r[0] for r in db_rows(gw, "SELECT state FROM webhook_inbox ORDER BY id")]


def inbox_done(gw: Gateway, n: int) -> bool:
    """Whether the inbox holds `n` rows and ingest has applied every one."""
    states = inbox_states(gw)
    return len(states) == n and all(s == DONE for s in states)
