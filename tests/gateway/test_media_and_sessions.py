"""The console's server features against a real gateway: message media fetched from
the provider (Meta's media id, Kapso's proxy, a QR engine's own URL), streamed and
cached; QR session control through the engine's API; the customer simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import orjson
import pytest

from providers.kapso.testing import FakeKapsoProxy
from providers.meta_cloud.testing import customer_webhook
from providers.qr_session.testing import FakeWahaEngine
from providers.signing import hmac_hex
from providers.testing import FakeGraphAPI
from tests.support.images import png
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.tenants import (
    ACCESS_TOKEN,
    ACME_KEY,
    ACME_PHONE_ID,
    ENGINE_KEY,
    GLOBEX_KEY,
    QR_SESSION,
    meta_sign,
    qr_channel,
    simulated_channel,
    two_tenant_config,
)

KAPSO_KEY = "acme-kapso-key"
KAPSO_SECRET = "acme-kapso-secret"


def config(graph: FakeGraphAPI, engine: FakeWahaEngine, kapso: FakeKapsoProxy) -> dict[str, Any]:
    data = two_tenant_config(graph.base_url)
    data["tenants"][0]["channels"] += [
        qr_channel(engine.base_url),
        {
            "id": "acme-kapso",
            "provider": "kapso",
            "phone_number_id": "409876543210004",
            "webhook_secret": KAPSO_SECRET,
            "api_key": KAPSO_KEY,
            "api_base_url": kapso.base_url,
        },
        simulated_channel(),
    ]
    return data


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI(expected_token=ACCESS_TOKEN) as fake:
        yield fake


@pytest.fixture
async def engine() -> AsyncIterator[FakeWahaEngine]:
    async with FakeWahaEngine(expected_token=ENGINE_KEY) as fake:
        yield fake


@pytest.fixture
async def kapso() -> AsyncIterator[FakeKapsoProxy]:
    async with FakeKapsoProxy(expected_token=KAPSO_KEY) as fake:
        yield fake


@pytest.fixture
async def gw(
    gateways: Callable[..., Gateway],
    graph: FakeGraphAPI,
    engine: FakeWahaEngine,
    kapso: FakeKapsoProxy,
) -> Gateway:
    return gateways(config(graph, engine, kapso))


def auth(key: str = ACME_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def post_meta(http: aiohttp.ClientSession, gw: Gateway, kind: str, content: Any) -> str:
    body = customer_webhook(ACME_PHONE_ID, "15551230001", "Dana", kind, content)
    async with http.post(f"{gw.url}/webhooks/meta", data=body, headers=meta_sign(body)) as resp:
        assert resp.status == 200, await resp.text()
    wamid: str = orjson.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    return wamid


async def stored(http: aiohttp.ClientSession, gw: Gateway, ident: str) -> bool:
    """Whether the gateway knows the message yet (webhooks are applied after the ack)."""
    async with http.get(f"{gw.url}/api/v1/messages/{ident}/media", headers=auth()) as resp:
        return not (resp.status == 404 and "' not found" in await resp.text())


async def get(
    http: aiohttp.ClientSession, url: str, key: str | None = ACME_KEY
) -> tuple[int, str, bytes]:
    headers = auth(key) if key else {}
    async with http.get(url, headers=headers) as resp:
        return resp.status, resp.content_type, await resp.read()


async def media(http: aiohttp.ClientSession, gw: Gateway, ident: str) -> tuple[int, str, bytes]:
    """The media route's answer for a message, once the gateway has stored it."""
    await eventually(lambda: stored(http, gw, ident), what=f"message {ident} stored")
    return await get(http, f"{gw.url}/api/v1/messages/{ident}/media")


async def test_meta_media_is_fetched_with_the_token_streamed_and_cached(
    gw: Gateway,
    graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
) -> None:
    image = png()
    media_id = graph.add_media(image, "image/png")
    wamid = await post_meta(http, gw, "image", {"id": media_id, "mime_type": "image/png"})
    assert await media(http, gw, wamid) == (200, "image/png", image)
    url = f"{gw.url}/api/v1/messages/{wamid}/media"
    assert (await get(http, url, None))[0] == 401
    assert (await get(http, url, GLOBEX_KEY))[0] == 404  # another tenant's message
    calls = [r for r in graph.requests if r.method == "GET"]
    assert [r.path for r in calls] == [f"/v23.0/{media_id}", graph.download_path]
    assert all(r.header("Authorization") == f"Bearer {ACCESS_TOKEN}" for r in calls)

    graph.clear()
    assert await get(http, url) == (200, "image/png", image)  # from the disk cache
    assert graph.requests == []


async def test_a_message_without_media_is_not_found(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    wamid = await post_meta(http, gw, "text", {"body": "no picture here"})
    status, _, body = await media(http, gw, wamid)
    assert status == 404 and b"has no media" in body


async def test_qr_engine_media_comes_from_the_engine_with_its_api_key(
    gw: Gateway,
    engine: FakeWahaEngine,
    http: aiohttp.ClientSession,
) -> None:
    engine.webhook_url = f"{gw.url}/webhooks/qr/{QR_SESSION}"
    audio = b"OggS" + bytes(range(256)) * 8
    media_id = engine.add_media(audio, "audio/ogg")
    payload = {
        "id": "false_15551230002@c.us_3EB0AUDIO0001",
        "timestamp": 1767225660,
        "from": "15551230002@c.us",
        "fromMe": False,
        "body": "",
        "hasMedia": True,
        "media": {"url": engine.file_url(media_id, QR_SESSION), "mimetype": "audio/ogg"},
        "_data": {"type": "ptt", "notifyName": "Eve"},
    }
    assert await engine.emit("message", payload, session=QR_SESSION) == 200
    assert await media(http, gw, str(payload["id"])) == (200, "audio/ogg", audio)
    files = [r for r in engine.requests if r.path.startswith("/api/files/")]
    assert [r.header("X-Api-Key") for r in files] == [ENGINE_KEY]


async def test_session_control_calls_the_engine_and_is_tenant_scoped(
    gw: Gateway,
    engine: FakeWahaEngine,
    http: aiohttp.ClientSession,
) -> None:
    for action in ("start", "stop", "logout"):
        url = f"{gw.url}/api/v1/sessions/{QR_SESSION}/{action}"
        async with http.post(url, headers=auth()) as resp:
            assert resp.status == 202, await resp.text()
        async with http.post(url, headers=auth(GLOBEX_KEY)) as resp:
            assert resp.status == 404
    calls = [(r.path, r.header("X-Api-Key")) for r in engine.requests]
    assert calls == [
        (f"/api/sessions/{QR_SESSION}/{action}", ENGINE_KEY)
        for action in ("start", "stop", "logout")
    ]
    async with http.post(f"{gw.url}/api/v1/sessions/{QR_SESSION}/reboot", headers=auth()) as resp:
        assert resp.status == 404
    async with http.post(f"{gw.url}/api/v1/sessions/{QR_SESSION}/start") as resp:
        assert resp.status == 401


async def test_the_simulator_posts_signed_webhooks_and_reports_statuses(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{gw.url}/api/v1/simulator", headers=auth()) as resp:
        channels = (await resp.json())["channels"]
    assert [c["channelId"] for c in channels] == ["acme-sim"]  # never a real channel
    async with http.get(f"{gw.url}/api/v1/simulator", headers=auth(GLOBEX_KEY)) as resp:
        assert (await resp.json())["channels"] == []

    said = {"channelId": "acme-sim", "from": "+1 555 000 7777", "name": "Sim", "text": "hello"}
    for key, channel, status in ((GLOBEX_KEY, "acme-sim", 404), (ACME_KEY, "acme-meta", 404)):
        body = said | {"channelId": channel}
        async with http.post(
            f"{gw.url}/api/v1/simulator/messages", json=body, headers=auth(key)
        ) as resp:
            assert resp.status == status
    async with http.post(f"{gw.url}/api/v1/simulator/messages", json=said, headers=auth()) as resp:
        assert resp.status == 202, await resp.text()

    async def conversation() -> Any:
        async with http.get(f"{gw.url}/api/v1/conversations", headers=auth()) as resp:
            items = (await resp.json())["items"]
        return next((c for c in items if c["contact"]["waId"] == "15550007777"), None)

    conv = await eventually(conversation, what="the simulated customer's conversation")
    reply = {"channelId": "acme-sim", "to": "15550007777", "text": {"body": "hi Sim"}}
    async with http.post(f"{gw.url}/api/v1/messages", json=reply, headers=auth()) as resp:
        sent = (await resp.json())["message"]
    assert sent["status"] == "MESSAGE_STATUS_SENT"

    async def read() -> str:
        url = f"{gw.url}/api/v1/conversations/{conv['id']}/messages"
        async with http.get(url, headers=auth()) as resp:
            items = (await resp.json())["items"]
        found = next(m for m in items if m["id"] == sent["id"])
        return str(found["status"]) if found["status"] == "MESSAGE_STATUS_READ" else ""

    await eventually(read, within=15, what="the reply read")


async def test_kapso_media_goes_through_its_meta_proxy_with_its_api_key(
    gw: Gateway,
    kapso: FakeKapsoProxy,
    http: aiohttp.ClientSession,
) -> None:
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(512)
    media_id = kapso.add_media(video, "video/mp4")
    body = customer_webhook(
        "409876543210004", "15551230003", "Kai", "video", {"id": media_id, "mime_type": "video/mp4"}
    )
    headers = {
        "Content-Type": "application/json",
        "X-Webhook-Signature": hmac_hex(KAPSO_SECRET, body),
    }
    async with http.post(f"{gw.url}/webhooks/kapso/acme-kapso", data=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
    wamid = orjson.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert await media(http, gw, wamid) == (200, "video/mp4", video)
    gets = [r for r in kapso.requests if r.method == "GET"]
    assert gets and all(r.header("X-API-Key") == KAPSO_KEY for r in gets)


async def test_an_upload_goes_to_the_channels_provider(
    gw: Gateway,
    graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
) -> None:

    def form(channel: str) -> aiohttp.FormData:
        data = aiohttp.FormData()
        data.add_field("channelId", channel)
        data.add_field(
            "file", b"%PDF-1.4 tiny", filename="terms.pdf", content_type="application/pdf"
        )
        return data

    url = f"{gw.url}/api/v1/media"
    for key, channel, status in (
        (None, "acme-meta", 401),
        (GLOBEX_KEY, "acme-meta", 403),  # another tenant's channel
        (ACME_KEY, "acme-qr", 422),  # engines take no uploads
        (ACME_KEY, "acme-meta", 201),
    ):
        headers = auth(key) if key else {}
        async with http.post(url, data=form(channel), headers=headers) as resp:
            assert resp.status == status, await resp.text()
            answer = await resp.json()
    assert answer["mimeType"] == "application/pdf" and answer["filename"] == "terms.pdf"
    stored_media = graph.media[answer["id"]]
    assert (stored_media.data, stored_media.mime_type) == (b"%PDF-1.4 tiny", "application/pdf")
    (upload,) = [r for r in graph.requests if r.path.endswith("/media")]
    assert upload.header("Authorization") == f"Bearer {ACCESS_TOKEN}"


async def test_the_demo_walks_a_simulated_qr_session_to_ready(
    gateways: Callable[..., Gateway], http: aiohttp.ClientSession
) -> None:
    demo = gateways(None)
    key = {"Authorization": "Bearer demo-api-key"}
    session = f"{demo.url}/api/v1/sessions/demo-main"

    async def status(wanted: str) -> bool:
        async with http.get(session, headers=key) as resp:
            return bool((await resp.json())["status"] == wanted)

    async with http.post(f"{session}/start", headers=key) as resp:
        assert resp.status == 202
    await eventually(lambda: status("qr_generated"), what="a QR from the simulated engine")
    scan = f"{demo.url}/api/v1/simulator/sessions/demo-main/scan"
    async with http.post(scan, headers=auth()) as resp:
        assert resp.status == 401  # a key the demo does not know
    async with http.post(scan, headers=key) as resp:
        assert resp.status == 202
    await eventually(lambda: status("session_connected"), what="the session ready")
