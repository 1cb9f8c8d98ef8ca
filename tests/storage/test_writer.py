"""The SQLite writer: transactions run whole on the loop, COMMIT and fsync in a thread.

These drive a real `SqliteWriter` on a file in a temp dir (no gateway): what they
check is the writer's contract, which the gateway's acks rely on.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from storage.ids import new_id
from storage.sql import Sql
from storage.times import from_ts, to_ts
from storage.writer import SqliteWriter

WAL_FULL = {"journal_mode": "WAL", "synchronous": "FULL", "busy_timeout": "5000"}

# AUTOINCREMENT, as the inbox has: an insert that hits ON CONFLICT still rewrites
# sqlite_sequence, so even a "no change" commit has WAL frames to sync.
SCHEMA = (
    "CREATE TABLE item (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE,"
    " body BLOB NOT NULL)"
)


async def _insert(sql: Sql, keys: list[str]) -> int:
    await sql.run_many(
        "INSERT INTO item (key, body) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        [(key, os.urandom(512)) for key in keys],
    )
    rows = await sql.rows("SELECT COUNT(*) AS n FROM item")
    return int(rows[0]["n"])


async def _count(sql: Sql) -> int:
    rows = await sql.rows("SELECT COUNT(*) AS n FROM item")
    return int(rows[0]["n"])


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    path = str(tmp_path / "w.sqlite3")
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(SCHEMA)
    return path


def _wal_size(db_path: str) -> int:
    return os.path.getsize(f"{db_path}-wal")


class CountingWriter(SqliteWriter):
    """Counts the COMMITs that reach the commit thread (each one an fsync)."""

    commits = 0

    def _commit(self, conn: sqlite3.Connection) -> None:
        self.commits += 1
        super()._commit(conn)


async def test_concurrent_transactions_all_commit_in_call_order(db_path: str) -> None:
    writer = CountingWriter(db_path, WAL_FULL)
    try:
        counts = await asyncio.gather(*(writer.run(_insert, [f"k{i}"]) for i in range(100)))
        # Each saw every commit before it: they ran one at a time, in call order.
        assert counts == list(range(1, 101))
        assert writer.commits == 100
    finally:
        await writer.close()
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM item").fetchone()[0] == 100


async def test_a_transaction_that_stored_nothing_is_not_committed(db_path: str) -> None:
    """A redelivery hits ON CONFLICT DO NOTHING: no commit, so no WAL append and no
    fsync (AUTOINCREMENT would have made COMMIT write sqlite_sequence anyway)."""
    writer = CountingWriter(db_path, WAL_FULL)
    try:
        assert await writer.run(_insert, ["same"]) == 1
        wal = _wal_size(db_path)
        assert await writer.run(_insert, ["same"]) == 1
        assert await writer.run(_insert, ["same", "same"]) == 1
        assert writer.commits == 1
        assert _wal_size(db_path) == wal
        assert not writer._connect().in_transaction
        assert await writer.run(_insert, ["new"]) == 2  # and the writer goes on
        assert writer.commits == 2
    finally:
        await writer.close()


async def test_a_duplicate_waits_for_the_first_delivery_to_be_durable(db_path: str) -> None:
    """The duplicate is acknowledged because the first delivery is stored: its
    transaction may not even start before the first one's COMMIT has returned."""
    writer = CountingWriter(db_path, WAL_FULL)
    order: list[str] = []
    slow_commit = writer._commit

    def commit(conn: sqlite3.Connection) -> None:
        order.append("first commit starts")
        time.sleep(0.05)  # a slow disk
        slow_commit(conn)
        order.append("first commit done")

    writer._commit = commit  # type: ignore[method-assign]
    try:
        first = asyncio.ensure_future(writer.run(_insert, ["same"]))
        await asyncio.sleep(0.01)  # the first is in its COMMIT now
        assert order == ["first commit starts"]
        assert await writer.run(_insert, ["same"]) == 1
        order.append("duplicate answered")
        await first
    finally:
        await writer.close()
    assert order == ["first commit starts", "first commit done", "duplicate answered"]


async def test_read_sees_commits_and_takes_no_write_lock(db_path: str) -> None:
    writer = SqliteWriter(db_path, WAL_FULL)
    try:
        await writer.run(_insert, ["x", "y"])
        assert await writer.read(_count) == 2
        assert not writer._connect().in_transaction
    finally:
        await writer.close()


async def test_a_failing_transaction_rolls_back_and_the_writer_goes_on(db_path: str) -> None:
    async def broken(sql: Sql) -> None:
        await sql.run("INSERT INTO item (key, body) VALUES ('partial', x'00')")
        await sql.run("INSERT INTO nowhere VALUES (1)")

    writer = SqliteWriter(db_path, WAL_FULL)
    try:
        with pytest.raises(sqlite3.OperationalError):
            await writer.run(broken)
        assert await writer.read(_count) == 0
        assert await writer.run(_insert, ["after"]) == 1
    finally:
        await writer.close()


@pytest.mark.parametrize("pragmas", [{"journal_mode": "DELETE"}, {"synchronous": "NORMAL"}])
async def test_without_wal_full_each_commit_syncs_itself(
    db_path: str, pragmas: dict[str, str]
) -> None:
    """Other journal and sync settings work the same way."""
    if pragmas.get("journal_mode") == "DELETE":
        with closing(sqlite3.connect(db_path)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")
    writer = SqliteWriter(db_path, pragmas)
    try:
        counts = await asyncio.gather(*(writer.run(_insert, [f"d{i}"]) for i in range(20)))
        assert sorted(counts) == list(range(1, 21))
    finally:
        await writer.close()


# -- the small conversions every stored row goes through --------------------------------


@pytest.mark.parametrize(
    "dt",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2026, 11, 21, 20, 31, 54, 123456, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # before the epoch
        datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_to_ts_matches_protobuf_and_round_trips(dt: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(dt.astimezone(UTC))
    got = to_ts(dt)
    assert (got.seconds, got.nanos) == (expected.seconds, expected.nanos)
    # The epoch itself reads back as "unset" (None), like any zero Timestamp.
    assert from_ts(got) == (None if got.seconds == got.nanos == 0 else dt)


def test_new_ids_are_unique_prefixed_and_time_ordered() -> None:
    ids = [new_id("msg") for _ in range(5_000)]  # crosses several random-byte blocks
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"msg_[0-9a-f]{12}[0-9a-f]{16}", i) for i in ids)
    stamps = [i[4:16] for i in ids]
    assert stamps == sorted(stamps)
