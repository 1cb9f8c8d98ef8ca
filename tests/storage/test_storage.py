"""Storage in-process, on both SQLite and PostgreSQL: migrations, dedup keys,
the status machine, idempotency keys, the inbox, event ids.

The ORM context is process-global, so each test opens and closes one database.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from tortoise import connections
from tortoise.exceptions import IntegrityError

from storage import inbound as inbound_rows
from storage import inbox, migrations, models, outbound, repo, status_events, times
from storage.contacts import outbound_contact
from storage.db import close_database, open_database, ping
from storage.inbox import InboxRecord, InboxWriter
from storage.status import advances
from storage.writer import transaction, writer
from tests.support.databases import BOTH, open_fresh
from wagate.v1 import event_pb2
from wagate.v1 import message_pb2 as m

CHANNEL = "acme-meta"
TENANT = "acme"


def inbound(wamid: str, body: str = "hi", wa_id: str = "15551234567") -> m.Message:
    msg = m.Message(
        channel_id=CHANNEL,
        provider="meta_cloud",
        provider_message_id=wamid,
        contact=m.Contact(wa_id=wa_id, name="Alex"),
        direction=m.DIRECTION_INBOUND,
        status=m.MESSAGE_STATUS_RECEIVED,
        text=m.TextContent(body=body),
    )
    msg.timestamp.FromSeconds(1767225660)
    return msg


def status(wamid: str, st: m.MessageStatus, code: int = 0) -> m.StatusUpdate:
    update = m.StatusUpdate(provider_message_id=wamid, status=st, recipient_id="15551234567")
    if code:
        update.errors.append(m.ProviderError(code=code, title="failed"))
    return update


# Each write below is one transaction through the writer, as ingest and the outbox run
# them (they batch many items per transaction; a batch of one takes the same path).


async def send(key: str = "", tenant: str = TENANT, channel: str = CHANNEL) -> outbound.Outbound:
    msg = m.Message(text=m.TextContent(body="hello"))
    request = outbound.OutboundRequest(tenant, channel, "meta_cloud", "15551234567", msg, key)
    outs, _ = await writer().run(outbound.create_outbound, [request], times.now())
    return outs[0]


async def store_inbound(msg: m.Message) -> list[event_pb2.Event]:
    return await writer().run(inbound_rows.store_inbound, [(TENANT, msg)])


async def apply_status(update: m.StatusUpdate) -> list[event_pb2.Event]:
    return await writer().run(status_events.apply_statuses, [(CHANNEL, update)])


async def mark_sent(message_id: str, provider_message_id: str) -> list[event_pb2.Event]:
    return await writer().run(outbound.mark_sent, [outbound.Sent(message_id, provider_message_id)])


async def current_status(message_id: str) -> int:
    return int((await models.Message.get(id=message_id)).status)


# -- migrations ---------------------------------------------------------------------------


# Every migration file, so one added by a change is checked without editing a list here.
MIGRATIONS = sorted(
    p.stem for p in Path(migrations.__file__).parent.glob("[0-9][0-9][0-9][0-9]_*.py")
)


async def _migrations_applied() -> list[str]:
    rows = await connections.get("default").execute_query_dict(
        "SELECT name FROM tortoise_migrations ORDER BY name"
    )
    return [str(r["name"]) for r in rows]


async def test_migrations_apply_fresh_and_are_idempotent(db_url: str) -> None:
    await open_fresh(db_url)
    try:
        assert await _migrations_applied() == MIGRATIONS
        for model in (
            models.Tenant,
            models.Channel,
            models.Contact,
            models.Conversation,
            models.Message,
            models.StatusEvent,
            models.WebhookInbox,
            models.EventLog,
            models.Session,
        ):
            assert await model.all().count() == 0, model
        await repo.sync_tenants([(TENANT, [(CHANNEL, "meta_cloud")])])
        stored = await store_inbound(inbound("wamid.keep"))
        assert len(stored) == 1
    finally:
        await close_database()

    await open_database(db_url)  # second open: nothing to apply, nothing lost
    try:
        assert await _migrations_applied() == MIGRATIONS
        assert await models.Message.filter(provider_message_id="wamid.keep").count() == 1
        assert await models.Channel.filter(id=CHANNEL, tenant_id=TENANT).count() == 1
        await repo.sync_tenants([(TENANT, [(CHANNEL, "meta_cloud")])])
        assert await models.Channel.filter(id=CHANNEL, tenant_id=TENANT).count() == 1
    finally:
        await close_database()


# -- inbound dedup ------------------------------------------------------------------------


async def test_inbound_message_is_stored_once(db: str) -> None:
    first = await store_inbound(inbound("wamid.once"))
    assert [e.WhichOneof("payload") for e in first] == ["message_new"]
    assert first[0].message_new.provider_message_id == "wamid.once"
    assert first[0].message_new.id.startswith("msg_")
    assert await store_inbound(inbound("wamid.once", body="changed")) == []
    rows = await models.Message.filter(provider_message_id="wamid.once")
    assert len(rows) == 1
    assert repo.message_proto(rows[0]).text.body == "hi"
    assert await models.EventLog.all().count() == 1
    assert await models.Conversation.all().count() == 1
    assert await models.Contact.all().count() == 1


async def test_concurrent_duplicates_store_once(db: str) -> None:
    results = await asyncio.gather(
        *(store_inbound(inbound("wamid.race")) for _ in range(5)),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(1 for r in results if r) == 1
    assert await models.Message.filter(provider_message_id="wamid.race").count() == 1


async def test_unique_provider_message_id_is_enforced_by_the_database(db: str) -> None:
    await store_inbound(inbound("wamid.unique"))
    row = await models.Message.get(provider_message_id="wamid.unique")

    def clone(**overrides: Any) -> dict[str, Any]:
        fields = {
            "id": f"msg_{uuid.uuid4().hex[:20]}",
            "tenant_id": row.tenant_id,
            "channel_id": row.channel_id,
            "conversation_id": row.conversation_id,
            "provider": row.provider,
            "provider_message_id": row.provider_message_id,
            "direction": row.direction,
            "status": row.status,
            "content_type": row.content_type,
            "payload": row.payload,
        }
        fields.update(overrides)
        return fields

    with pytest.raises(IntegrityError):
        await models.Message.create(**clone())
    assert await models.Message.filter(provider_message_id="wamid.unique").count() == 1
    # The same provider id on another channel is another message.
    await models.Message.create(**clone(channel_id="other-channel"))
    # Outbound rows have no provider id until sent: many NULLs are fine.
    await models.Message.create(**clone(provider_message_id=None))
    await models.Message.create(**clone(provider_message_id=None))
    assert await models.Message.all().count() == 4


# -- status machine -----------------------------------------------------------------------

P, S, D, R, PL, F, RC = (
    m.MESSAGE_STATUS_PENDING,
    m.MESSAGE_STATUS_SENT,
    m.MESSAGE_STATUS_DELIVERED,
    m.MESSAGE_STATUS_READ,
    m.MESSAGE_STATUS_PLAYED,
    m.MESSAGE_STATUS_FAILED,
    m.MESSAGE_STATUS_RECEIVED,
)


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [
        (P, S, True),
        (P, D, True),
        (P, F, True),
        (S, D, True),
        (S, R, True),
        (D, R, True),
        (R, PL, True),
        (S, F, True),
        (D, F, True),
        (R, F, True),
        (PL, F, True),
        (S, S, False),
        (D, S, False),
        (R, S, False),
        (R, D, False),
        (R, R, False),
        (PL, R, False),
        (D, P, False),
        (S, P, False),
        (F, S, False),
        (F, D, False),
        (F, R, False),
        (F, PL, False),
        (F, F, False),
        (F, P, False),
    ],
)
def test_status_advances(current: int, new: int, expected: bool) -> None:
    assert advances(current, new) is expected


async def test_statuses_move_forward_only(db: str) -> None:
    out = await send()
    assert out.created and out.message.status == P
    events = await mark_sent(out.message.id, "wamid.fwd")
    assert [e.message_status.status for e in events] == [S]
    for st in (R, D, S):
        await apply_status(status("wamid.fwd", st))
    assert await current_status(out.message.id) == R
    # An exact duplicate report is recorded once and changes nothing.
    assert await apply_status(status("wamid.fwd", R)) == []
    assert await models.StatusEvent.filter(provider_message_id="wamid.fwd").count() == 3

    applied = await apply_status(status("wamid.fwd", F, code=131047))
    assert [e.message_status.status for e in applied] == [F]
    assert applied[0].message_status.message_id == out.message.id
    assert await apply_status(status("wamid.fwd", PL)) == []
    row = await models.Message.get(id=out.message.id)
    assert row.status == F
    assert [e.code for e in repo.message_proto(row).errors] == [131047]


async def test_status_before_outbound_send_completes(db: str) -> None:
    out = await send()
    assert await apply_status(status("wamid.early", D)) == []
    assert await apply_status(status("wamid.early", R)) == []
    assert await current_status(out.message.id) == P
    events = await mark_sent(out.message.id, "wamid.early")
    assert [e.message_status.status for e in events] == [S, D, R]
    assert await current_status(out.message.id) == R
    assert await models.StatusEvent.filter(applied=False).count() == 0


# A unique-key conflict inside an open transaction must not abort it on PostgreSQL
# (storage writes use INSERT … ON CONFLICT, never a failing INSERT).


@pytest.mark.parametrize("db_url", BOTH, indirect=True)
async def test_sent_webhook_before_mark_sent_in_a_transaction(db: str) -> None:
    """The outbox calls mark_sent inside a transaction; Meta's `sent` may already be in."""
    async with transaction():
        out = await send()
    await apply_status(status("wamid.sent-first", S))
    await apply_status(status("wamid.sent-first", D))
    async with transaction():
        events = await mark_sent(out.message.id, "wamid.sent-first")
    assert [e.message_status.status for e in events] == [S, D]
    row = await models.Message.get(id=out.message.id)
    assert (row.status, row.provider_message_id) == (D, "wamid.sent-first")
    assert await models.StatusEvent.filter(applied=False).count() == 0


@pytest.mark.parametrize("db_url", BOTH, indirect=True)
async def test_duplicate_status_does_not_poison_the_ingest_transaction(db: str) -> None:
    """Ingest applies a lane's events in one transaction; Meta's `sent` after our own
    SENT is a duplicate report, and the next event must still apply."""
    out = await send()
    await mark_sent(out.message.id, "wamid.dup")
    async with transaction():
        assert await apply_status(status("wamid.dup", S)) == []
        applied = await apply_status(status("wamid.dup", D))
        assert [e.message_status.status for e in applied] == [D]
        stored = await store_inbound(inbound("wamid.next"))
        assert len(stored) == 1
    assert await current_status(out.message.id) == D
    assert await models.Message.filter(provider_message_id="wamid.next").count() == 1


@pytest.mark.parametrize("db_url", BOTH, indirect=True)
async def test_concurrent_sends_with_one_idempotency_key(db: str) -> None:
    """Two SendMessage calls with one key, the second while the first is uncommitted."""
    created = asyncio.Event()

    async def first() -> outbound.Outbound:
        async with transaction():  # as gateway.outbox.Outbox.send does
            out = await send("same-key")
            created.set()
            await asyncio.sleep(0.3)
        return out

    async def second() -> outbound.Outbound:
        await created.wait()
        async with transaction():
            return await send("same-key")

    a, b = await asyncio.gather(first(), second())
    assert a.created and not b.created
    assert b.message.id == a.message.id
    assert await models.Message.all().count() == 1


async def test_status_before_message_is_applied_on_arrival(db: str) -> None:
    # E.g. a message sent from the phone, reported as an echo after its status.
    assert await apply_status(status("wamid.echo", R)) == []
    assert await apply_status(status("wamid.echo", D)) == []
    echo = inbound("wamid.echo")
    echo.direction = m.DIRECTION_OUTBOUND
    echo.status = S
    events = await store_inbound(echo)
    kinds = [e.WhichOneof("payload") for e in events]
    assert kinds == ["message_new", "message_status", "message_status"]
    assert [e.message_status.status for e in events[1:]] == [D, R]
    row = await models.Message.get(provider_message_id="wamid.echo")
    assert row.status == R
    assert await models.StatusEvent.filter(applied=False).count() == 0


async def test_failed_before_message_is_terminal_on_arrival(db: str) -> None:
    out = await send()
    await apply_status(status("wamid.dead", F, code=131026))
    await apply_status(status("wamid.dead", R))
    await mark_sent(out.message.id, "wamid.dead")
    assert await current_status(out.message.id) == F


async def test_mark_sent_adopts_an_echo_that_arrived_first(db: str) -> None:
    """A QR engine's `fromMe` echo of our send can be ingested before the send returns."""
    out = await send()
    echo = inbound("wamid.echoed")
    echo.direction = m.DIRECTION_OUTBOUND
    assert len(await store_inbound(echo)) == 1
    await apply_status(status("wamid.echoed", D))
    events = await mark_sent(out.message.id, "wamid.echoed")
    assert [e.message_status.status for e in events] == [S, D]
    assert {e.message_status.message_id for e in events} == {out.message.id}
    rows = await models.Message.filter(provider_message_id="wamid.echoed")
    assert [(r.id, r.status) for r in rows] == [(out.message.id, D)]


def test_outbound_contact_keys_like_inbound() -> None:
    assert outbound_contact("+1 555 123").wa_id == "1555123"
    assert outbound_contact("15551234567@c.us").wa_id == "15551234567"
    assert outbound_contact("4471@lid").user_id == "4471@lid"
    assert outbound_contact("1203630@g.us").user_id == "1203630@g.us"
    assert outbound_contact("user.abc").user_id == "user.abc"


# -- outbound idempotency -----------------------------------------------------------------


@pytest.mark.parametrize("db_url", BOTH, indirect=True)
async def test_one_batch_with_repeated_keys_stores_each_key_once(db: str) -> None:
    """The outbox group-commits concurrent sends: keys may repeat inside one batch."""

    def req(key: str, tenant: str = TENANT, channel: str = CHANNEL) -> outbound.OutboundRequest:
        body = m.Message(text=m.TextContent(body=key or "no key"))
        return outbound.OutboundRequest(tenant, channel, "meta_cloud", "15551234567", body, key)

    batch = [req("k1"), req("k2"), req("k1"), req(""), req(""), req("k1", "globex", "globex-meta")]
    outs = await writer().run(outbound.create_outbound, batch, times.now())
    results, events = outs
    assert [o.created for o in results] == [True, True, False, True, True, True]
    assert results[2].message.id == results[0].message.id
    assert len({o.message.id for o in results}) == 5
    assert len(events) == 5 and all(e.id for e in events)
    assert [int(e.id) for e in events] == sorted(int(e.id) for e in events)
    assert await models.Message.all().count() == 5
    # The same batch again: every key is known, nothing new is stored or published.
    again, events = await writer().run(outbound.create_outbound, batch[:3], times.now())
    assert [o.created for o in again] == [False, False, False] and events == []
    assert [o.message.id for o in again] == [o.message.id for o in results[:3]]


async def test_idempotency_key_is_unique_per_tenant(db: str) -> None:
    first = await send("key-1")
    again = await send("key-1")
    assert first.created and not again.created
    assert again.message.id == first.message.id
    other_tenant = await send("key-1", tenant="globex", channel="globex-meta")
    assert other_tenant.created and other_tenant.message.id != first.message.id
    no_key_a, no_key_b = await send(), await send()
    assert no_key_a.created and no_key_b.created and no_key_a.message.id != no_key_b.message.id
    assert await models.Message.filter(idempotency_key="key-1").count() == 2
    with pytest.raises(IntegrityError):
        await models.Message.create(
            id="msg_dup",
            tenant_id=TENANT,
            channel_id=CHANNEL,
            conversation_id=first.message.conversation_id,
            provider="meta_cloud",
            direction=m.DIRECTION_OUTBOUND,
            status=P,
            content_type="text",
            idempotency_key="key-1",
            payload=b"",
        )


# -- inbox --------------------------------------------------------------------------------


async def test_inbox_dedups_on_channel_and_key(db: str) -> None:
    commits = 0

    def on_commit(rows: int) -> None:
        nonlocal commits
        commits += 1

    writer = InboxWriter(on_commit=on_commit)
    writer.start()
    try:
        rec = InboxRecord(CHANNEL, "meta_cloud", "k" * 64, b'{"a":1}', b"")
        await writer.write([rec])
        await writer.write([InboxRecord(CHANNEL, "meta_cloud", "k" * 64, b'{"b":2}', b"")])
        await asyncio.gather(writer.write([rec]), writer.write([rec]))
        await writer.write([InboxRecord("other", "meta_cloud", "k" * 64, b'{"a":1}', b"")])
    finally:
        await writer.stop()
    assert commits >= 1
    rows = await models.WebhookInbox.all().order_by("id").values_list("channel_id", "body")
    assert [(c, bytes(b)) for c, b in rows] == [(CHANNEL, b'{"a":1}'), ("other", b'{"a":1}')]
    pending = await inbox.pending_rows(0)
    assert [p.channel_id for p in pending] == [CHANNEL, "other"]
    await inbox.mark_rows([pending[0].id], inbox.DONE)
    assert [p.id for p in await inbox.pending_rows(0)] == [pending[1].id]


# -- event log ----------------------------------------------------------------------------


async def test_event_ids_increase_monotonically(db: str) -> None:
    ids: list[int] = []
    for i in range(30):
        tenant = TENANT if i % 2 else "globex"
        event = event_pb2.Event(channel_id=CHANNEL, typing=event_pb2.Typing())
        ids.append(int((await repo.append_event(tenant, event)).id))
    events = await store_inbound(inbound("wamid.ev"))
    ids.append(int(events[0].id))
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    stored = await models.EventLog.all().order_by("id").values_list("id")
    assert [int(row[0]) for row in stored] == ids


async def test_a_cancelled_first_query_does_not_wedge_the_connection(db_url: str) -> None:
    """/readyz pings the database; a probe whose client gave up is cancelled mid-query. The
    first query once opened the connection under tortoise's lock, and a cancel there
    kept the lock forever: every later ping waited."""
    await open_database(db_url)
    try:
        for delay in (0.0, 0.0, 0.001):
            first = asyncio.create_task(ping())
            await asyncio.sleep(delay)
            first.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await first
            await asyncio.wait_for(ping(), 10)
    finally:
        await close_database()
