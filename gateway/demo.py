"""The demo `wagate serve` runs with no config: one tenant with a Meta, a Kapso and a
QR-session channel whose provider APIs are in-process fakes, and copy-paste commands
to try them."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import orjson

from gateway.config import Settings, build_settings
from providers.kapso.testing import FakeKapsoProxy
from providers.qr_session.testing import FakeWahaEngine
from providers.signing import hmac_hex
from providers.testing import FakeGraphAPI

API_KEY = "demo-api-key"
APP_SECRET = "demo-app-secret"
PHONE_NUMBER_ID = "109876543210001"
KAPSO_PHONE_ID = "109876543210009"
KAPSO_SECRET = "demo-kapso-secret"
QR_SESSION = "demo-main"
QR_SECRET = "demo-qr-secret"

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


def demo_config(
    graph_base_url: str, kapso_base_url: str = "", engine_base_url: str = ""
) -> dict[str, object]:
    channels: list[dict[str, object]] = [
        {
            "id": "demo-meta",
            "provider": "meta_cloud",
            "phone_number_id": PHONE_NUMBER_ID,
            "app_secret": APP_SECRET,
            "verify_token": "demo-verify-token",
            "access_token": "demo-access-token",
            "api_base_url": graph_base_url,
        }
    ]
    if kapso_base_url:
        channels.append(
            {
                "id": "demo-kapso",
                "provider": "kapso",
                "phone_number_id": KAPSO_PHONE_ID,
                "webhook_secret": KAPSO_SECRET,
                "api_key": "demo-kapso-api-key",
                "api_base_url": kapso_base_url,
            }
        )
    if engine_base_url:
        channels.append(
            {
                "id": "demo-qr",
                "provider": "qr_session",
                "session_id": QR_SESSION,
                "webhook_secret": QR_SECRET,
                "engine_base_url": engine_base_url,
                "engine_api_key": "demo-waha-api-key",
            }
        )
    # The numbered menu bot (gateway/bots/flows/menu.yaml) answers "hi", "menu", "olá", ...
    bots = [{"plugin": "flows", "flows_file": "menu.yaml"}]
    return {"tenants": [{"id": "demo", "api_keys": [API_KEY], "channels": channels, "bots": bots}]}


class DemoFakes:
    """The demo's fake provider servers, stopped together."""

    def __init__(self, *servers: FakeGraphAPI) -> None:
        self.servers = servers

    async def stop(self) -> None:
        for server in self.servers:
            await server.stop()


async def start_demo(settings: Settings) -> tuple[DemoFakes, Settings]:
    graph = FakeGraphAPI()
    kapso = FakeKapsoProxy(expected_token="demo-kapso-api-key")
    base = f"http://{settings.http_host}:{settings.http_port}"
    # The fake engine acks each send back to the gateway, as a real WAHA would.
    engine = FakeWahaEngine(
        expected_token="demo-waha-api-key",
        webhook_url=f"{base}/webhooks/qr/{QR_SESSION}",
        webhook_secret=QR_SECRET,
        auto_ack=True,
    )
    for server in (graph, kapso, engine):
        await server.start()
    demo = build_settings(demo_config(graph.base_url, kapso.base_url, engine.base_url), env={})
    merged = dataclasses.replace(
        settings, tenants=demo.tenants, secrets=settings.secrets | demo.secrets
    )
    _print_instructions(settings, graph.base_url)
    _print_more(settings)
    return DemoFakes(graph, kapso, engine), merged


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

1. Post a signed sample webhook ("Hi, ..."; the menu bot answers with its numbered menu):
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


def _print_more(settings: Settings) -> None:
    """Commands for the Kapso and QR-session channels (the samples are written to data/)."""
    kapso = orjson.dumps(
        {
            "message": {
                "from": "15551234567",
                "id": "wamid.DEMO-KAPSO-0001",
                "timestamp": "1767225700",
                "type": "text",
                "text": {"body": "Hello via Kapso"},
                "kapso": {"direction": "inbound", "status": "received"},
            },
            "conversation": {"id": "demo-conv", "phone_number": "+15551234567"},
            "phone_number_id": KAPSO_PHONE_ID,
        }
    )
    qr = orjson.dumps({"event": "qr", "data": {"qr": "2@demo-qr-payload,made-up,keys,here"}})
    ready = orjson.dumps({"event": "ready", "data": {"info": {"pushname": "Demo"}}})
    files = {"kapso": kapso, "qr": qr, "ready": ready}
    for name, body in files.items():
        Path(f"data/demo-{name}.json").write_bytes(body)
    base = f"http://{settings.http_host}:{settings.http_port}"
    ksig = hmac_hex(KAPSO_SECRET, kapso)
    qsig, rsig = (hmac_hex(QR_SECRET, body, "sha512") for body in (qr, ready))
    auth = f"-H 'Authorization: Bearer {API_KEY}'"
    print(
        f"""Kapso channel 'demo-kapso' (fake proxy) and QR channel 'demo-qr' (fake WAHA engine):

4. A Kapso event webhook:
   curl -s -X POST {base}/webhooks/kapso/demo-kapso \\
     -H 'X-Webhook-Event: whatsapp.message.received' \\
     -H 'X-Webhook-Signature: {ksig}' --data-binary @data/demo-kapso.json

5. A QR-session engine's QR, then its ready event, and the session status:
   curl -s -X POST {base}/webhooks/qr/{QR_SESSION} -H 'X-Webhook-Hmac: {qsig}' \\
     --data-binary @data/demo-qr.json
   curl -s {auth} {base}/api/v1/sessions/{QR_SESSION}
   curl -s -X POST {base}/webhooks/qr/{QR_SESSION} -H 'X-Webhook-Hmac: {rsig}' \\
     --data-binary @data/demo-ready.json
   curl -s {auth} '{base}/api/v1/sessions?status=session_connected'

6. Buttons on the QR channel go out as a numbered menu; answering "2" maps back:
   curl -s -X POST {base}/api/v1/messages {auth} -d '{{"channelId": "demo-qr", \\
     "to": "15551234567", "interactive": {{"body": "Pick a slot", "buttons": {{"buttons": \\
     [{{"id": "mon", "title": "Monday"}}, {{"id": "tue", "title": "Tuesday"}}]}}}}}}'
""",
        file=sys.stdout,
        flush=True,
    )
