"""REST (/api/v1), health and metrics against a real `wagate serve`."""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
import pytest

from providers.testing import FakeGraphAPI
from tests.support.gateway_db import inbox_done
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.samples import sample_bytes
from tests.support.tenants import (
    ACCESS_TOKEN,
    ACME_KEY,
    ACME_PHONE_ID,
    ACME_SECRET,
    GLOBEX_KEY,
    GLOBEX_PHONE_ID,
    GLOBEX_SECRET,
    meta_sign,
)

pytestmark = pytest.mark.integration

CONTACT = "15551234567"


def inbound(
    messages: list[tuple[str, str]],
    wa_id: str = CONTACT,
    phone_number_id: str = ACME_PHONE_ID,
    ts: int = 1767225660,
) -> bytes:
    """One webhook body carrying text messages `(wamid, body)` from `wa_id`, in order."""
    data = json.loads(sample_bytes("meta", "text.json"))
    value = data["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = phone_number_id
    value["contacts"][0]["wa_id"] = wa_id
    template = value["messages"][0]
    value["messages"] = [
        {**template, "id": wamid, "from": wa_id, "timestamp": str(ts + i), "text": {"body": body}}
        for i, (wamid, body) in enumerate(messages)
    ]
    return json.dumps(data).encode()


async def post_webhook(
    http: aiohttp.ClientSession, gw: Gateway, body: bytes, secret: str = ACME_SECRET
) -> int:
    async with http.post(
        gw.url + "/webhooks/meta", data=body, headers=meta_sign(body, secret)
    ) as r:
        return r.status


async def api(
    http: aiohttp.ClientSession,
    gw: Gateway,
    method: str,
    path: str,
    *,
    key: str | None = ACME_KEY,
    body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    hdrs = {"Authorization": f"Bearer {key}"} if key is not None else {}
    hdrs.update(headers or {})
    kwargs: dict[str, Any] = {"headers": hdrs}
    if body is not None:
        kwargs["json"] = body
    if raw is not None:
        kwargs["data"] = raw
    async with http.request(method, gw.url + "/api/v1" + path, **kwargs) as resp:
        assert resp.content_type == "application/json", await resp.text()
        return resp.status, await resp.json()


def assert_error(status: int, data: Any, expected_status: int, code: str) -> None:
    assert status == expected_status, data
    assert set(data) == {"error"}, data
    assert data["error"]["code"] == code, data
    assert isinstance(data["error"]["message"], str) and data["error"]["message"], data


async def ingest(http: aiohttp.ClientSession, gw: Gateway, bodies: list[bytes]) -> None:
    """Post bodies one after another and wait until all are applied."""
    for body in bodies:
        assert await post_webhook(http, gw, body) == 200
    await eventually(lambda: inbox_done(gw, len(bodies)), what="webhooks applied")


async def pages(
    http: aiohttp.ClientSession, gw: Gateway, path: str, limit: int, key: str = ACME_KEY
) -> list[list[dict[str, Any]]]:
    """Every page of a listing, following next_cursor."""
    out: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    sep = "&" if "?" in path else "?"
    while True:
        url = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        status, data = await api(http, gw, "GET", url, key=key)
        assert status == 200, data
        assert set(data) == {"items", "next_cursor"}, data
        out.append(data["items"])
        cursor = data["next_cursor"]
        if cursor is None:
            return out
        assert isinstance(cursor, str) and cursor
        assert len(out) < 100, "pagination does not end"


# -- health and metrics -------------------------------------------------------------------


async def test_healthz_and_readyz(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    async with http.get(gateway.url + "/healthz") as resp:
        assert resp.status == 200
        assert await resp.json() == {"status": "ok"}
    async with http.get(gateway.url + "/readyz") as resp:
        assert resp.status == 200
        assert await resp.json() == {"status": "ok", "checks": {"database": "ok", "bus": "ok"}}


def metric(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if got == labels:
            return float(m.group(3))
    return None


async def test_metrics_count_webhooks(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    body = sample_bytes("meta", "text.json")
    assert await post_webhook(http, gateway, body) == 200
    assert await post_webhook(http, gateway, body, secret="wrong") == 401
    assert await post_webhook(http, gateway, body, secret="wrong") == 401
    async with http.get(gateway.url + "/metrics") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        text = await resp.text()
    assert "# TYPE wagate_webhooks_total counter" in text
    labels = {"provider": "meta_cloud"}
    assert metric(text, "wagate_webhooks_total", **labels, outcome="accepted") == 1.0
    assert metric(text, "wagate_webhooks_total", **labels, outcome="bad_signature") == 2.0


# -- auth and tenants ---------------------------------------------------------------------


async def test_bad_or_missing_key_is_401_json(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    send = {"channelId": "acme-meta", "to": CONTACT, "text": {"body": "x"}}
    for method, path, body in (
        ("GET", "/conversations", None),
        ("GET", "/conversations/cv_x/messages", None),
        ("POST", "/messages", send),
    ):
        for key, headers in (
            ("wrong-key", None),
            (None, None),
            ("", None),
            (None, {"Authorization": f"Basic {ACME_KEY}"}),
            (None, {"Authorization": ACME_KEY}),
        ):
            status, data = await api(
                http, gateway, method, path, key=key, body=body, headers=headers
            )
            assert_error(status, data, 401, "unauthenticated")
    # Nothing was stored with a bad key.
    status, data = await api(http, gateway, "GET", "/conversations")
    assert (status, data["items"]) == (200, [])


async def test_tenant_isolation(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    assert await post_webhook(http, gateway, inbound([("wamid.a1", "for acme")])) == 200
    globex_body = inbound(
        [("wamid.g1", "for globex")], wa_id="15559990000", phone_number_id=GLOBEX_PHONE_ID
    )
    assert await post_webhook(http, gateway, globex_body, secret=GLOBEX_SECRET) == 200
    await eventually(lambda: inbox_done(gateway, 2), what="both webhooks applied")

    status, acme = await api(http, gateway, "GET", "/conversations")
    assert status == 200
    assert [(c["channelId"], c["contact"]["waId"]) for c in acme["items"]] == [
        ("acme-meta", CONTACT)
    ]
    status, globex = await api(http, gateway, "GET", "/conversations", key=GLOBEX_KEY)
    assert status == 200
    assert [(c["channelId"], c["contact"]["waId"]) for c in globex["items"]] == [
        ("globex-meta", "15559990000")
    ]
    acme_conv, globex_conv = acme["items"][0]["id"], globex["items"][0]["id"]

    status, data = await api(
        http, gateway, "GET", f"/conversations/{acme_conv}/messages", key=GLOBEX_KEY
    )
    assert_error(status, data, 404, "not_found")
    status, data = await api(http, gateway, "GET", f"/conversations/{globex_conv}/messages")
    assert_error(status, data, 404, "not_found")
    status, data = await api(
        http, gateway, "GET", "/conversations?channel_id=acme-meta", key=GLOBEX_KEY
    )
    assert (status, data) == (200, {"items": [], "next_cursor": None})
    # Nor may globex send on acme's channel.
    status, data = await api(
        http,
        gateway,
        "POST",
        "/messages",
        key=GLOBEX_KEY,
        body={"channelId": "acme-meta", "to": CONTACT, "text": {"body": "hijack"}},
    )
    assert_error(status, data, 403, "permission_denied")
    status, data = await api(http, gateway, "GET", f"/conversations/{acme_conv}/messages")
    assert status == 200
    assert [m["providerMessageId"] for m in data["items"]] == ["wamid.a1"]


# -- listings -----------------------------------------------------------------------------


async def test_conversation_and_message_json_mapping(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    await ingest(http, gateway, [sample_bytes("meta", "text.json")])
    status, data = await api(http, gateway, "GET", "/conversations")
    assert status == 200 and data["next_cursor"] is None
    [conv] = data["items"]
    assert conv["id"].startswith("cv_")
    assert conv["channelId"] == "acme-meta"
    assert conv["tenantId"] == "acme"
    assert conv["contact"] == {"waId": CONTACT, "name": "Alex Rivera"}
    assert conv["lastMessageAt"] == "2026-01-01T00:01:00Z"

    status, data = await api(http, gateway, "GET", f"/conversations/{conv['id']}/messages")
    assert status == 200 and data["next_cursor"] is None
    [msg] = data["items"]
    assert msg["id"].startswith("msg_")
    assert msg["providerMessageId"] == "wamid.MTU1NTEyMzQ1Njc6dGV4dC0xOm1hZGUtdXAtc2FtcGxl"
    assert msg["conversationId"] == conv["id"]
    assert msg["channelId"] == "acme-meta"
    assert msg["provider"] == "meta_cloud"
    assert msg["direction"] == "DIRECTION_INBOUND"
    assert msg["status"] == "MESSAGE_STATUS_RECEIVED"
    assert msg["contact"]["waId"] == CONTACT
    assert msg["text"] == {"body": "Hi, is my order on its way?"}
    assert msg["timestamp"] == "2026-01-01T00:01:00Z"
    assert "provider_message_id" not in msg


async def test_conversations_pagination(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    contacts = [f"1555100{i:04d}" for i in range(5)]
    await ingest(
        http, gateway, [inbound([(f"wamid.p{i}", "hi")], wa_id=c) for i, c in enumerate(contacts)]
    )
    got = await pages(http, gateway, "/conversations", 2)
    assert [len(p) for p in got] == [2, 2, 1]
    flat = [c for p in got for c in p]
    assert sorted(c["contact"]["waId"] for c in flat) == contacts
    assert len({c["id"] for c in flat}) == 5
    assert [len(p) for p in await pages(http, gateway, "/conversations", 5)] == [5]
    assert [len(p) for p in await pages(http, gateway, "/conversations", 200)] == [5]
    one_page = await pages(http, gateway, "/conversations?channel_id=acme-meta", 4)
    assert [len(p) for p in one_page] == [4, 1]


async def test_conversations_are_listed_by_latest_message(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    """An inbox shows the conversation with the latest message first, sent or received."""
    a, b, c = "15551200001", "15551200002", "15551200003"
    first = [
        inbound([(f"wamid.o{i}", "hi")], wa_id=who, ts=1767225000 + 100 * i)
        for i, who in enumerate((a, b, c))
    ]
    await ingest(http, gateway, first)

    async def order(limit: int) -> list[str]:
        got = await pages(http, gateway, "/conversations", limit)
        return [conv["contact"]["waId"] for page in got for conv in page]

    assert await order(1) == [c, b, a]
    again = inbound([("wamid.o3", "again")], wa_id=a, ts=1767225500)
    assert await post_webhook(http, gateway, again) == 200
    await eventually(lambda: inbox_done(gateway, 4), what="the new message applied")
    assert await order(2) == [a, c, b]
    # A late webhook with an older message does not move its conversation down.
    late = inbound([("wamid.o4", "late")], wa_id=a, ts=1767225050)
    assert await post_webhook(http, gateway, late) == 200
    await eventually(lambda: inbox_done(gateway, 5), what="the late message applied")
    assert await order(1) == [a, c, b]
    # Sending moves a conversation to the top too.
    status, _ = await api(
        http,
        gateway,
        "POST",
        "/messages",
        body={"channelId": "acme-meta", "to": b, "text": {"body": "hello"}},
    )
    assert status == 200
    assert await order(5) == [b, a, c]
    status, data = await api(http, gateway, "GET", "/conversations?cursor=12.x")
    assert status == 400 and data["error"]["code"] == "invalid_argument"


async def test_messages_pagination(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    n = 55
    await ingest(http, gateway, [inbound([(f"wamid.m{i:02d}", f"m{i}") for i in range(n)])])
    status, convs = await api(http, gateway, "GET", "/conversations")
    conv = convs["items"][0]["id"]
    path = f"/conversations/{conv}/messages"

    status, data = await api(http, gateway, "GET", path)  # default limit 50
    assert status == 200
    assert len(data["items"]) == 50 and data["next_cursor"] is not None
    status, rest = await api(http, gateway, "GET", f"{path}?cursor={data['next_cursor']}")
    assert len(rest["items"]) == 5 and rest["next_cursor"] is None

    got = await pages(http, gateway, path, 20)
    assert [len(p) for p in got] == [20, 20, 15]
    bodies = [m["text"]["body"] for p in got for m in p]
    assert bodies == [f"m{i}" for i in reversed(range(n))]  # newest first, none twice

    exact = await pages(http, gateway, path, 55)
    assert [len(p) for p in exact] == [55]


async def test_bad_paging_arguments_are_400(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    await ingest(http, gateway, [sample_bytes("meta", "text.json")])
    status, convs = await api(http, gateway, "GET", "/conversations")
    conv = convs["items"][0]["id"]
    for base in ("/conversations", f"/conversations/{conv}/messages"):
        for query in ("limit=201", "limit=0", "limit=-1", "limit=abc", "cursor=zzz"):
            status, data = await api(http, gateway, "GET", f"{base}?{query}")
            assert_error(status, data, 400, "invalid_argument")
        status, data = await api(http, gateway, "GET", f"{base}?limit=200")
        assert status == 200
    status, data = await api(http, gateway, "GET", "/conversations/cv_nope/messages")
    assert_error(status, data, 404, "not_found")


# -- sending ------------------------------------------------------------------------------


async def test_send_message(
    gateway: Gateway, fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    status, data = await api(
        http,
        gateway,
        "POST",
        "/messages",
        body={"channelId": "acme-meta", "to": "+1 555 123 4567", "text": {"body": "Hello"}},
    )
    assert status == 200, data
    msg = data["message"]
    assert msg["status"] == "MESSAGE_STATUS_SENT"
    assert msg["direction"] == "DIRECTION_OUTBOUND"
    assert msg["channelId"] == "acme-meta"
    assert msg["text"] == {"body": "Hello"}
    assert msg["contact"]["waId"] == CONTACT

    [req] = fake_graph.requests
    assert req.path == f"/v23.0/{ACME_PHONE_ID}/messages"
    assert req.header("Authorization") == f"Bearer {ACCESS_TOKEN}"
    assert req.json["type"] == "text" and req.json["text"]["body"] == "Hello"
    assert msg["providerMessageId"] == req.response["messages"][0]["id"]

    status, data = await api(
        http, gateway, "GET", f"/conversations/{msg['conversationId']}/messages"
    )
    assert [(m["id"], m["status"]) for m in data["items"]] == [(msg["id"], "MESSAGE_STATUS_SENT")]


async def test_send_is_idempotent(
    gateway: Gateway, fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    body = {
        "channelId": "acme-meta",
        "to": CONTACT,
        "idempotencyKey": "order-42",
        "text": {"body": "once"},
    }
    first = await api(http, gateway, "POST", "/messages", body=body)
    again = await api(http, gateway, "POST", "/messages", body={**body, "text": {"body": "two"}})
    assert first[0] == again[0] == 200
    assert again[1]["message"]["id"] == first[1]["message"]["id"]
    assert again[1]["message"]["text"] == {"body": "once"}
    assert len(fake_graph.messages()) == 1
    # Another tenant's identical key is its own.
    other = await api(
        http,
        gateway,
        "POST",
        "/messages",
        key=GLOBEX_KEY,
        body={**body, "channelId": "globex-meta"},
    )
    assert other[0] == 200 and other[1]["message"]["id"] != first[1]["message"]["id"]
    assert len(fake_graph.messages()) == 2


async def test_send_rejects_bad_requests(
    gateway: Gateway, fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    cases: list[tuple[Any, bytes | None, int, str]] = [
        ({"channelId": "acme-meta", "to": CONTACT}, None, 400, "invalid_argument"),
        ({"channelId": "acme-meta", "text": {"body": "x"}}, None, 400, "invalid_argument"),
        ({"channelId": "nope", "to": CONTACT, "text": {"body": "x"}}, None, 404, "not_found"),
        ({"channelId": "acme-meta", "to": CONTACT, "bogus": 1}, None, 400, "invalid_argument"),
        (None, b"{not json", 400, "invalid_argument"),
    ]
    for body, raw, expected, code in cases:
        status, data = await api(http, gateway, "POST", "/messages", body=body, raw=raw)
        assert_error(status, data, expected, code)
    assert fake_graph.requests == []
