"""Socket.IO against a real `wagate serve`: python-socketio's client over both transports.

Events come from signed Meta webhooks, REST sends and gRPC SendTyping, as in production.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

import aiohttp
import grpc
import pytest

from providers.testing import FakeGraphAPI
from storage import repo
from storage.db import close_database, open_database
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.realtime import (
    GLOBEX,
    Client,
    api,
    post,
    send_text,
    status_webhook,
    text_webhook,
)
from tests.support.tenants import ACME_KEY, GLOBEX_KEY, two_tenant_config
from wagate.v1 import event_pb2
from wagate.v1 import messaging_service_pb2 as mpb
from wagate.v1 import messaging_service_pb2_grpc as mpb_grpc

pytestmark = pytest.mark.integration

TRANSPORTS = pytest.mark.parametrize("transport", ["websocket", "polling"])
ALEX = "15551230001"
BEA = "15551230002"


async def conversation_of(http: aiohttp.ClientSession, gw: Gateway, wa_id: str, key: str) -> str:
    async def find() -> str | None:
        status, data = await api(http, gw, "GET", "/conversations?limit=200", key)
        assert status == 200, data
        ids = [c["id"] for c in data["items"] if c["contact"].get("waId") == wa_id]
        return ids[0] if ids else None

    return str(await eventually(find, what=f"conversation with {wa_id}"))


async def mint(
    http: aiohttp.ClientSession, gw: Gateway, key: str = ACME_KEY, **body: Any
) -> tuple[int, Any]:
    return await api(http, gw, "POST", "/realtime-tokens", key, body)


# -- auth ---------------------------------------------------------------------------------


@TRANSPORTS
async def test_connect_is_refused_without_a_valid_token(
    gateway: Gateway, http: aiohttp.ClientSession, clients: Callable[[], Client], transport: str
) -> None:
    status, minted = await mint(http, gateway)
    assert status == 201, minted
    payload, signature = minted["token"].rsplit(".", 1)
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    for token, reason in [
        ("", "auth.token is required"),
        ("not-a-key", "invalid API key"),
        (forged, "invalid realtime token"),
        ("wrt1.e30.AAAA", "invalid realtime token"),
    ]:
        client = clients()
        with pytest.raises(Exception, match="failed to connect"):
            await client.connect(gateway, token, transport)
        assert client.refusal["message"].startswith(reason), (token, client.refusal)
        assert client.refusal["data"] == {"code": "unauthenticated"}
    client = clients()
    with pytest.raises(Exception, match="failed to connect"):
        await client.connect(gateway, ACME_KEY, transport, after="ten")
    assert client.refusal["data"] == {"code": "invalid_argument"}
    # A token is not an API key: REST refuses it.
    status, body = await api(http, gateway, "GET", "/conversations", minted["token"])
    assert status == 401, body
    assert "wrt1" not in gateway.logs() and "acme-test-key" not in gateway.logs()


async def test_realtime_token_expires(
    gateway: Gateway, http: aiohttp.ClientSession, clients: Callable[[], Client]
) -> None:
    status, minted = await mint(http, gateway, ttlSeconds=1)
    assert status == 201, minted
    await (await clients().connect(gateway, minted["token"], "websocket")).close()
    await asyncio.sleep(2.1)
    client = clients()
    with pytest.raises(Exception, match="failed to connect"):
        await client.connect(gateway, minted["token"], "websocket")
    assert client.refusal["message"] == "realtime token expired"
    for bad in ({"ttlSeconds": 3601}, {"ttlSeconds": -1}, {"conversationIds": "x"}):
        status, body = await mint(http, gateway, **bad)
        assert status == 400, (bad, body)
        assert body["error"]["code"] == "invalid_argument"


# -- events ---------------------------------------------------------------------------------


@TRANSPORTS
async def test_message_new_and_status_payloads(
    gateway: Gateway,
    http: aiohttp.ClientSession,
    clients: Callable[[], Client],
    fake_graph: FakeGraphAPI,
    transport: str,
) -> None:
    client = await clients().connect(gateway, ACME_KEY, transport)
    await post(http, gateway, text_webhook([("wamid.in-1", "Hello there", ALEX)]))
    [new] = await client.wait("message:new")
    conversation = await conversation_of(http, gateway, ALEX, ACME_KEY)
    assert set(new) == {"event_id", "message", "conversationId", "contactId"}
    assert re.fullmatch(r"[1-9][0-9]*", new["event_id"])
    assert new["conversationId"] == conversation
    assert new["contactId"] == ALEX
    message = new["message"]
    assert message["providerMessageId"] == "wamid.in-1"
    assert message["conversationId"] == conversation
    assert message["tenantId"] == "acme"
    assert message["channelId"] == "acme-meta"
    assert message["provider"] == "meta_cloud"
    assert message["direction"] == "DIRECTION_INBOUND"
    assert message["contact"] == {"waId": ALEX, "name": f"Contact {ALEX}"}
    assert message["text"] == {"body": "Hello there"}
    assert message["id"].startswith("msg")

    # An outbound send: message:new (PENDING), then message:status SENT.
    sent = await send_text(http, gateway, ALEX, "On its way")
    wamid = sent["providerMessageId"]
    await client.wait("message:status")
    # Then Meta's delivered and failed webhooks.
    await post(http, gateway, status_webhook(wamid, "delivered", ALEX))
    await post(http, gateway, status_webhook(wamid, "failed", ALEX))
    statuses = await client.wait("message:status", count=3)
    assert [s["status"] for s in statuses] == [
        "MESSAGE_STATUS_SENT",
        "MESSAGE_STATUS_DELIVERED",
        "MESSAGE_STATUS_FAILED",
    ]
    for s in statuses:
        assert s["messageId"] == sent["id"]
        assert s["providerMessageId"] == wamid
        assert s["conversationId"] == conversation
    assert "error" not in statuses[1]
    assert statuses[2]["error"]["code"] == 131047
    assert statuses[2]["error"]["title"] == "Re-engagement message"
    names = [name for name, _ in client.events]
    assert names == ["message:new", "message:new", *["message:status"] * 3]
    ids = [int(data["event_id"]) for _, data in client.events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert client.of("message:new")[1]["message"]["direction"] == "DIRECTION_OUTBOUND"


async def test_typing_from_send_typing(
    gateway: Gateway,
    http: aiohttp.ClientSession,
    clients: Callable[[], Client],
    fake_graph: FakeGraphAPI,
) -> None:
    await post(http, gateway, text_webhook([("wamid.typing-1", "Are you there?", ALEX)]))
    conversation = await conversation_of(http, gateway, ALEX, ACME_KEY)
    client = await clients().connect(gateway, ACME_KEY, "websocket")
    async with grpc.aio.insecure_channel(gateway.grpc_target) as channel:
        stub = mpb_grpc.MessagingServiceStub(channel)
        await stub.SendTyping(
            mpb.SendTypingRequest(conversation_id=conversation),
            metadata=(("authorization", f"Bearer {ACME_KEY}"),),
        )
    [start] = await client.wait("typing:start")
    assert set(start) == {"event_id", "conversationId"}
    assert start["conversationId"] == conversation
    assert client.of("typing:stop") == []
    # Answering ends the indicator (as on WhatsApp), without waiting for its 25 s.
    await send_text(http, gateway, ALEX, "Yes!")
    [stop] = await client.wait("typing:stop")
    assert stop["conversationId"] == conversation
    assert int(stop["event_id"]) > int(start["event_id"])
    names = [name for name, _ in client.events]
    assert names.index("typing:start") < names.index("message:new") < names.index("typing:stop")


@TRANSPORTS
async def test_session_updated_payload(
    gateway: Gateway, clients: Callable[[], Client], transport: str
) -> None:
    """Sessions come from QR engines; here the event is appended with the gateway's own
    repository code to its database, and reaches the client through replay."""
    await open_database(gateway.database_url)
    try:
        state = event_pb2.SessionState(
            session_id="acme-main",
            status=event_pb2.SESSION_STATUS_QR_GENERATED,
            message="Scan the QR code",
            qr="2@abc",
            qr_image="data:image/png;base64,iVBOR",
            needs_qr=True,
        )
        event = await repo.append_event(
            "acme", event_pb2.Event(channel_id="acme-meta", session_updated=state)
        )
        connected = event_pb2.SessionState(
            session_id="acme-main",
            status=event_pb2.SESSION_STATUS_SESSION_CONNECTED,
            is_connected=True,
        )
        await repo.append_event(
            "acme", event_pb2.Event(channel_id="acme-meta", session_updated=connected)
        )
        await repo.append_event(
            "globex", event_pb2.Event(channel_id="globex-meta", session_updated=connected)
        )
    finally:
        await close_database()
    client = await clients().connect(gateway, ACME_KEY, transport, after="0")
    first, second = await client.wait("session:updated", count=2)
    assert first == {
        "event_id": event.id,
        "sessionId": "acme-main",
        "status": "qr_generated",
        "message": "Scan the QR code",
        "qr": "2@abc",
        "qrImage": "data:image/png;base64,iVBOR",
        "isConnected": False,
        "needsQR": True,
        "isLoading": False,
        "hasError": False,
    }
    assert second["status"] == "session_connected" and second["isConnected"] is True
    assert "qr" not in second and "qrImage" not in second
    await asyncio.sleep(0.3)
    assert len(client.events) == 2  # globex's session is not acme's


# -- rooms, scope and isolation ---------------------------------------------------------------


@TRANSPORTS
async def test_tenants_are_isolated(
    gateway: Gateway, http: aiohttp.ClientSession, clients: Callable[[], Client], transport: str
) -> None:
    acme = await clients().connect(gateway, ACME_KEY, transport)
    globex = await clients().connect(gateway, GLOBEX_KEY, transport)
    await post(http, gateway, text_webhook([("wamid.acme-1", "for acme", ALEX)]))
    await post(
        http, gateway, text_webhook([("wamid.globex-1", "for globex", BEA)], GLOBEX[0]), GLOBEX
    )
    [a] = await acme.wait("message:new")
    [g] = await globex.wait("message:new")
    assert a["message"]["tenantId"] == "acme" and g["message"]["tenantId"] == "globex"
    acme_conv = a["conversationId"]
    globex_conv = g["conversationId"]

    # Joining another tenant's conversation is refused exactly like an unknown one.
    unknown = await globex.call("join:conversation", "cv_does_not_exist")
    foreign = await globex.call("join:conversation", acme_conv)
    assert unknown == {
        "ok": False,
        "error": {"code": "not_found", "message": "conversation 'cv_does_not_exist' not found"},
    }
    assert foreign == {
        "ok": False,
        "error": {"code": "not_found", "message": f"conversation '{acme_conv}' not found"},
    }
    assert await globex.call("join:conversation", globex_conv) == {
        "ok": True,
        "conversationId": globex_conv,
    }
    assert await acme.call("join:conversation", {"conversationId": acme_conv}) == {
        "ok": True,
        "conversationId": acme_conv,
    }
    # In the tenant room and the conversation room, a client still gets each event once.
    await post(http, gateway, text_webhook([("wamid.acme-2", "again", ALEX)]))
    await acme.wait("message:new", count=2)
    await asyncio.sleep(0.3)
    assert len(acme.of("message:new")) == 2
    assert len(globex.of("message:new")) == 1

    # REST and token minting leak nothing either.
    status, body = await api(
        http, gateway, "GET", f"/conversations/{acme_conv}/messages", GLOBEX_KEY
    )
    assert status == 404, body
    status, foreign_mint = await mint(http, gateway, GLOBEX_KEY, conversationIds=[acme_conv])
    status2, unknown_mint = await mint(http, gateway, GLOBEX_KEY, conversationIds=["cv_nope"])
    assert (status, status2) == (404, 404)
    assert foreign_mint["error"]["message"] == f"conversation '{acme_conv}' not found"
    assert unknown_mint["error"]["message"] == "conversation 'cv_nope' not found"


async def test_token_scoped_to_a_conversation(
    gateway: Gateway, http: aiohttp.ClientSession, clients: Callable[[], Client]
) -> None:
    await post(http, gateway, text_webhook([("wamid.s-1", "a", ALEX), ("wamid.s-2", "b", BEA)]))
    alex = await conversation_of(http, gateway, ALEX, ACME_KEY)
    bea = await conversation_of(http, gateway, BEA, ACME_KEY)
    status, minted = await mint(http, gateway, conversationIds=[alex], ttlSeconds=60)
    assert status == 201, minted
    assert minted["conversationIds"] == [alex]
    assert set(minted) == {"token", "expiresAt", "conversationIds"}
    client = await clients().connect(gateway, minted["token"], "websocket")
    assert (await client.call("join:conversation", bea))["ok"] is False
    assert await client.call("join:conversation", alex) == {"ok": True, "conversationId": alex}
    await post(http, gateway, text_webhook([("wamid.s-3", "to bea", BEA)]))
    await post(http, gateway, text_webhook([("wamid.s-4", "to alex", ALEX)]))
    [seen] = await client.wait("message:new")
    assert seen["message"]["providerMessageId"] == "wamid.s-4"
    # After leaving its only room, the scoped client gets nothing more.
    assert await client.call("leave:conversation", alex) == {"ok": True, "conversationId": alex}
    await post(http, gateway, text_webhook([("wamid.s-5", "again", ALEX)]))
    tenant_wide = await clients().connect(gateway, ACME_KEY, "websocket", after="0")
    await tenant_wide.wait("message:new", count=5)
    assert len(client.of("message:new")) == 1


# -- resume -------------------------------------------------------------------------------------


@TRANSPORTS
async def test_resume_replays_what_was_missed_then_goes_live(
    gateway: Gateway, http: aiohttp.ClientSession, clients: Callable[[], Client], transport: str
) -> None:
    first = await clients().connect(gateway, ACME_KEY, transport)
    await post(http, gateway, text_webhook([("wamid.r-0", "seen 0", ALEX)]))
    await post(http, gateway, text_webhook([("wamid.r-1", "seen 1", ALEX)]))
    seen = await first.wait("message:new", count=2)
    await first.close()
    last_seen = seen[-1]["event_id"]

    # Missed while disconnected.
    for i in range(2, 12):
        await post(http, gateway, text_webhook([(f"wamid.r-{i}", f"missed {i}", ALEX)]))

    # More arrive while the client reconnects and replays: the seam is exercised.
    async def live_traffic() -> None:
        for i in range(12, 40):
            await post(http, gateway, text_webhook([(f"wamid.r-{i}", f"live {i}", ALEX)]))

    traffic = asyncio.create_task(live_traffic())
    second = await clients().connect(gateway, ACME_KEY, transport, after=last_seen)
    await traffic
    after = [(f"wamid.r-{i}", f"after {i}", ALEX) for i in (40, 41)]
    await post(http, gateway, text_webhook(after))
    events = await second.wait("message:new", count=40)
    await asyncio.sleep(0.3)
    events = second.of("message:new")
    wamids = [e["message"]["providerMessageId"] for e in events]
    assert wamids == [f"wamid.r-{i}" for i in range(2, 42)], wamids
    ids = [int(e["event_id"]) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert ids[0] > int(last_seen)


# -- slow clients --------------------------------------------------------------------------------


async def test_slow_client_is_cut_off_without_stalling_others(
    gateways: Callable[..., Gateway],
    fake_graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
    clients: Callable[[], Client],
) -> None:
    config = {**two_tenant_config(fake_graph.base_url), "realtime_buffer": 20}
    gw = gateways(config)
    healthy = await clients().connect(gw, ACME_KEY, "websocket")
    # A raw Engine.IO long-polling client that connects, then never polls again.
    eio = f"{gw.url}/socket.io/?EIO=4&transport=polling"
    async with http.get(eio) as resp:
        handshake = json.loads((await resp.text())[1:])
    sid_url = f"{eio}&sid={handshake['sid']}"
    async with http.post(sid_url, data="40" + json.dumps({"token": ACME_KEY})) as resp:
        assert resp.status == 200
    async with http.get(sid_url) as resp:
        assert (await resp.text()).startswith("40")

    batch = [(f"wamid.slow-{i}", f"m{i}", ALEX) for i in range(35)]
    await post(http, gw, text_webhook(batch[:30]))
    await healthy.wait("message:new", count=30)
    await eventually(lambda: "slow socket.io client cut off" in gw.logs(), what="cut-off log")
    await post(http, gw, text_webhook(batch[30:]))
    await healthy.wait("message:new", count=35)

    async with http.get(sid_url) as resp:
        packets = (await resp.text()).split("\x1e")
    events = [json.loads(p[2:]) for p in packets if p.startswith("42")]
    assert events[-1] == [
        "error",
        {
            "code": "slow_consumer",
            "message": "more than 20 events were waiting for this client; "
            "reconnect with auth.after_event_id to resume",
        },
    ]
    assert packets[-1] == "41"  # Socket.IO DISCONNECT
    received = [e[1]["message"]["providerMessageId"] for e in events[:-1]]
    assert 20 < len(received) <= 30 and received == [w for w, _, _ in batch[: len(received)]]
    # It can resume from the last event it got.
    last = events[-2][1]["event_id"]
    resumed = await clients().connect(gw, ACME_KEY, "websocket", after=last)
    rest = await resumed.wait("message:new", count=35 - len(received))
    assert [e["message"]["providerMessageId"] for e in rest] == [
        w for w, _, _ in batch[len(received) :]
    ]
