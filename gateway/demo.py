"""The demo `wagate serve` runs with no config: one tenant with a Meta, a Kapso and a
QR-session channel whose provider APIs are in-process fakes (the Meta and QR channels
are simulated: gateway/simulator.py), the console to try them in, and copy-paste
commands."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from gateway.config import Settings, build_settings
from gateway.demo_guide import Demo, render, steps
from gateway.simulator import own_url
from providers.kapso.testing import FakeKapsoProxy
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


def demo_config(kapso_base_url: str = "") -> dict[str, object]:
    channels: list[dict[str, object]] = [
        {
            "id": "demo-meta",
            "provider": "meta_cloud",
            "simulator": True,
            "phone_number_id": PHONE_NUMBER_ID,
            "app_secret": APP_SECRET,
            "verify_token": "demo-verify-token",
            "access_token": "demo-access-token",
        },
        {
            "id": "demo-qr",
            "provider": "qr_session",
            "simulator": True,
            "session_id": QR_SESSION,
            "webhook_secret": QR_SECRET,
            "engine_base_url": "http://127.0.0.1:9",  # replaced by the simulator's engine
            "engine_api_key": "demo-waha-api-key",
        },
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
    kapso = FakeKapsoProxy(expected_token="demo-kapso-api-key")
    await kapso.start()
    demo = build_settings(demo_config(kapso.base_url), env={})
    merged = dataclasses.replace(
        settings, tenants=demo.tenants, secrets=settings.secrets | demo.secrets
    )
    _print_guide(settings)
    return DemoFakes(kapso), merged


def _print_guide(settings: Settings) -> None:
    base = own_url(settings)
    host = base.removeprefix("http://").rsplit(":", 1)[0]
    demo = Demo(
        base_url=base,
        api_key=API_KEY,
        meta_app_secret=APP_SECRET,
        kapso_secret=KAPSO_SECRET,
        kapso_phone_id=KAPSO_PHONE_ID,
        qr_secret=QR_SECRET,
        qr_session=QR_SESSION,
        meta_sample=SAMPLE,
        data_dir=Path("data").resolve(),
    )
    header = f"""
wagate demo: tenant 'demo', API key '{API_KEY}'.
Channels: Meta 'demo-meta' (app secret '{APP_SECRET}'), Kapso 'demo-kapso', QR 'demo-qr'.
Their provider APIs are fakes on this machine; nothing leaves it. The console plays
the customer (its Simulator panel). Paste the commands below into bash, from any directory.
gRPC (wagate.v1, reflection on) listens on {host}:{settings.grpc_port}.
"""
    print(render(header, steps(demo)), file=sys.stdout, flush=True)
