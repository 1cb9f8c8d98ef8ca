"""A provider from a separately installed package (tests/plugins/acme_provider, found
through its `wagate.providers` entry point) serves a tenant's channel in a real
`wagate serve`, configured by YAML only: webhooks in, REST history, sends out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from importlib.metadata import distribution

import aiohttp
import pytest
from acme_provider.testing import SECRET, TOKEN, FakeAcmeAPI

from providers.signing import hmac_hex
from tests.support.paths import PLUGINS
from tests.support.polling import eventually
from tests.support.procs import Gateway

pytestmark = pytest.mark.integration

KEY = "plugin-tenant-key"
SAMPLES = PLUGINS / "acme_provider" / "acme_provider" / "samples"


@pytest.fixture
async def acme() -> AsyncIterator[FakeAcmeAPI]:
    async with FakeAcmeAPI() as api:
        yield api


def test_plugin_is_a_separate_distribution() -> None:
    dist = distribution("wagate-acme-provider")
    names = [ep.name for ep in dist.entry_points if ep.group == "wagate.providers"]
    assert names == ["acme_echo"]


async def test_plugin_channel_works_through_config_only(
    gateways: Callable[..., Gateway], acme: FakeAcmeAPI, http: aiohttp.ClientSession
) -> None:
    gw = gateways(
        {
            "tenants": [
                {
                    "id": "initech",
                    "api_keys": [KEY],
                    "channels": [
                        {
                            "id": "initech-acme",
                            "provider": "acme_echo",
                            "api_base_url": acme.base_url,
                            "api_token": TOKEN,
                            "secret": SECRET,
                        }
                    ],
                }
            ]
        }
    )
    auth = {"Authorization": f"Bearer {KEY}"}
    url = f"{gw.url}/webhooks/acme/initech-acme"
    body = (SAMPLES / "text.json").read_bytes()
    async with http.post(url, data=body, headers={"X-Acme-Signature": "00"}) as resp:
        assert resp.status == 401
    async with http.post(url, data=body, headers={"X-Acme-Signature": hmac_hex(SECRET, body)}) as r:
        assert r.status == 200

    async def conversations() -> list[dict[str, object]]:
        async with http.get(f"{gw.url}/api/v1/conversations", headers=auth) as resp:
            items: list[dict[str, object]] = (await resp.json())["items"]
            return items

    conv = (await eventually(conversations, what="the plugin's message stored"))[0]
    async with http.get(f"{gw.url}/api/v1/conversations/{conv['id']}/messages", headers=auth) as r:
        msg = (await r.json())["items"][0]
    assert msg["provider"] == "acme_echo" and msg["text"]["body"] == "Hello from Acme"
    assert msg["contact"] == {"waId": "15551234567", "name": "Alex Rivera"}

    send = {"channelId": "initech-acme", "to": "15551234567", "text": {"body": "Hi from core"}}
    async with http.post(f"{gw.url}/api/v1/messages", json=send, headers=auth) as resp:
        sent = (await resp.json())["message"]
    assert sent["status"] == "MESSAGE_STATUS_SENT" and sent["providerMessageId"] == "acme-out-0001"
    assert acme.sent() == [{"to": "15551234567", "text": "Hi from core"}]

    # The plugin's own receipts move the message forward like any provider's.
    receipt = (SAMPLES / "delivered.json").read_bytes()
    async with http.post(
        url, data=receipt, headers={"X-Acme-Signature": hmac_hex(SECRET, receipt)}
    ) as resp:
        assert resp.status == 200

    async def delivered() -> bool:
        async with http.get(
            f"{gw.url}/api/v1/conversations/{conv['id']}/messages", headers=auth
        ) as resp:
            items = (await resp.json())["items"]
        return any(m["status"] == "MESSAGE_STATUS_DELIVERED" for m in items)

    await eventually(delivered, what="the receipt applied")
