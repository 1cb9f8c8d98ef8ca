"""Helpers for the bot tests: tenants with bots, signed text webhooks, replies seen by
the fake Graph API."""

from __future__ import annotations

import copy
import json
from typing import Any

import aiohttp

from providers.testing import FakeGraphAPI
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.samples import sample_bytes
from tests.support.tenants import meta_sign


def tenant(index: int, graph_url: str, bots: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """Tenant `t{index}` with one Meta channel `t{index}-meta` (phone id 30000…{index})."""
    return {
        "id": f"t{index}",
        "api_keys": [f"t{index}-key"],
        "channels": [
            {
                "id": f"t{index}-meta",
                "provider": "meta_cloud",
                "phone_number_id": phone_id(index),
                "app_secret": f"t{index}-secret",
                "verify_token": f"t{index}-verify",
                "access_token": f"t{index}-access-token",
                "api_base_url": graph_url,
            }
        ],
        "bots": bots,
        **extra,
    }


def phone_id(index: int) -> str:
    return f"3000000000{index:05d}"


_TEXT = json.loads(sample_bytes("meta", "text.json"))


def text_webhook(
    index: int, wamid: str, body: str, wa_id: str = "15550001111", ts: int = 1767225660
) -> bytes:
    data = copy.deepcopy(_TEXT)
    value = data["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = phone_id(index)
    value["contacts"][0]["wa_id"] = wa_id
    value["contacts"][0]["profile"]["name"] = "Ana"
    value["messages"][0].update({"id": wamid, "from": wa_id, "timestamp": str(ts)})
    value["messages"][0]["text"]["body"] = body
    return json.dumps(data).encode()


async def post(http: aiohttp.ClientSession, gw: Gateway, index: int, body: bytes) -> int:
    headers = meta_sign(body, f"t{index}-secret")
    async with http.post(gw.url + "/webhooks/meta", data=body, headers=headers) as resp:
        return resp.status


def replies(graph: FakeGraphAPI, wa_id: str = "15550001111") -> list[str]:
    """Bodies of the text messages sent to `wa_id`, in order."""
    sent = graph.messages()
    return [m["text"]["body"] for m in sent if m["to"].lstrip("+") == wa_id and "text" in m]


async def wait_replies(graph: FakeGraphAPI, n: int, wa_id: str = "15550001111") -> list[str]:
    await eventually(lambda: len(replies(graph, wa_id)) >= n, what=f"{n} replies to {wa_id}")
    return replies(graph, wa_id)
