"""The demo `wagate serve` runs with no config: one tenant, one Meta channel whose
Graph API is an in-process fake, and copy-paste commands to try it."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import orjson

from gateway.config import Settings, build_settings
from providers.signing import hmac_hex
from providers.testing import FakeGraphAPI

API_KEY = "demo-api-key"
APP_SECRET = "demo-app-secret"
PHONE_NUMBER_ID = "109876543210001"

SAMPLE = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "104857600000001",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15557654321",
                            "phone_number_id": PHONE_NUMBER_ID,
                        },
                        "contacts": [{"profile": {"name": "Alex Rivera"}, "wa_id": "15551234567"}],
                        "messages": [
                            {
                                "from": "15551234567",
                                "id": "wamid.DEMO-0001",
                                "timestamp": "1767225660",
                                "type": "text",
                                "text": {"body": "Hi, is my order on its way?"},
                            }
                        ],
                    },
                }
            ],
        }
    ],
}


def demo_config(graph_base_url: str) -> dict[str, object]:
    return {
        "tenants": [
            {
                "id": "demo",
                "api_keys": [API_KEY],
                "channels": [
                    {
                        "id": "demo-meta",
                        "provider": "meta_cloud",
                        "phone_number_id": PHONE_NUMBER_ID,
                        "app_secret": APP_SECRET,
                        "verify_token": "demo-verify-token",
                        "access_token": "demo-access-token",
                        "api_base_url": graph_base_url,
                    }
                ],
            }
        ]
    }


async def start_demo(settings: Settings) -> tuple[FakeGraphAPI, Settings]:
    graph = FakeGraphAPI()
    await graph.start()
    demo = build_settings(demo_config(graph.base_url), env={})
    merged = dataclasses.replace(
        settings, tenants=demo.tenants, secrets=settings.secrets | demo.secrets
    )
    _print_instructions(settings, graph.base_url)
    return graph, merged


def _print_instructions(settings: Settings, graph_url: str) -> None:
    body = orjson.dumps(SAMPLE)
    path = Path("data/demo-webhook.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    sig = hmac_hex(APP_SECRET, body)
    base = f"http://{settings.http_host}:{settings.http_port}"
    print(
        f"""
wagate demo — tenant 'demo', API key '{API_KEY}', Meta channel 'demo-meta'
(its Graph API is a fake at {graph_url}; nothing leaves this machine)

1. Post a signed sample webhook:
   curl -s -X POST {base}/webhooks/meta -H 'Content-Type: application/json' \\
     -H 'X-Hub-Signature-256: sha256={sig}' --data-binary @{path}

2. Read what was stored:
   curl -s -H 'Authorization: Bearer {API_KEY}' {base}/api/v1/conversations
   CID=$(curl -s -H 'Authorization: Bearer {API_KEY}' {base}/api/v1/conversations \\
     | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
   curl -s -H 'Authorization: Bearer {API_KEY}' {base}/api/v1/conversations/$CID/messages

3. Send a reply (goes to the fake Graph API, comes back SENT with a wamid):
   curl -s -X POST {base}/api/v1/messages -H 'Authorization: Bearer {API_KEY}' \\
     -d '{{"channelId": "demo-meta", "to": "15551234567", "text": {{"body": "On its way!"}}}}'

gRPC (wagate.v1, reflection on) listens on {settings.http_host}:{settings.grpc_port}.
""",
        file=sys.stdout,
        flush=True,
    )
