"""Two `wagate serve` replicas on one PostgreSQL and one Redis (both real, throwaway): a
webhook taken by replica A reaches a Socket.IO client and a gRPC event stream on
replica B, once each, and live events come back by themselves after Redis restarts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from providers.testing import FakeGraphAPI
from tests.support import bots
from tests.support.polling import eventually
from tests.support.procs import Gateway, RedisServer
from tests.support.realtime import Client, post, text_webhook
from tests.support.replicas import Stream
from tests.support.tenants import ACME_KEY

pytestmark = pytest.mark.integration

ALEX = "15551239001"


@pytest.fixture
async def on_b(replicas: tuple[Gateway, Gateway]) -> AsyncIterator[tuple[Client, Stream]]:
    _, b = replicas
    client = await Client().connect(b, ACME_KEY, "websocket")
    stream = await Stream(b).open()
    try:
        yield client, stream
    finally:
        await client.close()
        await stream.close()


def socket_wamids(client: Client) -> list[str]:
    return [m["message"]["providerMessageId"] for m in client.of("message:new")]


async def readyz(http: aiohttp.ClientSession, gw: Gateway) -> tuple[int, Any]:
    async with http.get(f"{gw.url}/readyz") as resp:
        return resp.status, await resp.json()


async def test_a_webhook_on_a_reaches_socketio_and_grpc_clients_on_b_once(
    replicas: tuple[Gateway, Gateway],
    on_b: tuple[Client, Stream],
    http: aiohttp.ClientSession,
) -> None:
    a, b = replicas
    client, stream = on_b
    assert await readyz(http, b) == (
        200,
        {"status": "ok", "checks": {"database": "ok", "bus": "ok"}},
    )
    await post(http, a, text_webhook([("wamid.replica-1", "hello from A", ALEX)]))
    await client.wait("message:new")
    await eventually(lambda: stream.wamids(), what="the event on B's gRPC stream")
    await asyncio.sleep(0.5)  # a second copy would have arrived by now
    assert socket_wamids(client) == ["wamid.replica-1"]
    assert stream.wamids() == ["wamid.replica-1"]


async def test_redis_down_keeps_webhooks_and_live_events_come_back(
    replicas: tuple[Gateway, Gateway],
    on_b: tuple[Client, Stream],
    redis_server: RedisServer,
    http: aiohttp.ClientSession,
) -> None:
    a, b = replicas
    client, _ = on_b
    redis_server.stop_server()
    status, body = await readyz(http, b)
    assert status == 503
    assert body["checks"]["bus"].startswith("error")
    await post(http, a, text_webhook([("wamid.during", "while Redis is down", ALEX)]))  # 200

    redis_server.start_server()

    async def ready() -> bool:
        return (await readyz(http, b))[0] == 200

    await eventually(ready, within=15, what="B ready again")

    async def live_again() -> bool:
        """Each try a new message, until one crosses: B's subscription is back."""
        await post(http, a, text_webhook([(f"wamid.after-{uuid.uuid4().hex}", "back", ALEX)]))
        await asyncio.sleep(0.3)
        return any(w.startswith("wamid.after-") for w in socket_wamids(client))

    await eventually(live_again, within=20, what="live events on B after Redis returned")
    resumed = await Client().connect(b, ACME_KEY, "websocket", after="0")
    try:  # what was not live (Redis down) is in storage, on the replica that did not store it
        await eventually(lambda: "wamid.during" in socket_wamids(resumed), what="the replay")
        assert socket_wamids(resumed).count("wamid.during") == 1
    finally:
        await resumed.close()
    assert a.proc.poll() is None and b.proc.poll() is None


async def test_a_bot_answers_once_with_two_replicas(
    start_replicas: Callable[[dict[str, Any]], tuple[Gateway, Gateway]],
    fake_graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
) -> None:
    """Both replicas hear the event on Redis; the bot answers once (the bot host takes its
    own process's events only, and a run is claimed in storage besides)."""
    menu = [{"plugin": "flows", "flows_file": "menu.yaml"}]
    a, _ = start_replicas({"tenants": [bots.tenant(1, fake_graph.base_url, menu)]})
    assert await bots.post(http, a, 1, bots.text_webhook(1, "wamid.bot-1", "Olá")) == 200
    (reply,) = await bots.wait_replies(fake_graph, 1)
    assert reply.startswith("Hi Ana! How can we help?")
    await asyncio.sleep(0.5)  # a second run would have answered by now
    assert len(bots.replies(fake_graph)) == 1
