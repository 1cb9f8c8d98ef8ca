"""Kapso and QR-session channels against real `wagate serve` processes, with Kapso's
proxy and a WAHA engine faked on 127.0.0.1.

Checked through REST, gRPC and the gateway's SQLite file: normalized messages,
status transitions, session state, dedup, signatures and the capability fallback.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import grpc
import orjson
import pytest

from providers.kapso.testing import FakeKapsoProxy, kapso_headers
from providers.qr_session.testing import FakeWahaEngine, waha_headers
from providers.signing import hmac_hex
from tests.support.gateway_db import db_count, db_rows, inbox_done
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.samples import sample_bytes
from wagate.v1 import event_pb2, session_service_pb2, session_service_pb2_grpc

pytestmark = pytest.mark.integration

KEY = "acme-test-key"
OTHER_KEY = "globex-test-key"
KAPSO_SECRET = "test-kapso-secret"  # the samples' test-vector secret
KAPSO_API_KEY = "kapso-project-key"
KAPSO_PHONE_ID = "109876543210001"  # the samples' business number
QR_SECRET = "test-waha-key"
WAHA_KEY = "waha-api-key"
SESSION = "acme-main"
CONTACT = "15551234567"
AUTH = {"Authorization": f"Bearer {KEY}"}


def config(kapso_url: str, waha_url: str) -> dict[str, Any]:
    return {
        "tenants": [
            {
                "id": "acme",
                "api_keys": [KEY],
                "channels": [
                    {
                        "id": "acme-kapso",
                        "provider": "kapso",
                        "phone_number_id": KAPSO_PHONE_ID,
                        "webhook_secret": KAPSO_SECRET,
                        "api_key": KAPSO_API_KEY,
                        "api_base_url": kapso_url,
                    },
                    {
                        "id": "acme-qr",
                        "provider": "qr_session",
                        "session_id": SESSION,
                        "webhook_secret": QR_SECRET,
                        "engine_base_url": waha_url,
                        "engine_api_key": WAHA_KEY,
                        "engine_session": "default",
                    },
                    {
                        "id": "acme-qr-2",
                        "provider": "qr_session",
                        "session_id": "acme-second",
                        "engine_base_url": waha_url,
                    },
                ],
            },
            {
                "id": "globex",
                "api_keys": [OTHER_KEY],
                "channels": [
                    {
                        "id": "globex-qr",
                        "provider": "qr_session",
                        "session_id": "globex-main",
                        "engine_base_url": waha_url,
                    }
                ],
            },
        ]
    }


@pytest.fixture
async def kapso() -> AsyncIterator[FakeKapsoProxy]:
    async with FakeKapsoProxy(expected_token=KAPSO_API_KEY) as proxy:
        yield proxy


@pytest.fixture
async def waha() -> AsyncIterator[FakeWahaEngine]:
    engine = FakeWahaEngine(expected_token=WAHA_KEY, webhook_secret=QR_SECRET, auto_ack=True)
    async with engine:
        yield engine


@pytest.fixture
def gw(gateways: Callable[..., Gateway], kapso: FakeKapsoProxy, waha: FakeWahaEngine) -> Gateway:
    gateway = gateways(config(kapso.base_url, waha.base_url))
    waha.webhook_url = f"{gateway.url}/webhooks/qr/{SESSION}"
    return gateway


# -- helpers ---------------------------------------------------------------------------


async def post_kapso(
    http: aiohttp.ClientSession,
    gw: Gateway,
    body: bytes,
    headers: dict[str, str],
    secret: str = KAPSO_SECRET,
) -> tuple[int, Any]:
    signed = {**headers, "X-Webhook-Signature": hmac_hex(secret, body)}
    async with http.post(f"{gw.url}/webhooks/kapso/acme-kapso", data=body, headers=signed) as r:
        return r.status, await r.text()


async def post_qr(
    http: aiohttp.ClientSession,
    gw: Gateway,
    body: bytes,
    session: str = SESSION,
    secret: str | None = QR_SECRET,
) -> int:
    headers = waha_headers(body, secret)
    async with http.post(f"{gw.url}/webhooks/qr/{session}", data=body, headers=headers) as r:
        return r.status


def wwebjs(event: str, data: dict[str, Any]) -> bytes:
    return orjson.dumps({"event": event, "data": data})


async def get_json(http: aiohttp.ClientSession, url: str, key: str = KEY) -> tuple[int, Any]:
    async with http.get(url, headers={"Authorization": f"Bearer {key}"}) as r:
        return r.status, await r.json()


async def messages_of(
    http: aiohttp.ClientSession, gw: Gateway, channel_id: str
) -> list[dict[str, Any]]:
    """Every stored message of a channel, oldest first."""
    status, convs = await get_json(http, f"{gw.url}/api/v1/conversations?channel_id={channel_id}")
    assert status == 200
    out: list[dict[str, Any]] = []
    for conv in convs["items"]:
        _, page = await get_json(http, f"{gw.url}/api/v1/conversations/{conv['id']}/messages")
        out += page["items"]
    return sorted(out, key=lambda m: (m.get("timestamp", ""), m["id"]))


async def send(http: aiohttp.ClientSession, gw: Gateway, body: dict[str, Any]) -> tuple[int, Any]:
    async with http.post(f"{gw.url}/api/v1/messages", json=body, headers=AUTH) as r:
        return r.status, await r.json()


async def session_state(http: aiohttp.ClientSession, gw: Gateway, session: str = SESSION) -> Any:
    status, body = await get_json(http, f"{gw.url}/api/v1/sessions/{session}")
    assert status == 200, body
    return body


# -- Kapso -----------------------------------------------------------------------------


async def test_kapso_inbound_single_batch_and_forwarded(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    deliveries = [
        ("message_received_text", kapso_headers("whatsapp.message.received")),
        ("message_received_image", kapso_headers("whatsapp.message.received")),
        ("message_received_interactive", kapso_headers("whatsapp.message.received")),
        ("message_received_batch", kapso_headers("whatsapp.message.received", batch=3)),
        ("meta_forwarded_text", {"Content-Type": "application/json"}),  # same wamid as text
    ]
    for name, headers in deliveries:
        status, text = await post_kapso(http, gw, sample_bytes("kapso", name), headers)
        assert status == 200, (name, text)
    await eventually(lambda: inbox_done(gw, 5), what="five inbox rows done")
    msgs = await messages_of(http, gw, "acme-kapso")
    assert [m.get("text", {}).get("body") for m in msgs if "text" in m] == [
        "Hi, is my order on its way?",
        "Hello",
        "are you there?",
        "I need help with order ABC123",
    ]
    assert len(msgs) == 6  # the forwarded copy of the first text is stored once
    assert {m["provider"] for m in msgs} == {"kapso"}
    assert {m["contact"]["waId"] for m in msgs} == {CONTACT}
    image = next(m for m in msgs if "image" in m)
    assert image["image"]["url"] == "https://api.kapso.ai/media/made-up-image-token"
    assert image["image"]["caption"] == "Photo of the damaged box"
    button = next(m for m in msgs if "buttonReply" in m)
    assert button["buttonReply"] == {"id": "confirm-yes", "title": "Yes, confirm"}


async def test_kapso_bad_or_missing_signature_is_401_and_nothing_stored(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    body = sample_bytes("kapso", "message_received_text")
    headers = kapso_headers("whatsapp.message.received")
    status, _ = await post_kapso(http, gw, body, headers, secret="wrong-secret")
    assert status == 401
    async with http.post(f"{gw.url}/webhooks/kapso/acme-kapso", data=body, headers=headers) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "invalid_signature"
    assert db_count(gw, "SELECT count(*) FROM webhook_inbox") == 0
    assert db_count(gw, "SELECT count(*) FROM message") == 0


async def test_kapso_idempotency_key_dedups_deliveries(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    first = sample_bytes("kapso", "message_received_text")
    doc = json.loads(first)
    doc["message"]["id"] = "wamid.another-message"
    second = orjson.dumps(doc)  # other bytes, same delivery key: a redelivery
    headers = kapso_headers("whatsapp.message.received", idempotency_key="delivery-0001")
    for body in (first, second, first):
        assert (await post_kapso(http, gw, body, headers))[0] == 200
    await eventually(lambda: inbox_done(gw, 1), what="one inbox row")
    assert db_count(gw, "SELECT count(*) FROM message") == 1


async def test_kapso_unknown_event_is_recorded_and_ignored(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    body = b'{"phone_number_id": "109876543210001", "something": {"new": true}}'
    status, _ = await post_kapso(http, gw, body, kapso_headers("whatsapp.brand_new.event"))
    assert status == 200
    await eventually(lambda: inbox_done(gw, 1), what="the row recorded and done")
    assert db_rows(gw, "SELECT body FROM webhook_inbox")[0][0] == body
    assert db_count(gw, "SELECT count(*) FROM message") == 0
    await eventually(lambda: "unknown Kapso event ignored" in gw.logs(), what="a log line")


async def test_kapso_wrong_number_and_bad_json_are_400(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    doc = json.loads(sample_bytes("kapso", "message_received_text"))
    doc["phone_number_id"] = "999"
    headers = kapso_headers("whatsapp.message.received")
    status, text = await post_kapso(http, gw, orjson.dumps(doc), headers)
    assert status == 400 and "999" in text
    assert (await post_kapso(http, gw, b"{not json", headers))[0] == 400
    async with http.post(
        f"{gw.url}/webhooks/kapso/no-such-channel", data=b"{}", headers=headers
    ) as resp:
        assert resp.status == 404
    assert db_count(gw, "SELECT count(*) FROM webhook_inbox") == 0


async def test_kapso_send_through_proxy_then_statuses_move_forward(
    gw: Gateway, http: aiohttp.ClientSession, kapso: FakeKapsoProxy
) -> None:
    status, body = await send(
        http, gw, {"channelId": "acme-kapso", "to": CONTACT, "text": {"body": "Ships today"}}
    )
    assert status == 200, body
    sent = body["message"]
    assert sent["status"] == "MESSAGE_STATUS_SENT" and sent["provider"] == "kapso"
    request = kapso.requests[-1]
    assert request.path == f"/meta/whatsapp/v23.0/{KAPSO_PHONE_ID}/messages"
    assert request.header("X-API-Key") == KAPSO_API_KEY
    assert request.header("Authorization") is None
    assert request.json["text"] == {"body": "Ships today"} and request.json["to"] == "+" + CONTACT
    wamid = sent["providerMessageId"]
    for name, event in (
        ("message_read", "whatsapp.message.read"),
        ("message_delivered", "whatsapp.message.delivered"),  # late: must not move back
    ):
        doc = json.loads(sample_bytes("kapso", name))
        doc["message"]["id"] = wamid
        for st in doc["message"]["kapso"]["statuses"]:
            st["id"] = wamid
        assert (await post_kapso(http, gw, orjson.dumps(doc), kapso_headers(event)))[0] == 200
    await eventually(lambda: inbox_done(gw, 2), what="status rows applied")
    _, got = await get_json(
        http, f"{gw.url}/api/v1/conversations/{sent['conversationId']}/messages"
    )
    assert got["items"][0]["status"] == "MESSAGE_STATUS_READ"


async def test_kapso_failed_event_carries_the_meta_error(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    status, body = await send(
        http, gw, {"channelId": "acme-kapso", "to": CONTACT, "text": {"body": "Following up"}}
    )
    assert status == 200
    wamid = body["message"]["providerMessageId"]
    doc = json.loads(sample_bytes("kapso", "message_failed"))
    doc["message"]["id"] = wamid
    for st in doc["message"]["kapso"]["statuses"]:
        st["id"] = wamid
    headers = kapso_headers("whatsapp.message.failed")
    assert (await post_kapso(http, gw, orjson.dumps(doc), headers))[0] == 200
    url = f"{gw.url}/api/v1/conversations/{body['message']['conversationId']}/messages"

    async def failed() -> Any:
        _, got = await get_json(http, url)
        msg = got["items"][0]
        return msg if msg["status"] == "MESSAGE_STATUS_FAILED" else None

    msg = await eventually(failed, what="the message to fail")
    assert msg["errors"][0]["code"] == 131047


async def test_kapso_conversation_events_are_recorded(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    for name in ("conversation_created", "conversation_ended", "conversation_inactive"):
        event = "whatsapp." + name.replace("_", ".", 1)
        status, _ = await post_kapso(http, gw, sample_bytes("kapso", name), kapso_headers(event))
        assert status == 200
    await eventually(lambda: inbox_done(gw, 3), what="three rows done")
    rows = db_rows(gw, "SELECT payload FROM event_log ORDER BY id")
    names = [event_pb2.Event.FromString(r[0]).provider_event.name for r in rows]
    assert names == [
        "whatsapp.conversation.created",
        "whatsapp.conversation.ended",
        "whatsapp.conversation.inactive",
    ]


# -- QR sessions -----------------------------------------------------------------------


async def test_qr_session_lifecycle_and_status_api(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    before = await session_state(http, gw)
    assert before["status"] == "session_not_connected" and before["createdAt"] is None

    qr = json.loads(sample_bytes("wwebjs", "qr"))["data"]["qr"]
    assert await post_qr(http, gw, sample_bytes("wwebjs", "qr")) == 200
    state = await eventually(lambda: _state_if(http, gw, "qr_generated"), what="qr_generated state")
    assert state["qr"] == qr and state["needsQR"] and not state["isConnected"]
    assert state["qrImage"].startswith("data:image/png;base64,iVBORw0KGgo")
    assert state["createdAt"] and state["updatedAt"]

    assert await post_qr(http, gw, wwebjs("loading_screen", {"percent": 45})) == 200
    state = await eventually(lambda: _state_if(http, gw, "loading"), what="loading")
    assert state["isLoading"] and state["loadingPercent"] == 45 and state["qr"] is None

    assert await post_qr(http, gw, sample_bytes("wwebjs", "ready")) == 200
    state = await eventually(lambda: _state_if(http, gw, "session_connected"), what="ready")
    assert state["isConnected"] and state["qr"] is None and state["qrImage"] is None
    assert "Acme Support" in state["message"]

    assert await post_qr(http, gw, sample_bytes("wwebjs", "change_state_conflict")) == 200
    await eventually(lambda: _state_if(http, gw, "session_not_connected"), what="conflict")
    assert await post_qr(http, gw, sample_bytes("wwebjs", "auth_failure")) == 200
    state = await eventually(lambda: _state_if(http, gw, "auth_failure"), what="auth failure")
    assert state["hasError"] and "invalid" in state["message"]

    status, listed = await get_json(http, f"{gw.url}/api/v1/sessions")
    assert status == 200
    assert [s["sessionId"] for s in listed["items"]] == ["acme-main", "acme-second"]
    assert listed["summary"] == {
        "connected": 0,
        "disconnected": 1,
        "loading": 0,
        "needsQR": 0,
        "error": 1,
        "total": 2,
    }
    _, only = await get_json(http, f"{gw.url}/api/v1/sessions?status=auth_failure")
    assert [s["sessionId"] for s in only["items"]] == ["acme-main"]
    assert only["summary"]["total"] == 1 and only["summary"]["error"] == 1
    assert (await get_json(http, f"{gw.url}/api/v1/sessions?status=bogus"))[0] == 400

    # Every change was an event: qr, loading, ready, conflict, auth_failure.
    rows = db_rows(gw, "SELECT payload FROM event_log ORDER BY id")
    events = [event_pb2.Event.FromString(r[0]) for r in rows]
    assert [e.session_updated.status for e in events] == [1, 3, 4, 5, 6]


async def _state_if(http: aiohttp.ClientSession, gw: Gateway, status: str) -> Any:
    state = await session_state(http, gw)
    return state if state["status"] == status else None


async def test_qr_unknown_session_bad_hmac_and_other_tenant(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    body = sample_bytes("wwebjs", "qr")
    assert await post_qr(http, gw, body, session="nope") == 404
    assert await post_qr(http, gw, body, secret="wrong") == 401
    async with http.post(f"{gw.url}/webhooks/qr/{SESSION}", data=body) as resp:
        assert resp.status == 401  # the channel has a secret: the header is required
    assert db_count(gw, "SELECT count(*) FROM webhook_inbox") == 0
    # A channel without a secret takes unsigned webhooks.
    assert await post_qr(http, gw, body, session="acme-second", secret=None) == 200
    assert (await get_json(http, f"{gw.url}/api/v1/sessions/nope"))[0] == 404
    assert (await get_json(http, f"{gw.url}/api/v1/sessions/acme-main", OTHER_KEY))[0] == 404
    _, theirs = await get_json(http, f"{gw.url}/api/v1/sessions", OTHER_KEY)
    assert [s["sessionId"] for s in theirs["items"]] == ["globex-main"]


async def test_qr_stale_session_report_does_not_overwrite(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    newer = sample_bytes("waha", "session_status_working")
    older = sample_bytes("waha", "session_status_scan_qr")  # earlier timestamp
    assert await post_qr(http, gw, newer) == 200
    await eventually(lambda: _state_if(http, gw, "session_connected"), what="working")
    assert await post_qr(http, gw, older) == 200
    await eventually(lambda: inbox_done(gw, 2), what="both applied")
    assert (await session_state(http, gw))["status"] == "session_connected"


async def test_qr_messages_map_chat_ids_and_groups(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    names = [
        ("wwebjs", "message"),
        ("wwebjs", "message_group"),
        ("wwebjs", "message_lid"),
        ("waha", "message_text"),  # the same message again, in WAHA's envelope
        ("wwebjs", "message_reaction"),
    ]
    for provider, name in names:
        assert await post_qr(http, gw, sample_bytes(provider, name)) == 200
    await eventually(lambda: inbox_done(gw, 5), what="five rows done")
    msgs = await messages_of(http, gw, "acme-qr")
    assert len(msgs) == 4
    by_body = {m["text"]["body"]: m for m in msgs if "text" in m}
    direct = by_body["Hi, is my order on its way?"]
    assert direct["contact"]["waId"] == CONTACT and direct["direction"] == "DIRECTION_INBOUND"
    group = by_body["@15557654321 can you check order ABC123?"]
    assert group["groupId"] == "120363041234567890@g.us"
    assert group["author"] == "15559876543@c.us"
    assert group["contact"]["userId"] == "120363041234567890@g.us"
    lid = by_body["Hello from a hidden-id contact"]
    assert lid["contact"]["userId"] == "123456789012345@lid" and "waId" not in lid["contact"]
    reaction = next(m for m in msgs if "reaction" in m)
    assert reaction["reaction"] == {
        "messageId": "true_15551234567@c.us_3EB0C4F2A1B2C3D4E5F6",
        "emoji": "👍",
    }


async def test_qr_send_text_then_acks_reach_read(
    gw: Gateway, http: aiohttp.ClientSession, waha: FakeWahaEngine
) -> None:
    status, body = await send(
        http,
        gw,
        {"channelId": "acme-qr", "to": "+1 555 123 4567", "text": {"body": "On its way"}},
    )
    assert status == 200, body
    assert body["message"]["status"] == "MESSAGE_STATUS_SENT"
    call = waha.sends()[0]
    assert call.path == "/api/sendText" and call.header("X-Api-Key") == WAHA_KEY
    assert call.json == {
        "session": "default",
        "chatId": "15551234567@c.us",
        "text": "On its way",
        "linkPreview": False,
    }
    url = f"{gw.url}/api/v1/conversations/{body['message']['conversationId']}/messages"

    async def read() -> Any:
        _, got = await get_json(http, url)
        return got["items"][0]["status"] == "MESSAGE_STATUS_READ"

    await eventually(read, what="the engine's acks to reach READ")


async def test_qr_buttons_degrade_to_a_numbered_menu_and_answers_map_back(
    gw: Gateway, http: aiohttp.ClientSession, waha: FakeWahaEngine
) -> None:
    status, body = await send(
        http,
        gw,
        {
            "channelId": "acme-qr",
            "to": CONTACT,
            "interactive": {
                "body": "When should we deliver?",
                "buttons": {
                    "buttons": [
                        {"id": "slot-mon", "title": "Monday"},
                        {"id": "slot-tue", "title": "Tuesday"},
                    ]
                },
            },
        },
    )
    assert status == 200, body
    assert body["message"]["text"]["body"].startswith("When should we deliver?")
    assert waha.sends()[0].json["text"] == (
        "When should we deliver?\n\n1. Monday\n2. Tuesday\n\nReply with the number of your choice."
    )
    menu_id = body["message"]["providerMessageId"]
    answer = json.loads(sample_bytes("wwebjs", "message"))
    answer["data"]["body"] = "2"
    answer["data"]["id"]["_serialized"] = "false_15551234567@c.us_ANSWER1"
    assert await post_qr(http, gw, orjson.dumps(answer)) == 200

    async def mapped() -> Any:
        msgs = await messages_of(http, gw, "acme-qr")
        return next((m for m in msgs if "buttonReply" in m), None)

    reply = await eventually(mapped, what="the numeric answer mapped to a button reply")
    assert reply["buttonReply"] == {"id": "slot-tue", "title": "Tuesday"}
    assert reply["context"]["replyToId"] == menu_id


async def test_qr_template_has_no_fallback_and_nothing_is_stored(
    gw: Gateway, http: aiohttp.ClientSession, waha: FakeWahaEngine
) -> None:
    status, body = await send(
        http,
        gw,
        {
            "channelId": "acme-qr",
            "to": CONTACT,
            "template": {"name": "order_update", "languageCode": "en_US"},
        },
    )
    assert status == 422
    assert body["error"]["code"] == "failed_precondition"
    assert "template" in body["error"]["message"]
    assert db_count(gw, "SELECT count(*) FROM message") == 0
    assert waha.requests == []


async def test_grpc_session_service(gw: Gateway, http: aiohttp.ClientSession) -> None:
    assert await post_qr(http, gw, sample_bytes("waha", "session_status_scan_qr")) == 200
    await eventually(lambda: _state_if(http, gw, "qr_generated"), what="scan qr state")
    async with grpc.aio.insecure_channel(gw.grpc_target) as channel:
        stub = session_service_pb2_grpc.SessionServiceStub(channel)
        md = (("authorization", f"Bearer {KEY}"),)
        got = await stub.GetSession(
            session_service_pb2.GetSessionRequest(session_id=SESSION), metadata=md
        )
        assert got.session.status == event_pb2.SESSION_STATUS_QR_GENERATED
        assert got.session.needs_qr and got.session.channel_id == "acme-qr"
        listed = await stub.ListSessions(session_service_pb2.ListSessionsRequest(), metadata=md)
        assert [s.session_id for s in listed.sessions] == ["acme-main", "acme-second"]
        assert (listed.summary.needs_qr, listed.summary.disconnected, listed.summary.total) == (
            1,
            1,
            2,
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.GetSession(
                session_service_pb2.GetSessionRequest(session_id="x"), metadata=md
            )
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
