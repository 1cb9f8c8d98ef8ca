"""Raw SQL on a tortoise connection, written once for SQLite and PostgreSQL.

The hot paths (inbox, ingest, outbox) work on whole batches: one multi-row
statement per table instead of one ORM round trip per row. SQL is written with
`?` placeholders and rewritten to `$n` for asyncpg. Both engines support
`INSERT … ON CONFLICT … RETURNING` (SQLite since 3.35).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence, Sized
from functools import lru_cache
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

_QMARK = re.compile(r"\?")


@lru_cache(maxsize=512)
def _numbered(sql: str) -> str:
    counter = iter(range(1, 1 << 20))
    return _QMARK.sub(lambda _: f"${next(counter)}", sql)


# Bind parameters per batch statement, and ids per IN list: far below the 32k
# that SQLite and PostgreSQL both allow, so that no statement grows unbounded.
PARAMS_PER_STATEMENT = 1000

T = TypeVar("T")


def flat(rows: Iterable[Sequence[Any]]) -> list[Any]:
    return [v for row in rows for v in row]


def placeholders(items: Sized) -> str:
    """`?, ?, ?` for an IN list."""
    return ", ".join("?" * len(items))


def chunks(items: Sequence[T], size: int = PARAMS_PER_STATEMENT) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Columns:
    """The column list of a multi-row INSERT: its SQL text, its VALUES list, and
    how many rows fit one statement, all derived from the names."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self.per_statement = PARAMS_PER_STATEMENT // len(names)
        self._row = "(" + ", ".join("?" * len(names)) + ")"

    def __str__(self) -> str:
        return ", ".join(self.names)

    def values(self, rows: int) -> str:
        """`(?, ?), (?, ?)`: the VALUES list of `rows` rows."""
        return ", ".join([self._row] * rows)


class Sql:
    """One connection (or open transaction) and the dialect to speak on it."""

    def __init__(self, conn: BaseDBAsyncClient | None = None) -> None:
        self.conn = conn or connections.get("default")
        self.postgres = str(self.conn.capabilities.dialect) == "postgres"
        # Set once this transaction holds the event-log lock (storage.locks).
        self.events_locked = False

    def _q(self, sql: str) -> str:
        return _numbered(sql) if self.postgres else sql

    async def rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return await self.conn.execute_query_dict(self._q(sql), list(args))

    async def run(self, sql: str, args: Sequence[Any] = ()) -> None:
        await self.conn.execute_query(self._q(sql), list(args))

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            await self.conn.execute_many(self._q(sql), [list(r) for r in rows])

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.postgres else f"max({a}, {b})"
