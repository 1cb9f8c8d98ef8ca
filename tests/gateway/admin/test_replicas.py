"""The admin API with two `wagate serve` replicas on one PostgreSQL and one Redis (both
real): what is made or changed on replica A works on replica B within 2 seconds, with
no restart, also while Redis is down (B catches up from the database)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from providers.testing import FakeGraphAPI
from tests.support import bots
from tests.support.admin import (
    ADMIN_ENV,
    ALEX,
    PHONE,
    admin,
    assert_one_whole_patch,
    meta_channel,
    ok,
    onboard,
    tenant_api,
    webhook,
)
from tests.support.polling import eventually
from tests.support.procs import Gateway, Postgres, RedisServer
from tests.support.realtime import Client, text_webhook
from tests.support.replicas import start_replicas
from tests.support.tenants import ACME_KEY, ACME_SECRET, two_tenant_config

pytestmark = pytest.mark.integration

# The contract: a change is live on every replica within 2 s.
LIVE_WITHIN = 2.0


@pytest.fixture
def pair(
    postgres: Postgres,
    redis_server: RedisServer,
    gateways: Callable[..., Gateway],
    fake_graph: FakeGraphAPI,
) -> tuple[Gateway, Gateway]:
    a, b = start_replicas(
        postgres, redis_server, gateways, two_tenant_config(fake_graph.base_url), env=ADMIN_ENV
    )
    return a, b


async def within(check: Callable[[], Any], what: str) -> float:
    """Poll `check` until true; how long it took, which must be under LIVE_WITHIN."""
    start = time.monotonic()
    await eventually(check, within=LIVE_WITHIN * 3, what=what)
    took = time.monotonic() - start
    print(f"{what}: {took:.3f}s")  # shown with -s: the figures behind the 2 s contract
    assert took <= LIVE_WITHIN, f"{what} took {took:.2f}s"
    return took


async def test_made_on_a_works_on_b(
    pair: tuple[Gateway, Gateway], http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    a, b = pair
    key = await onboard(http, a, fake_graph)
    body = text_webhook([("wamid.ab-1", "hello", ALEX)], PHONE)

    async def b_takes_it() -> bool:
        return await webhook(http, b, body, "beta-secret") == 200

    await within(b_takes_it, "the new channel's webhook on B")
    client = await Client().connect(b, key, "websocket")
    try:
        body = text_webhook([("wamid.ab-2", "to the client on B", ALEX)], PHONE)
        assert await webhook(http, a, body, "beta-secret") == 200

        def wamids() -> list[str]:
            return [e["message"]["providerMessageId"] for e in client.of("message:new")]

        await eventually(lambda: "wamid.ab-2" in wamids(), what="message:new on B")
        assert (await ok(http, b, "GET", "/tenants/beta"))["channels"] == ["beta-meta"]
        send = {"channelId": "beta-meta", "to": ALEX, "text": {"body": "from B"}}
        status, sent = await tenant_api(http, b, "POST", "/messages", key, send)
        assert status == 200, sent

        # A rotated secret, on both.
        await ok(http, a, "PATCH", "/tenants/beta/channels/beta-meta", {"app_secret": "rotated"})
        body = text_webhook([("wamid.ab-3", "rotated", ALEX)], PHONE)

        async def rotated_on_b() -> bool:
            return await webhook(http, b, body, "rotated") == 200

        await within(rotated_on_b, "the rotated secret on B")
        for gw in (a, b):
            assert await webhook(http, gw, body, "beta-secret") == 401

        # A revoked key, on both.
        (key_id,) = [k["id"] for k in (await ok(http, a, "GET", "/tenants/beta"))["apiKeys"]]
        await ok(http, b, "DELETE", f"/tenants/beta/api-keys/{key_id}")

        async def revoked_on_a() -> bool:
            return (await tenant_api(http, a, "GET", "/conversations", key))[0] == 401

        await within(revoked_on_a, "the revoked key refused on A")
        assert (await tenant_api(http, b, "GET", "/conversations", key))[0] == 401

        # A deleted tenant's clients are cut on every replica.
        await ok(http, a, "DELETE", "/tenants/beta")
        await within(lambda: not client.sio.connected, "beta's Socket.IO client on B cut")
    finally:
        await client.close()
    # The file's tenants are untouched, and still refused here.
    for gw in (a, b):
        assert (await tenant_api(http, gw, "GET", "/conversations", ACME_KEY))[0] == 200
        status, _ = await admin(http, gw, "PATCH", "/tenants/acme/channels/acme-meta", {})
        assert status == 409
    acme = text_webhook([("wamid.acme", "still here", ALEX)])
    assert await webhook(http, b, acme, ACME_SECRET) == 200


async def test_a_bot_chain_set_on_a_answers_on_b(
    pair: tuple[Gateway, Gateway], http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    a, b = pair
    await onboard(http, a, fake_graph)
    menu = [{"plugin": "flows", "flows_file": "menu.yaml"}]
    await ok(http, a, "PUT", "/tenants/beta/bots", {"bots": menu})
    await asyncio.sleep(LIVE_WITHIN)
    body = text_webhook([("wamid.bot-b", "Olá", ALEX)], PHONE)
    assert await webhook(http, b, body, "beta-secret") == 200
    (reply,) = await bots.wait_replies(fake_graph, 1, ALEX)
    assert reply.startswith("Hi Contact")


async def test_concurrent_patches_on_both_replicas_never_leave_a_mix(
    pair: tuple[Gateway, Gateway], http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    a, b = pair
    key = await onboard(http, a, fake_graph)
    path = "/tenants/beta/channels/beta-meta"
    changes = [{"app_secret": f"secret-{i}", "access_token": f"token-{i}"} for i in range(12)]
    await asyncio.gather(
        *(ok(http, (a, b)[i % 2], "PATCH", path, c) for i, c in enumerate(changes))
    )
    await asyncio.sleep(LIVE_WITHIN)
    await assert_one_whole_patch(http, [a, b], key, fake_graph, len(changes))
    # Both replicas hold the same one.
    body = text_webhook([("wamid.same", "x", ALEX)], PHONE)
    on_a = [i for i in range(len(changes)) if await webhook(http, a, body, f"secret-{i}") == 200]
    on_b = [i for i in range(len(changes)) if await webhook(http, b, body, f"secret-{i}") == 200]
    assert on_a == on_b


async def test_with_redis_down_b_catches_up_from_the_database(
    pair: tuple[Gateway, Gateway],
    redis_server: RedisServer,
    http: aiohttp.ClientSession,
    fake_graph: FakeGraphAPI,
) -> None:
    a, b = pair
    redis_server.stop_server()
    await ok(http, a, "POST", "/tenants", {"id": "beta"})
    channel = meta_channel("beta-meta", PHONE, "beta-secret", fake_graph.base_url)
    await ok(http, a, "POST", "/tenants/beta/channels", channel)
    body = text_webhook([("wamid.down", "no announcement", ALEX)], PHONE)

    async def b_takes_it() -> bool:
        return await webhook(http, b, body, "beta-secret") == 200

    await within(b_takes_it, "the channel on B with Redis down")
