"""Event ids in commit order with several writers: two replicas take webhooks and
sends at once (ingest on the applier, the outbox on both), while a reader drops its
connection every few hundred milliseconds and resumes on the other replica, with
gRPC `StreamEvents(after_event_id)` and Socket.IO `auth.after_event_id` in turn. It
gets every stored event exactly once, ids strictly increasing."""

from __future__ import annotations

import asyncio
import itertools

import aiohttp
import pytest

from providers.testing import FakeGraphAPI
from tests.scale.conftest import Start, query
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.realtime import Client, post, send_text, text_webhook
from tests.support.replicas import Stream
from tests.support.tenants import ACME_KEY, two_tenant_config
from wagate.v1 import event_pb2, message_pb2

pytestmark = pytest.mark.integration

WEBHOOKS = 240
SENDS = 60
OUTBOUND = message_pb2.DIRECTION_OUTBOUND
CONTACTS = [f"155512390{i:02d}" for i in range(8)]


async def load(http: aiohttp.ClientSession, gws: list[Gateway]) -> None:
    """Webhooks and sends, several at a time, alternating replicas."""
    hooks = iter(range(WEBHOOKS))
    sends = iter(range(SENDS))

    async def poster(lane: int) -> None:
        for i in hooks:
            wa_id = CONTACTS[i % len(CONTACTS)]
            body = text_webhook([(f"wamid.order-{i}", f"message {i}", wa_id)])
            await post(http, gws[(i + lane) % 2], body)

    async def sender(lane: int) -> None:
        for i in sends:
            await send_text(http, gws[(i + lane) % 2], CONTACTS[i % len(CONTACTS)], f"out {i}")

    await asyncio.gather(*(poster(n) for n in range(4)), *(sender(n) for n in range(2)))


async def stream_for(gw: Gateway, after: str, socket_io: bool) -> list[tuple[str, str]]:
    """(event id, wamid or "") of what one connection got in ~300 ms, resuming after `after`."""
    if socket_io:
        client = await Client().connect(gw, ACME_KEY, "websocket", after=after)
        await asyncio.sleep(0.3)
        await client.close()
        got = [data for _, data in client.events if isinstance(data, dict) and "event_id" in data]
        return [(d["event_id"], d.get("message", {}).get("providerMessageId", "")) for d in got]
    stream = await Stream(gw, after_event_id=after).open()
    await asyncio.sleep(0.3)
    await stream.close()
    return [(e.id, e.message_new.provider_message_id) for e in stream.events]


async def read_resuming(gws: list[Gateway], done: asyncio.Event) -> list[tuple[str, str]]:
    """Connections of ~300 ms each, alternating replicas, and gRPC StreamEvents with
    Socket.IO, each resuming after the last event id the one before got."""
    seen: list[tuple[str, str]] = []
    for n in itertools.count():
        finished = done.is_set()
        after = seen[-1][0] if seen else "0"
        seen += await stream_for(gws[n % 2], after, socket_io=bool(n // 2 % 2))
        if finished and n % 4 == 3:  # a round after the load: storage has nothing newer
            return seen
    raise AssertionError("unreachable")


async def test_a_resuming_reader_gets_every_event_once_in_id_order(
    replicas: Start, fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    gws = replicas(two_tenant_config(fake_graph.base_url))
    done = asyncio.Event()
    reader = asyncio.create_task(read_resuming(gws, done))
    await load(http, gws)
    inbound = [f"wamid.order-{i}" for i in range(WEBHOOKS)]

    async def all_applied() -> bool:
        rows = await query(
            gws[0].database_url,
            "SELECT count(*) AS n FROM message WHERE provider_message_id LIKE 'wamid.order-%'",
        )
        return bool(rows[0]["n"] == WEBHOOKS)

    await eventually(all_applied, within=30, what="every webhook applied")
    await asyncio.sleep(0.5)  # the last sends' SENT statuses
    done.set()
    seen = await asyncio.wait_for(reader, 60)

    ids = [int(event_id) for event_id, _ in seen]
    wrong = [(i, a, b) for i, (a, b) in enumerate(itertools.pairwise(ids)) if a >= b]
    assert not wrong, f"event ids not strictly increasing at {wrong[:5]}: {ids}"
    stored = await query(
        gws[0].database_url,
        "SELECT id, payload FROM event_log WHERE tenant_id = 'acme' ORDER BY id",
    )
    assert ids == [r["id"] for r in stored]  # nothing skipped, nothing twice
    got = [wamid for _, wamid in seen if wamid.startswith("wamid.order-")]
    assert sorted(got) == sorted(inbound)
    events = [event_pb2.Event.FromString(r["payload"]) for r in stored]
    assert sum(e.message_new.direction == OUTBOUND for e in events) == SENDS
