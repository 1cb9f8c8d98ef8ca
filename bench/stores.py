"""PostgreSQL and Redis for the scale-out benchmarks (bench/scale.py): throwaway servers
started the way the tests start them (tests/support/procs.py), one fresh database per
measured deployment, and "is the backlog applied?" asked of PostgreSQL.

Unlike the tests' server, this PostgreSQL runs with `fsync` on (its default): a
benchmark of durable ingest must pay for durable commits, as the SQLite figures of
`python -m bench` do (`synchronous=FULL`).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from bench.servers import BenchError, process_tree, taskset_exe
from tests.support.procs import Postgres, RedisServer, start_postgres, start_redis

# Inbox rows acknowledged and not applied yet (storage/inbox.py's states).
PENDING = "SELECT COUNT(*) FROM webhook_inbox WHERE state IN ('pending', 'raw')"
# Two replicas of two workers each, with their pools, and the benchmark's own probes.
MAX_CONNECTIONS = 400


@dataclass
class Stores:
    """One PostgreSQL and one Redis server, stopped by `close()`."""

    pg: Postgres
    redis: RedisServer
    databases: list[str] = field(default_factory=list)

    def new_database(self) -> str:
        """A fresh, empty database: each measured deployment starts from nothing."""
        name = f"bench_{uuid.uuid4().hex[:10]}"
        self.databases.append(name)
        return self.pg.create_database(name)

    def pin(self, cpus: str | None) -> None:
        """Pin both servers' processes (and so every backend forked later) to `cpus`."""
        if cpus is None:
            return
        pids = process_tree(self.postmaster_pid())
        if self.redis.proc is not None:
            pids += process_tree(self.redis.proc.pid)
        for pid in pids:
            # A process that ended meanwhile (a backend) is no error.
            subprocess.run(
                [taskset_exe(), "-a", "-p", "-c", cpus, str(pid)],
                check=False,
                capture_output=True,
            )

    def unpin(self) -> None:
        """Back to every core this benchmark may use."""
        self.pin(",".join(str(c) for c in sorted(os.sched_getaffinity(0))))

    def commits(self) -> int:
        """Transactions committed so far in every database of the server."""
        dsn = f"{self.pg.url_base}/postgres"
        return count_rows(dsn, "SELECT COALESCE(SUM(xact_commit), 0) FROM pg_stat_database")

    def postmaster_pid(self) -> int:
        return int((self.pg.datadir / "postmaster.pid").read_text().split()[0])

    def close(self) -> None:
        try:
            self.redis.stop()
        finally:
            self.pg.stop()


def start_stores(fsync: bool = True) -> Stores:
    """PostgreSQL (`fsync` on unless told otherwise) and Redis on free ports of 127.0.0.1."""
    try:
        pg = start_postgres()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BenchError(
            f"cannot start PostgreSQL ({exc}); `bash tests/system-deps.sh python3 postgres "
            "redis` installs the server binaries"
        ) from exc
    try:
        # Restarted with PostgreSQL's durable defaults instead of the tests' `fsync=off`.
        pg.stop_server()
        base = pg.datadir.parent
        pg.run(
            *("pg_ctl", "-D", str(pg.datadir), "-w", "-l", str(base / "pg.log"), "-o"),
            f"-p {pg.port} -k {base} -c listen_addresses=127.0.0.1 "
            f"-c max_connections={MAX_CONNECTIONS} -c fsync={'on' if fsync else 'off'}",
            "start",
        )
        redis = start_redis()
    except BaseException:
        pg.stop()
        raise
    return Stores(pg, redis)


async def _count_pending(dsn: str, limit: float) -> float | None:
    conn = await asyncpg.connect(dsn)
    try:
        start = time.monotonic()
        while time.monotonic() - start < limit:
            pending = await conn.fetchval(PENDING)
            if not pending:
                return time.monotonic() - start
            await asyncio.sleep(0.05)
        return None
    finally:
        await conn.close()


def wait_drained_pg(dsn: str, timeout: float = 120.0) -> float | None:
    """Seconds until the inbox has no row left to apply (None: not within `timeout`)."""
    return asyncio.run(_count_pending(dsn, timeout))


async def _scalar(dsn: str, sql: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


def count_rows(dsn: str, sql: str) -> int:
    """One integer a query returns (`SELECT COUNT(*) ...`)."""
    return asyncio.run(_scalar(dsn, sql))


async def _rows(dsn: str, sql: str) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


def outbound_statuses(dsn: str) -> dict[str, int]:
    """How many outbound messages are in each status (MessageStatus names)."""
    from wagate.v1 import message_pb2

    rows = asyncio.run(
        _rows(dsn, "SELECT status, COUNT(*) FROM message WHERE direction = 2 GROUP BY status")
    )
    return {
        message_pb2.MessageStatus.Name(int(str(s))).removeprefix("MESSAGE_STATUS_"): int(str(n))
        for s, n in rows
    }


def fdatasync_us(directory: Path, writes: int = 200) -> float:
    """Median time of one 8 KB write + fdatasync in `directory` (where PostgreSQL's WAL
    goes): what a durable commit waits for at least, on this disk."""
    times = []
    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        block = b"\0" * 8192
        for _ in range(writes):
            start = time.perf_counter()
            os.pwrite(fd, block, 0)
            os.fdatasync(fd)
            times.append(time.perf_counter() - start)
    finally:
        os.close(fd)
        path.unlink()
    return 1e6 * statistics.median(times)
