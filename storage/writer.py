"""Where write transactions run: `await writer().run(fn, *args)` → `fn(sql, *args)`.

On PostgreSQL a transaction is an ordinary asyncpg transaction from tortoise's
pool: row locks let many run at once.

SQLite has one write lock for the whole file, and the group commits make its
transactions few and short (one multi-row statement per table). Through
aiosqlite every statement is a hop to its thread and back, and under load each
hop waits for the event loop and for the GIL, so a transaction held the lock
across many loop iterations and every webhook ack queued behind it. So on
SQLite every write transaction runs whole, on the loop, on a dedicated
connection: transaction bodies (`fn(sql, ...)`) only await `Sql` methods, which here
complete synchronously, so the coroutine is driven to its end in one step. The
loop blocks for the SQL itself (tens of microseconds for a batch); the COMMIT,
whose fsync releases the GIL, runs in a thread with the write lock still held, so
a row other connections can see is already on disk, and every event about it is
published after that. Transactions never interleave, and commit order is call
order. Reads that must see the writer's own commits use `read`, on the same
connection, without a write transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import TransactionContext
from tortoise.transactions import in_transaction

from storage.locks import lock_event_log
from storage.sql import Sql
from storage.times import db_text

R = TypeVar("R")

WriteFn = Callable[..., Awaitable[R]]


def _register_adapters() -> None:
    """The text forms tortoise stores, so ORM reads see identical values. C-level
    callables: the adapter runs for every datetime bound, and tortoise's own (a
    lambda, registered when its SQLite backend loads) costs a Python frame each."""
    sqlite3.register_adapter(date, date.isoformat)
    sqlite3.register_adapter(datetime, db_text)


_register_adapters()


# The tortoise connection every query of ours runs on (storage.db configures it).
DEFAULT = "default"


def transaction() -> TransactionContext:
    """An ORM transaction on the default connection."""
    return in_transaction(DEFAULT)


class Writer(ABC):
    @abstractmethod
    async def run(self, fn: WriteFn[R], *args: Any, events: bool = True) -> R:
        """Run `fn(sql, *args)` in one transaction and return its result.

        `events=False` promises that `fn` appends no events: on PostgreSQL the
        transaction then does not take the event-log lock (storage.locks), which every
        other one takes first, before any row lock, so that they queue in one order.
        """

    @abstractmethod
    async def read(self, fn: WriteFn[R], *args: Any) -> R:
        """Run a read-only `fn(sql, *args)` that sees every commit `run` has made."""

    async def close(self) -> None:
        return None


class TortoiseWriter(Writer):
    async def run(self, fn: WriteFn[R], *args: Any, events: bool = True) -> R:
        async with transaction() as conn:
            sql = Sql(conn)
            if events:
                await lock_event_log(sql)
            return await fn(sql, *args)

    async def read(self, fn: WriteFn[R], *args: Any) -> R:
        return await fn(Sql(connections.get(DEFAULT)), *args)


class _SyncSql(Sql):
    """`Sql` over a blocking sqlite3 connection; its coroutines never suspend."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.sqlite = conn
        self.postgres = False
        self.events_locked = False

    async def rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.sqlite.execute(sql, list(args))
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    async def run(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.sqlite.execute(sql, list(args))

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.sqlite.executemany(sql, rows)


def _drive(coro: Coroutine[Any, Any, R]) -> R:
    """Run a coroutine that never awaits anything real to its end."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("a write transaction awaited something other than SQL")


class SqliteWriter(Writer):
    """Write transactions on one dedicated sqlite3 connection, run whole on the loop;
    each COMMIT (with its fsync) in a thread, the write lock held until it is done."""

    def __init__(self, path: str, pragmas: dict[str, str]) -> None:
        _register_adapters()  # again: tortoise's SQLite backend has loaded by now
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

    async def run(self, fn: WriteFn[R], *args: Any, events: bool = True) -> R:
        async with self._lock:
            conn = self._connect()
            changes = conn.total_changes
            conn.execute("BEGIN IMMEDIATE")
            try:
                result: R = _drive(fn(_SyncSql(conn), *args))  # type: ignore[arg-type]
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            if conn.total_changes == changes:
                # Nothing stored, so nothing to commit. Not COMMIT: an INSERT that hit
                # ON CONFLICT DO NOTHING still dirtied an AUTOINCREMENT table's
                # sqlite_sequence page, and its COMMIT would append to the WAL and fsync
                # on the loop, for every redelivered webhook.
                conn.execute("ROLLBACK")
            else:  # the fsync releases the GIL: let the loop run meanwhile
                await asyncio.get_running_loop().run_in_executor(self._pool, self._commit, conn)
            return result

    async def read(self, fn: WriteFn[R], *args: Any) -> R:
        async with self._lock:  # not while a COMMIT is running on this connection
            result: R = _drive(fn(_SyncSql(self._connect()), *args))  # type: ignore[arg-type]
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
