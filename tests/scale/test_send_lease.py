"""A send in flight on a replica killed with SIGKILL is finished by another replica once
its lease runs out: the provider may get it twice, but it is stored once and ends SENT,
with one `sent` status event."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import aiohttp
import pytest

from providers.testing import FakeGraphAPI
from tests.scale.conftest import Start, query
from tests.support.polling import eventually
from tests.support.realtime import send_text
from tests.support.tenants import two_tenant_config
from wagate.v1 import event_pb2, message_pb2

pytestmark = pytest.mark.integration

LEASE = 2.0
TO = "15551239200"


async def test_a_send_in_flight_on_a_killed_replica_is_finished_by_another(
    replicas: Start, fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    a, b = replicas(two_tenant_config(fake_graph.base_url), env={"WAGATE_SEND_LEASE": str(LEASE)})
    fake_graph.delay = 4.0  # holds A's request until A is dead
    sending = asyncio.create_task(send_text(http, a, TO, "in flight"))
    await fake_graph.wait_for_requests(1, timeout=10)
    fake_graph.delay = 0.0
    a.stop(signal.SIGKILL)
    with contextlib.suppress(aiohttp.ClientError, AssertionError):
        await sending  # A died before it answered

    url = b.database_url

    async def sent() -> list[object]:
        rows = await query(
            url,
            "SELECT id, status, provider_message_id FROM message WHERE direction = $1",
            message_pb2.DIRECTION_OUTBOUND,
        )
        return rows if rows and rows[0]["status"] == message_pb2.MESSAGE_STATUS_SENT else []

    # After the lease (2 s), B's sweep sends again; the fake answers at once now.
    (row,) = await eventually(sent, within=15, what="the send finished by B")
    assert len(fake_graph.messages()) == 2  # A's held request, and B's
    assert row["provider_message_id"].startswith("wamid.")
    events = await query(url, "SELECT payload FROM event_log ORDER BY id")
    statuses = [
        e.message_status.status
        for e in (event_pb2.Event.FromString(r["payload"]) for r in events)
        if e.HasField("message_status")
    ]
    assert statuses == [message_pb2.MESSAGE_STATUS_SENT]
    await asyncio.sleep(LEASE + 1)  # no third attempt: the lease is not taken again
    assert len(fake_graph.messages()) == 2
