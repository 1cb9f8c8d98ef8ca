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
complete synchronously, so the coroutine is driven to its end in one step: from
BEGIN to COMMIT nothing else runs, and commit order is call order.

Durability (`synchronous=FULL`) is not paid inside the write lock: the COMMIT
only writes the WAL, and `WalSync` fsyncs it in a thread for every commit made
so far, while the loop goes on. A caller's `run` returns once its commit is on
disk; a webhook is acknowledged only then. Reads that must see the writer's own
commits use `read`, which takes no write lock.
"""

from __future__ import annotations

import asyncio
import operator
import os
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any, TypeVar

from tortoise import connections

from storage.db import DEFAULT, transaction
from storage.sql import Sql

R = TypeVar("R")

WriteFn = Callable[..., Awaitable[R]]


def _register_adapters() -> None:
    """The text forms tortoise stores, so ORM reads see identical values. C-level
    callables: the adapter runs for every datetime bound, and tortoise's own (a
    lambda, registered when its SQLite backend loads) cost a Python frame each."""
    sqlite3.register_adapter(date, date.isoformat)
    sqlite3.register_adapter(datetime, operator.methodcaller("isoformat", " "))


_register_adapters()


class Writer(ABC):
    @abstractmethod
    async def run(self, fn: WriteFn[R], *args: Any) -> R:
        """Run `fn(sql, *args)` in one transaction and return its result."""

    @abstractmethod
    async def read(self, fn: WriteFn[R], *args: Any) -> R:
        """Run a read-only `fn(sql, *args)` that sees every commit `run` has made."""

    async def close(self) -> None:
        return None


class TortoiseWriter(Writer):
    async def run(self, fn: WriteFn[R], *args: Any) -> R:
        async with transaction() as conn:
            return await fn(Sql(conn), *args)

    async def read(self, fn: WriteFn[R], *args: Any) -> R:
        return await fn(Sql(connections.get(DEFAULT)), *args)


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
            self.sqlite.executemany(sql, rows)


def _drive(coro: Coroutine[Any, Any, R]) -> R:
    """Run a coroutine that never awaits anything real to its end."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("a write transaction awaited something other than SQL")


class WalSync:
    """Group durability for a WAL database: one fsync of the `-wal` file makes every
    commit written before it durable.

    The writer connection commits with `synchronous=NORMAL` (frames written, not
    synced) and then waits here. Commits that arrive while an fsync is running wait
    for the next one, so the write lock is never held across an fsync and a busy
    writer needs far fewer fsyncs than commits. Checkpoints, which SQLite would run
    inside a COMMIT on the loop, run here too, on their own connection.
    """

    CHECKPOINT_EVERY = 0.5  # seconds between passive checkpoints while writing

    def __init__(self, path: str, pool: ThreadPoolExecutor) -> None:
        self._path = path
        self._pool = pool
        self._fd: int | None = None
        self._checkpointer: sqlite3.Connection | None = None
        self._last_checkpoint = time.monotonic()
        self._committed = 0
        self._synced = 0
        self._round: asyncio.Future[None] | None = None

    def committed(self, changed: bool = True) -> int:
        """Record a commit; returns its ticket for `durable`.

        A commit that changed no row needs no fsync of its own, but its caller may
        act on rows it read (a duplicate webhook is acknowledged because the first
        delivery is stored), so its ticket is that of the last commit before it.
        """
        if changed:
            self._committed += 1
        return self._committed

    async def durable(self, ticket: int) -> None:
        """Return once the commit with `ticket` is on disk."""
        while self._synced < ticket:
            if self._round is None:
                self._round = asyncio.ensure_future(self._sync_round())
            await asyncio.shield(self._round)

    async def _sync_round(self) -> None:
        target = self._committed
        try:
            await asyncio.get_running_loop().run_in_executor(self._pool, self._sync)
            self._synced = max(self._synced, target)
        finally:
            self._round = None

    def _sync(self) -> None:
        """In the pool thread: fsync the WAL; now and then, checkpoint it."""
        fd = self._fd
        if fd is None or os.fstat(fd).st_nlink == 0:  # first use, or the file was replaced
            if fd is not None:
                os.close(fd)
            fd = self._fd = os.open(f"{self._path}-wal", os.O_RDONLY)
        os.fsync(fd)
        if time.monotonic() - self._last_checkpoint >= self.CHECKPOINT_EVERY:
            self._last_checkpoint = time.monotonic()
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(
                    self._path, isolation_level=None, check_same_thread=False
                )
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        """In the pool thread, after the last commit."""
        if self._checkpointer is not None:
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._checkpointer.close()
            self._checkpointer = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class SqliteWriter(Writer):
    """Write transactions on one dedicated sqlite3 connection, run whole on the loop.

    In WAL mode with `synchronous=FULL` (the default URL), durability comes from
    `WalSync`, outside the write lock. Otherwise each COMMIT runs in a thread.
    """

    def __init__(self, path: str, pragmas: dict[str, str]) -> None:
        _register_adapters()  # again: tortoise's SQLite backend has loaded by now
        self._path = path
        self._pragmas = dict(pragmas)
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-sync")
        wal = self._pragmas.get("journal_mode", "").upper() == "WAL"
        full = self._pragmas.get("synchronous", "FULL").upper() in ("FULL", "EXTRA", "2", "3")
        self._wal_sync: WalSync | None = None
        if wal and full:
            self._wal_sync = WalSync(path, self._pool)
            self._pragmas["synchronous"] = "NORMAL"  # WalSync does the syncing
            self._pragmas["wal_autocheckpoint"] = "0"  # and the checkpoints

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

    def _transaction(self, fn: WriteFn[R], args: tuple[Any, ...]) -> tuple[sqlite3.Connection, R]:
        """BEGIN and the statements; the caller commits."""
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result: R = _drive(fn(_SyncSql(conn), *args))  # type: ignore[arg-type]
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return conn, result

    async def run(self, fn: WriteFn[R], *args: Any) -> R:
        if self._wal_sync is not None:  # synchronous from BEGIN to COMMIT: no lock needed
            changes = self._connect().total_changes
            conn, result = self._transaction(fn, args)
            self._commit(conn)
            changed = conn.total_changes != changes
            await self._wal_sync.durable(self._wal_sync.committed(changed))
            return result
        async with self._lock:
            conn, result = self._transaction(fn, args)
            # The fsync releases the GIL: let the loop run meanwhile.
            await asyncio.get_running_loop().run_in_executor(self._pool, self._commit, conn)
            return result

    async def read(self, fn: WriteFn[R], *args: Any) -> R:
        # The lock matters only without WalSync, where `run` awaits its COMMIT in a
        # thread: a read must not run on the connection in between.
        async with self._lock:
            result: R = _drive(fn(_SyncSql(self._connect()), *args))  # type: ignore[arg-type]
            return result

    async def close(self) -> None:
        async with self._lock:
            if self._wal_sync is not None:
                await asyncio.get_running_loop().run_in_executor(self._pool, self._wal_sync.close)
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
