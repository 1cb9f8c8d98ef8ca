"""Remote bots' rows (storage/remote_bots.py) on SQLite and PostgreSQL: the first reply
to a delivery counts, a delivery is sent again until answered, a stream counts while
its lease runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from storage import remote_bots as store
from storage import times
from storage.remote_bots import Connected, NewDelivery
from storage.writer import writer
from tests.support.databases import BOTH

pytestmark = pytest.mark.parametrize("db_url", BOTH, indirect=True)

LATER = timedelta(seconds=30)
HELD = timedelta(seconds=5)


async def add(delivery_id: str, bot: str = "crm") -> int:
    at = times.now()
    new = NewDelivery("t1", bot, delivery_id, f"conv-{delivery_id}", delivery_id.encode())
    row: int = await writer().run(store.add_delivery, new, at, at + LATER, at + HELD)
    return row


async def answer(delivery_id: str, reply: bytes, bot: str = "crm", at: Any = None) -> int | None:
    found: int | None = await writer().run(
        store.answer, "t1", bot, delivery_id, reply, at or times.now()
    )
    return found


async def pending(bot: str = "crm") -> set[int]:
    found: set[int] = await writer().read(store.pending_ids, "t1", bot, times.now())
    return found


async def test_a_delivery_is_taken_again_until_its_first_reply(db: str) -> None:
    first, second = await add("m1"), await add("m2")
    assert await add("m1") == first  # the same turn again keeps its row
    assert await pending() == {first, second}
    taken = await writer().run(store.take, [second, first])
    assert [(o.row_id, o.payload, o.attempt) for o in taken] == [
        (first, b"m1", 1),
        (second, b"m2", 1),
    ]
    assert [o.attempt for o in await writer().run(store.take, [first])] == [2]

    assert await answer("m1", b"reply-1") == first
    assert await answer("m1", b"reply-2") is None
    assert await answer("m2", b"x", bot="other") is None  # not its delivery
    assert await answer("m2", b"late", at=times.now() + 2 * LATER) is None  # its time is up
    assert await writer().read(store.reply_of, first) == b"reply-1"
    assert await pending() == {second}
    assert await writer().run(store.take, [first]) == []  # answered: not sent again
    assert await writer().run(store.expire, first) == b"reply-1"  # a stored reply still wins
    await writer().run(store.settle, first)
    assert await writer().read(store.reply_of, first) is None


async def test_an_expired_delivery_is_not_sent_or_answered(db: str) -> None:
    row = await add("m3")
    assert await writer().run(store.expire, row) is None
    assert await pending() == set()
    assert await writer().run(store.take, [row]) == []
    assert await answer("m3", b"late") is None


async def test_a_bot_counts_while_one_of_its_streams_is_leased(db: str) -> None:
    now = times.now()
    old = Connected("t1", "crm", 500, ())
    new = Connected("t1", "crm", 300, ("t1-meta",))
    await writer().run(store.open_stream, "s1", old, now, now + LATER)
    await writer().run(store.open_stream, "s2", new, now + timedelta(seconds=1), now + LATER)
    assert await writer().read(store.connected, now) == [new]  # the latest registration
    await writer().run(store.close_stream, "s2", now)
    assert await writer().read(store.connected, now) == [old]
    # A replica that died without closing s1: it stops counting when its lease runs out,
    # and the next stream closed anywhere deletes it.
    assert await writer().read(store.connected, now + 2 * LATER) == []
    await writer().run(store.renew_streams, ["s1"], now + 3 * LATER)
    assert await writer().read(store.connected, now + 2 * LATER) == [old]
    await writer().run(store.close_stream, "other", now + 4 * LATER)
    assert await writer().read(store.connected, now) == []


async def test_an_answered_delivery_nobody_holds_is_taken_by_one_replica(db: str) -> None:
    held, dropped = await add("m4"), await add("m5")
    assert await answer("m4", b"r4") == held
    assert await answer("m5", b"r5") == dropped
    now = times.now()
    assert await writer().run(store.orphans, now, now + HELD) == []  # both held still
    await writer().run(store.hold, [held], now + 3 * HELD)  # its replica renews m4 only
    later = now + 2 * HELD
    (orphan,) = await writer().run(store.orphans, later, later + HELD)
    assert (orphan.row_id, orphan.bot, orphan.payload, orphan.reply) == (
        dropped,
        "crm",
        b"m5",
        b"r5",
    )
    assert await writer().run(store.orphans, later, later + HELD) == []  # taken by this caller
