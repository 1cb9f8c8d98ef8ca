"""Where write transactions run: `await writer().run(fn, *args)` → `fn(sql, *args)`.

On PostgreSQL a transaction is an ordinary asyncpg transaction from tortoise's
pool: row locks let many run at once.

SQLite has one write lock for the whole file, and the group commits make its
transactions few and short (one multi-row statement per table). Through
aiosqlite every statement is a hop to its thread and back, and under load each
hop waits for the event loop and for the GIL, so a transaction held the lock
across many loop iterations and every webhook ack queued behind it. So on
SQLite every write transaction runs whole, on the loop, on a dedicated
connection: the `storage.writes` functions only await `Sql` methods, which here
complete synchronously, so the coroutine is driven to its end in one step. The
loop blocks for the SQL itself and the commit's fsync (well under a
millisecond for a batch), which costs less than the thread handoffs did; see
`make bench`. Transactions never interleave, and commit order is call order.
"""

from __future__ import annotations

import asyncio
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any, TypeVar

from storage.db import transaction
from storage.sql import Sql

R = TypeVar("R")

WriteFn = Callable[..., Awaitable[R]]

# The same text forms tortoise stores, so ORM reads see identical values.
sqlite3.register_adapter(date, lambda v: v.isoformat())
sqlite3.register_adapter(datetime, lambda v: v.isoformat(" "))


class Writer(ABC):
    @abstractmethod
    async def run(self, fn: WriteFn[R], *args: Any) -> R:
        """Run `fn(sql, *args)` in one transaction and return its result."""

    async def close(self) -> None:
        return None


class TortoiseWriter(Writer):
    async def run(self, fn: WriteFn[R], *args: Any) -> R:
        async with transaction() as conn:
            return await fn(Sql(conn), *args)


class _SyncSql(Sql):
    """`Sql` over a blocking sqlite3 connection; its coroutines never suspend."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.sqlite = conn
        self.postgres = False

    async def rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.sqlite.execute(sql, list(args))
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    async def run(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.sqlite.execute(sql, list(args))

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.sqlite.executemany(sql, [list(r) for r in rows])


def _drive(coro: Coroutine[Any, Any, R]) -> R:
    """Run a coroutine that never awaits anything real to its end."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("a write transaction awaited something other than SQL")


class SqliteWriter(Writer):
    def __init__(self, path: str, pragmas: dict[str, str]) -> None:
        self._path = path
        self._pragmas = pragmas
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-commit")

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            for key, value in self._pragmas.items():
                conn.execute(f"PRAGMA {key}={value}")
            self._conn = conn
        return self._conn

    def _commit(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    async def run(self, fn: WriteFn[R], *args: Any) -> R:
        async with self._lock:
            conn = self._connect()
            changes = conn.total_changes
            conn.execute("BEGIN IMMEDIATE")
            try:
                result: R = _drive(fn(_SyncSql(conn), *args))  # type: ignore[arg-type]
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            if conn.total_changes == changes:  # nothing written: nothing to sync
                conn.execute("COMMIT")
            else:  # the fsync releases the GIL: let the loop run meanwhile
                await asyncio.get_running_loop().run_in_executor(self._pool, self._commit, conn)
            return result

    async def close(self) -> None:
        async with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        self._pool.shutdown(wait=True)


_current: Writer = TortoiseWriter()


def writer() -> Writer:
    return _current


def install(new: Writer) -> None:
    global _current
    _current = new
