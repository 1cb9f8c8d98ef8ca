"""PostgreSQL advisory locks that order the writers of several replicas.

- The event-log lock, per transaction: every transaction that appends events takes
  it before it draws event ids and holds it until it commits, so event ids ascend
  in commit order whichever replica writes them, and a reader that has seen id N
  never meets a smaller id later (docs/scale-out.md, "Event ids in commit order").
- The inbox-applier lock, per session, on a connection of its own: the one replica
  that holds it applies the shared webhook inbox. PostgreSQL releases a session lock
  when its session ends, so a replica killed with -9 hands it over by itself.

https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
SQLite needs neither: one process, one writer connection (storage/writer.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from storage.sql import Sql

log = logging.getLogger("wagate.locks")

# Advisory lock keys are one bigint per database: "wagat" in ASCII, then a number.
EVENT_LOG = 0x7761_6761_7400_0001
INBOX_APPLIER = 0x7761_6761_7400_0002


async def lock_event_log(sql: Sql) -> None:
    """Hold the event-log lock until this transaction ends (once per transaction)."""
    if sql.postgres and not sql.events_locked:
        await sql.run("SELECT pg_advisory_xact_lock(?)", [EVENT_LOG])
        sql.events_locked = True


def is_postgres() -> bool:
    return Sql().postgres


def _connect_args() -> dict[str, Any]:
    """The default connection's server and credentials, for a connection of our own."""
    client: Any = Sql().conn
    args = {
        "host": client.host,
        "port": client.port,
        "user": client.user,
        "password": client.password,
        "database": client.database,
    }
    if "ssl" in client.extra:
        args["ssl"] = client.extra["ssl"]
    return args


class SessionLock:
    """A session-level advisory lock on a dedicated connection, which also LISTENs.

    `poll()` connects when needed, tries the lock when it is not held, and checks the
    connection when it is: it answers whether this process holds the lock now. A lost
    connection loses the lock (the server released it), and the next poll tries again.
    """

    def __init__(self, key: int, channel: str, on_notify: Callable[[str], None]) -> None:
        self.key = key
        self.channel = channel
        self._on_notify = on_notify
        self._conn: Any = None
        self.held = False
        self._busy = asyncio.Lock()  # one query at a time on the connection

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._on_notify(payload)

    async def poll(self) -> bool:
        async with self._busy:
            try:
                if self._conn is None or self._conn.is_closed():
                    self.held = False
                    self._conn = await asyncpg.connect(**_connect_args(), timeout=5)
                    await self._conn.add_listener(self.channel, self._notified)
                if self.held:
                    await self._conn.fetchval("SELECT 1", timeout=5)
                else:
                    self.held = bool(
                        await self._conn.fetchval(
                            "SELECT pg_try_advisory_lock($1)", self.key, timeout=5
                        )
                    )
            except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
                if self.held:
                    log.warning("lost the inbox-applier lock", extra={"error": str(exc)})
                self.held = False
                await self._drop()
            return self.held

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()

    async def close(self) -> None:
        """Release by ending the session."""
        async with self._busy:
            self.held = False
            conn, self._conn = self._conn, None
            if conn is not None:
                try:
                    await asyncio.wait_for(conn.close(), 5)
                except (TimeoutError, OSError, asyncpg.PostgresError):
                    conn.terminate()
