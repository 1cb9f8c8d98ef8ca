"""The SQLite writer: transactions run whole on the loop; durability by group fsync.

These drive a real `SqliteWriter` on a file in a temp dir (no gateway): what they
check is the writer's contract, which the gateway's acks rely on.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from storage.ids import new_id
from storage.sql import Sql
from storage.writer import SqliteWriter, WalSync
from storage.writes import from_ts, to_ts

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


class CountingSync(WalSync):
    """WalSync that records each fsync round and the commits it covered."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.rounds: list[int] = []

    def _sync(self) -> None:
        covered = self._committed  # read in the pool thread, before the fsync
        super()._sync()
        self.rounds.append(covered)


def _counting(writer: SqliteWriter) -> CountingSync:
    assert writer._wal_sync is not None
    sync = CountingSync(writer._path, writer._pool)
    writer._wal_sync = sync
    return sync


async def test_run_returns_only_after_an_fsync_covers_its_commit(db_path: str) -> None:
    writer = SqliteWriter(db_path, WAL_FULL)
    sync = _counting(writer)
    late: list[tuple[int, int]] = []

    async def insert_one(sql: Sql, key: str) -> int:
        await _insert(sql, [key])
        return sync._committed + 1  # this transaction's ticket: the next commit

    async def one(i: int) -> None:
        ticket = await writer.run(insert_one, f"k{i}")
        if sync._synced < ticket:  # returned before an fsync covered its commit
            late.append((ticket, sync._synced))

    try:
        await asyncio.gather(*(one(i) for i in range(200)))
        assert await writer.read(_count) == 200
    finally:
        await writer.close()
    assert late == []
    assert sync._synced == 200
    # Fsyncs were shared: far fewer rounds than commits, each covering more.
    assert 1 <= len(sync.rounds) < 200, sync.rounds
    assert sync.rounds == sorted(sync.rounds)


async def test_writer_connection_leaves_syncing_to_walsync(db_path: str) -> None:
    writer = SqliteWriter(db_path, WAL_FULL)
    try:
        await writer.run(_insert, ["a"])
        conn = writer._connect()
        # NORMAL (1): the COMMIT writes the WAL without an fsync; WalSync does it.
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    finally:
        await writer.close()


async def test_a_commit_that_changed_nothing_waits_only_for_earlier_commits(
    db_path: str,
) -> None:
    """A duplicate is acknowledged because the first delivery is stored: it needs no
    fsync of its own, but must not return before the first one is on disk."""
    writer = SqliteWriter(db_path, WAL_FULL)
    sync = _counting(writer)
    try:
        first = asyncio.ensure_future(writer.run(_insert, ["same"]))
        await asyncio.sleep(0)  # the first commit is written, its fsync not done yet
        assert sync._committed == 1
        assert await writer.run(_insert, ["same"]) == 1  # ON CONFLICT DO NOTHING
        assert sync._synced >= 1  # ...so the duplicate waited for the first's fsync
        await first
        rounds = len(sync.rounds)
        assert await writer.run(_insert, ["same"]) == 1  # all synced already
        assert len(sync.rounds) == rounds  # no fsync for a commit that changed nothing
        assert sync._committed == 1
    finally:
        await writer.close()


async def test_checkpoints_run_off_the_loop_and_reach_the_database_file(db_path: str) -> None:
    writer = SqliteWriter(db_path, WAL_FULL)
    assert writer._wal_sync is not None
    writer._wal_sync.CHECKPOINT_EVERY = 0.0  # every round checkpoints
    try:
        for i in range(20):
            await writer.run(_insert, [f"c{i}"])
    finally:
        await writer.close()  # a last passive checkpoint
    # A fresh connection that ignores the WAL entirely sees every row in the file.
    with closing(sqlite3.connect(f"file:{db_path}?immutable=1", uri=True)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM item").fetchone()[0] == 20


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
    """Other journal/sync settings keep SQLite's own behaviour, commit in a thread."""
    if pragmas.get("journal_mode") == "DELETE":
        with closing(sqlite3.connect(db_path)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")
    writer = SqliteWriter(db_path, pragmas)
    assert writer._wal_sync is None
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
