"""Event ids in commit order with several writers: two replicas take webhooks and
sends at once (ingest on the applier, the outbox on both), while a gRPC reader drops
its stream every few hundred milliseconds and resumes with `after_event_id` on the
other replica. It gets every stored event exactly once, ids strictly increasing."""

from __future__ import annotations

import asyncio
import itertools

import aiohttp
import pytest

from providers.testing import FakeGraphAPI
from tests.scale.conftest import Start, query
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.realtime import post, send_text, text_webhook
from tests.support.replicas import Stream
from tests.support.tenants import two_tenant_config
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


async def read_resuming(gws: list[Gateway], done: asyncio.Event) -> list[event_pb2.Event]:
    """Streams of ~300 ms each, alternating replicas, each resuming after the last id."""
    seen: list[event_pb2.Event] = []
    for n in itertools.count():
        stream = await Stream(gws[n % 2], after_event_id=seen[-1].id if seen else "0").open()
        finished = done.is_set()
        await asyncio.sleep(0.3)
        await stream.close()
        seen += stream.events
        if finished:  # a whole stream after the load ended: storage has nothing newer
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

    ids = [int(e.id) for e in seen]
    wrong = [(i, a, b) for i, (a, b) in enumerate(itertools.pairwise(ids)) if a >= b]
    assert not wrong, f"event ids not strictly increasing at {wrong[:5]}: {ids}"
    stored_ids = [
        r["id"]
        for r in await query(
            gws[0].database_url, "SELECT id FROM event_log WHERE tenant_id = 'acme' ORDER BY id"
        )
    ]
    assert ids == stored_ids  # nothing skipped, nothing twice
    got = [e.message_new.provider_message_id for e in seen if e.HasField("message_new")]
    assert sorted(w for w in got if w.startswith("wamid.order-")) == sorted(inbound)
    outbound = [
        e for e in seen if e.HasField("message_new") and e.message_new.direction == OUTBOUND
    ]
    assert len(outbound) == SENDS
