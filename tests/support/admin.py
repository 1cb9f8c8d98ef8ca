"""Helpers for the admin API tests: keys, calls, channel bodies, and replica pairs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp

from providers.testing import FakeGraphAPI
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.realtime import text_webhook
from tests.support.tenants import meta_sign

ADMIN_KEY = "admin-test-key-0123456789"
SECRET_KEY = "test-secret-key-for-sealing"
# The phone number id of the channel `onboard` makes, and a customer.
PHONE = "555000111222333"
ALEX = "15551239001"
# What a gateway with the admin API needs in its environment.
ADMIN_ENV = {"WAGATE_ADMIN_KEY": ADMIN_KEY, "WAGATE_SECRET_KEY": SECRET_KEY}


async def admin(
    http: aiohttp.ClientSession,
    gw: Gateway,
    method: str,
    path: str,
    body: Any = None,
    key: str | None = ADMIN_KEY,
) -> tuple[int, Any]:
    """`method /api/v1/admin{path}` with the admin key; (status, JSON body or None)."""
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    async with http.request(
        method, f"{gw.url}/api/v1/admin{path}", headers=headers, json=body
    ) as resp:
        text = await resp.text()
        return resp.status, (await resp.json(content_type=None)) if text else None


async def ok(
    http: aiohttp.ClientSession, gw: Gateway, method: str, path: str, body: Any = None
) -> Any:
    """An admin call that must succeed (2xx); its body."""
    status, answer = await admin(http, gw, method, path, body)
    assert 200 <= status < 300, (method, path, status, answer)
    return answer


def meta_channel(
    channel_id: str, phone_number_id: str, app_secret: str, graph_url: str, **extra: Any
) -> dict[str, Any]:
    """A Meta Cloud channel object, as in the config file."""
    return {
        "id": channel_id,
        "provider": "meta_cloud",
        "phone_number_id": phone_number_id,
        "app_secret": app_secret,
        "verify_token": f"{channel_id}-verify",
        "access_token": f"{channel_id}-token",
        "api_base_url": graph_url,
        **extra,
    }


async def webhook(http: aiohttp.ClientSession, gw: Gateway, body: bytes, secret: str) -> int:
    """POST a Meta webhook signed with `secret`; the status."""
    async with http.post(
        gw.url + "/webhooks/meta", data=body, headers=meta_sign(body, secret)
    ) as resp:
        return resp.status


async def tenant_api(
    http: aiohttp.ClientSession, gw: Gateway, method: str, path: str, key: str, body: Any = None
) -> tuple[int, Any]:
    """A tenant's REST call (/api/v1{path}) with its API key."""
    headers = {"Authorization": f"Bearer {key}"}
    async with http.request(method, f"{gw.url}/api/v1{path}", headers=headers, json=body) as r:
        return r.status, await r.json(content_type=None)


def _more_than(graph: FakeGraphAPI, n: int) -> Callable[[], bool]:
    return lambda: len(graph.requests) > n


async def onboard(
    http: aiohttp.ClientSession, gw: Gateway, graph: FakeGraphAPI, tenant: str = "beta"
) -> str:
    """Tenant `tenant` with a key and a Meta channel `{tenant}-meta` (phone PHONE); its key."""
    await ok(http, gw, "POST", "/tenants", {"id": tenant})
    key: str = (await ok(http, gw, "POST", f"/tenants/{tenant}/api-keys"))["key"]
    channel = meta_channel(f"{tenant}-meta", PHONE, "beta-secret", graph.base_url)
    await ok(http, gw, "POST", f"/tenants/{tenant}/channels", channel)
    return key


async def assert_one_whole_patch(
    http: aiohttp.ClientSession,
    replicas: list[Gateway],
    key: str,
    graph: FakeGraphAPI,
    n: int,
) -> None:
    """Exactly one PATCH's secret signs webhooks, and the same PATCH's token sends, on
    every replica."""
    for i, gw in enumerate(replicas):
        body = text_webhook([(f"wamid.mix-{i}", "x", ALEX)], PHONE)
        accepted = [j for j in range(n) if await webhook(http, gw, body, f"secret-{j}") == 200]
        assert len(accepted) == 1, accepted
        send = {"channelId": "beta-meta", "to": ALEX, "text": {"body": f"mix {i}"}}
        before = len(graph.requests)
        assert (await tenant_api(http, gw, "POST", "/messages", key, send))[0] == 200
        await eventually(_more_than(graph, before), what="the send")
        assert graph.requests[-1].headers["Authorization"] == f"Bearer token-{accepted[0]}"
