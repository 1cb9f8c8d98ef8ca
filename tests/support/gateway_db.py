"""Read a running gateway's SQLite database from a test, read-only."""

from __future__ import annotations

import sqlite3
from typing import Any

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
