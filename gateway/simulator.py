"""The customer simulator: channels configured with `simulator: true` (and the demo's)
talk to in-process fake provider APIs instead of real ones, and the console can play
their customers.

What a simulated customer types goes in as a provider-native, signed webhook through
the real webhook route, so it takes the same path as a real one. Messages sent on a
simulated channel get `sent`, `delivered` and `read` status webhooks back, and a
simulated QR session can be scanned. A channel without `simulator: true` is never
touched: its sends go to its provider as configured.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from core.errors import InvalidArgument, NotFound, Unavailable
from gateway.config import ChannelConfig, Settings, TenantConfig
from gateway.rest import authenticated
from gateway.runtime import Runtime
from gateway.tenants import ChannelRuntime
from providers.meta_cloud.testing import ReportingGraphAPI, text_webhook
from providers.qr_session.testing import FakeWahaEngine
from providers.testing import FakeGraphAPI

bp = Blueprint("simulator", url_prefix="/api/v1/simulator")

_MAX_TEXT = 4096


class Simulator:
    """The fake provider APIs of the simulated channels, by channel id."""

    def __init__(self) -> None:
        self.fakes: dict[str, FakeGraphAPI] = {}

    async def stop(self) -> None:
        for fake in self.fakes.values():
            await fake.stop()


def own_url(settings: Settings) -> str:
    """Where this gateway's HTTP port answers, as seen from this machine."""
    host = settings.http_host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://{host}:{settings.http_port}"


async def _fake_for(base: str, ch: ChannelConfig) -> tuple[FakeGraphAPI, dict[str, Any]]:
    """Start the channel's fake provider API; the settings that send through it."""
    s = ch.settings
    fake: FakeGraphAPI
    if ch.provider == "meta_cloud":
        fake = ReportingGraphAPI(
            webhook_url=f"{base}/webhooks/meta/{ch.id}",
            app_secret=str(s["app_secret"]),
            expected_token=str(s["access_token"]),
        )
        await fake.start()
        return fake, s | {"api_base_url": fake.base_url}
    engine = FakeWahaEngine(
        expected_token=s.get("engine_api_key") or None,
        webhook_url=f"{base}/webhooks/qr/{s['session_id']}",
        webhook_secret=s.get("webhook_secret") or None,
        auto_ack=True,
    )
    await engine.start()
    return engine, s | {"engine_base_url": engine.base_url}


async def start_simulator(settings: Settings) -> tuple[Simulator, Settings]:
    """Fakes for the simulated channels, and settings whose channels send to them."""
    sim = Simulator()
    base = own_url(settings)
    tenants: list[TenantConfig] = []
    for tenant in settings.tenants:
        channels = []
        for ch in tenant.channels:
            if ch.simulator:
                fake, changed = await _fake_for(base, ch)
                sim.fakes[ch.id] = fake
                ch = dataclasses.replace(ch, settings=changed)
            channels.append(ch)
        tenants.append(dataclasses.replace(tenant, channels=tuple(channels)))
    return sim, dataclasses.replace(settings, tenants=tuple(tenants))


def _simulated(request: Request, rt: Runtime, tenant_id: str, channel_id: str) -> ChannelRuntime:
    channel = rt.tenants.channel(channel_id)
    sim: Simulator | None = getattr(request.app.ctx, "simulator", None)
    if channel is None or channel.tenant_id != tenant_id or sim is None:
        raise NotFound(f"no simulated channel '{channel_id[:60]}'")
    if channel_id not in sim.fakes:
        raise NotFound(f"channel '{channel_id[:60]}' is not simulated")
    return channel


def _fake(request: Request, channel_id: str) -> FakeGraphAPI:
    fake: FakeGraphAPI = request.app.ctx.simulator.fakes[channel_id]
    return fake


@bp.get("/")
@authenticated
async def simulated_channels(request: Request, rt: Runtime, tenant_id: str) -> HTTPResponse:
    sim: Simulator | None = getattr(request.app.ctx, "simulator", None)
    found = []
    for channel_id in sorted(sim.fakes if sim else ()):
        ch = rt.tenants.channel(channel_id)
        if ch is not None and ch.tenant_id == tenant_id:
            found.append(
                {
                    "channelId": ch.id,
                    "provider": ch.provider.kind,
                    "sessionId": ch.provider.session_id(),
                }
            )
    return json({"channels": found})


def _field(body: dict[str, Any], name: str, limit: int, *, required: bool = True) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise InvalidArgument(f"{name}: expected a string of 1 to {limit} characters")
    return value.strip() if name != "text" else value


@bp.post("/messages")
@authenticated
async def customer_writes(request: Request, rt: Runtime, tenant_id: str) -> HTTPResponse:
    """Body: `{"channelId", "from", "name", "text"}`: the customer's message."""
    body = request.json if isinstance(request.json, dict) else {}
    channel_id = _field(body, "channelId", 200)
    sender = "".join(ch for ch in _field(body, "from", 32) if ch.isdigit())
    if not 6 <= len(sender) <= 15:
        raise InvalidArgument("from: expected a phone number (6 to 15 digits)")
    name = _field(body, "name", 100, required=False)
    text = _field(body, "text", _MAX_TEXT)
    channel = _simulated(request, rt, tenant_id, channel_id)
    fake = _fake(request, channel_id)
    if isinstance(fake, ReportingGraphAPI):
        phone_number_id = str(channel.provider.settings["phone_number_id"])
        status = await fake.post(text_webhook(phone_number_id, sender, name, text))
    else:
        assert isinstance(fake, FakeWahaEngine)
        status = await fake.emit("message", _waha_text(sender, name, text))
    if status != 200:
        raise Unavailable(f"the webhook route answered HTTP {status}")
    return json({"posted": True}, status=202)


def _waha_text(sender: str, name: str, text: str) -> dict[str, Any]:
    """A WAHA `message` payload (https://waha.devlike.pro/docs/how-to/events/)."""
    chat = f"{sender}@c.us"
    return {
        "id": f"false_{chat}_SIM{secrets.token_hex(12).upper()}",
        "timestamp": int(time.time()),
        "from": chat,
        "fromMe": False,
        "body": text,
        "hasMedia": False,
        "_data": {"type": "chat", "notifyName": name or sender},
    }


@bp.post("/sessions/<session_id>/scan")
@authenticated
async def phone_scans(
    request: Request, rt: Runtime, tenant_id: str, session_id: str
) -> HTTPResponse:
    for channel_id in getattr(request.app.ctx, "simulator", Simulator()).fakes:
        ch = rt.tenants.channel(channel_id)
        if ch and ch.tenant_id == tenant_id and ch.provider.session_id() == session_id:
            fake = _fake(request, channel_id)
            assert isinstance(fake, FakeWahaEngine)
            engine_session = str(ch.provider.settings.get("engine_session") or session_id)
            if await fake.scan(session=engine_session) != 200:
                raise Unavailable("the webhook route refused the scan")
            return json({"sessionId": session_id}, status=202)
    raise NotFound(f"no simulated session '{session_id[:60]}'")
