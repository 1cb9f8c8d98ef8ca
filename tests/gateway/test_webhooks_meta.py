"""POST/GET /webhooks/meta against real `wagate serve` processes.

Durability, dedup, status ordering, per-conversation order, error answers and
log hygiene, checked through HTTP and the gateway's own database (read-only).
"""

from __future__ import annotations

import asyncio
import copy
import json
import signal
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import orjson
import pytest

from providers.testing import FakeGraphAPI
from storage.inbox import DONE, PENDING, RAW
from tests.support.gateway_db import db_count, db_rows, inbox_done, inbox_states
from tests.support.polling import eventually
from tests.support.procs import Gateway, Postgres
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
    two_tenant_config,
)

pytestmark = pytest.mark.integration

CONTACT = "15551234567"
SAMPLE_WAMID = "wamid.MTU1NTEyMzQ1Njc6dGV4dC0xOm1hZGUtdXAtc2FtcGxl"  # tests/fixtures/meta/text.json

# -- helpers ------------------------------------------------------------------------------


def text_payload(
    wamid: str,
    body: str,
    ts: int = 1767225660,
    wa_id: str = CONTACT,
    phone_number_id: str = ACME_PHONE_ID,
) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sample_bytes("meta", "text.json"))
    value = data["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = phone_number_id
    value["contacts"][0]["wa_id"] = wa_id
    msg = value["messages"][0]
    msg.update({"id": wamid, "from": wa_id, "timestamp": str(ts)})
    msg["text"]["body"] = body
    return data


def status_payload(wamid: str, status: str, ts: int = 1767226000) -> bytes:
    data = json.loads(sample_bytes("meta", f"status_{status}.json"))
    value = data["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = ACME_PHONE_ID
    st = value["statuses"][0]
    st.update({"id": wamid, "recipient_id": CONTACT, "timestamp": str(ts)})
    return json.dumps(data).encode()


def dumps(data: Any) -> bytes:
    return json.dumps(data).encode()


async def post_webhook(
    http: aiohttp.ClientSession,
    gw: Gateway,
    body: bytes,
    *,
    secret: str | None = ACME_SECRET,
    path: str = "/webhooks/meta",
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    hdrs = meta_sign(body, secret) if secret is not None else {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    async with http.post(gw.url + path, data=body, headers=hdrs) as resp:
        return resp.status, await resp.read()


async def api(
    http: aiohttp.ClientSession,
    gw: Gateway,
    method: str,
    path: str,
    *,
    key: str = ACME_KEY,
    body: Any = None,
) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {key}"}}
    if body is not None:
        kwargs["json"] = body
    async with http.request(method, gw.url + "/api/v1" + path, **kwargs) as resp:
        return resp.status, await resp.json()


async def send_text(http: aiohttp.ClientSession, gw: Gateway, text: str) -> dict[str, Any]:
    status, data = await api(
        http,
        gw,
        "POST",
        "/messages",
        body={"channelId": "acme-meta", "to": CONTACT, "text": {"body": text}},
    )
    assert status == 200, data
    msg: dict[str, Any] = data["message"]
    return msg


async def conversation_id(http: aiohttp.ClientSession, gw: Gateway, wa_id: str = CONTACT) -> str:
    status, data = await api(http, gw, "GET", "/conversations?limit=200")
    assert status == 200, data
    ids = [c["id"] for c in data["items"] if c["contact"].get("waId") == wa_id]
    assert len(ids) == 1, data
    return str(ids[0])


async def conversation_messages(
    http: aiohttp.ClientSession, gw: Gateway, wa_id: str = CONTACT
) -> list[dict[str, Any]]:
    conv = await conversation_id(http, gw, wa_id)
    status, data = await api(http, gw, "GET", f"/conversations/{conv}/messages?limit=200")
    assert status == 200, data
    items: list[dict[str, Any]] = data["items"]
    return items


async def message_status(http: aiohttp.ClientSession, gw: Gateway, message_id: str) -> str:
    for item in await conversation_messages(http, gw):
        if item["id"] == message_id:
            return str(item["status"])
    raise AssertionError(f"message {message_id} not listed")


def log_entries(gw: Gateway) -> list[dict[str, Any]]:
    entries = []
    for line in gw.logs().splitlines():
        line = line.strip()
        if line.startswith("{"):
            entries.append(json.loads(line))
    return entries


class ScriptedGraph(FakeGraphAPI):
    """The fake Graph API, answering sends with wamids the test picked in advance."""

    def __init__(self) -> None:
        super().__init__()
        self.next_wamids: list[str] = []

    def answer_message(self, phone_number_id: str, body: Any) -> tuple[int, Any]:
        status, answer = super().answer_message(phone_number_id, body)
        if status == 200 and "messages" in answer and self.next_wamids:
            answer["messages"][0]["id"] = self.next_wamids.pop(0)
        return status, answer


@pytest.fixture
async def scripted_graph() -> AsyncIterator[ScriptedGraph]:
    async with ScriptedGraph() as graph:
        yield graph


# -- durability ---------------------------------------------------------------------------


async def test_200_only_after_inbox_row_is_committed(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    body = sample_bytes("meta", "text.json")
    status, answer = await post_webhook(http, gateway, body)
    assert (status, answer) == (200, b"OK")
    # Read right after the answer, from another connection: the row is committed.
    rows = db_rows(gateway, "SELECT channel_id, provider, body FROM webhook_inbox")
    assert rows == [("acme-meta", "meta_cloud", body)]
    await eventually(
        lambda: (
            db_count(
                gateway,
                "SELECT count(*) FROM message WHERE provider_message_id = ?",
                (SAMPLE_WAMID,),
            )
            == 1
        ),
        what="the message to be stored",
    )


async def test_sigkill_after_200_replays_on_restart(
    gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    config = two_tenant_config(fake_graph.base_url)
    gw = gateways(config)
    n = 25
    bodies = [
        dumps(text_payload(f"wamid.kill-{i}", f"m{i}", wa_id=f"1555000{i:04d}")) for i in range(n)
    ]
    results = await asyncio.gather(*(post_webhook(http, gw, b) for b in bodies))
    assert [r[0] for r in results] == [200] * n
    assert gw.stop(signal.SIGKILL) == -signal.SIGKILL
    assert db_count(gw, "SELECT count(*) FROM webhook_inbox") == n  # every ack is on disk

    again = gateways(config, database_url=gw.database_url)
    await eventually(
        lambda: db_count(again, "SELECT count(*) FROM message") == n,
        what=f"{n} messages after restart",
    )
    await eventually(lambda: inbox_done(again, n), what="all inbox rows done")
    stored = {r[0] for r in db_rows(again, "SELECT provider_message_id FROM message")}
    assert stored == {f"wamid.kill-{i}" for i in range(n)}


async def test_sigkill_while_ingest_blocked_replays_pending_row(
    gateways: Callable[..., Gateway],
    fake_graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
    postgres: Postgres,
) -> None:
    """Deterministic crash window: a lock held on `contact` stalls ingest after the ack."""
    url = postgres.create_database(f"wh_kill_{uuid.uuid4().hex[:16]}")
    config = two_tenant_config(fake_graph.base_url)
    gw = gateways(config, database_url=url)
    conn = await asyncpg.connect(url)
    try:
        locker = conn.transaction()
        await locker.start()
        await conn.execute("LOCK TABLE contact IN EXCLUSIVE MODE")  # readers pass, writers wait
        body = sample_bytes("meta", "text.json")
        status, _ = await post_webhook(http, gw, body)
        assert status == 200
        reader = await asyncpg.connect(url)
        try:
            states = [r["state"] for r in await reader.fetch("SELECT state FROM webhook_inbox")]
            assert states == [RAW]  # acknowledged; Meta bodies are parsed after the ack
            assert await reader.fetchval("SELECT count(*) FROM message") == 0
        finally:
            await reader.close()
        assert gw.stop(signal.SIGKILL) == -signal.SIGKILL
        await locker.rollback()

        again = gateways(config, database_url=url)
        assert again.proc.poll() is None

        async def stored() -> bool:
            n = await conn.fetchval(
                "SELECT count(*) FROM message WHERE provider_message_id = $1", SAMPLE_WAMID
            )
            return bool(n == 1)

        await eventually(stored, what="the replayed message")
        await eventually(
            lambda: conn.fetchval("SELECT count(*) FROM webhook_inbox WHERE state = $1", DONE),
            what="the inbox row to be done",
        )
        assert await conn.fetchval("SELECT count(*) FROM webhook_inbox") == 1
    finally:
        await conn.close()


# -- dedup --------------------------------------------------------------------------------


async def test_same_webhook_three_times_concurrently_is_stored_once(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    body = sample_bytes("meta", "text.json")
    results = await asyncio.gather(*(post_webhook(http, gateway, body) for _ in range(3)))
    assert [r[0] for r in results] == [200, 200, 200]
    assert db_count(gateway, "SELECT count(*) FROM webhook_inbox") == 1
    await eventually(lambda: inbox_done(gateway, 1), what="the inbox row to be done")
    assert db_rows(gateway, "SELECT provider_message_id FROM message") == [(SAMPLE_WAMID,)]
    assert db_count(gateway, "SELECT count(*) FROM event_log") == 1
    # Redelivered again later (Meta retries): still one.
    assert (await post_webhook(http, gateway, body))[0] == 200
    assert db_count(gateway, "SELECT count(*) FROM webhook_inbox") == 1
    assert db_count(gateway, "SELECT count(*) FROM message") == 1


async def test_same_message_in_different_bodies_is_stored_once(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    single = text_payload("wamid.rebatched-1", "first")
    batch = copy.deepcopy(single)
    extra = copy.deepcopy(batch["entry"][0]["changes"][0]["value"]["messages"][0])
    extra.update({"id": "wamid.rebatched-2", "timestamp": "1767225661"})
    extra["text"]["body"] = "second"
    batch["entry"][0]["changes"][0]["value"]["messages"].append(extra)
    bodies = [dumps(single), dumps(batch), json.dumps(single, indent=2).encode()]
    results = await asyncio.gather(*(post_webhook(http, gateway, b) for b in bodies))
    assert [r[0] for r in results] == [200, 200, 200]
    await eventually(lambda: inbox_done(gateway, 3), what="three inbox rows done")
    rows = db_rows(gateway, "SELECT provider_message_id FROM message ORDER BY provider_message_id")
    assert rows == [("wamid.rebatched-1",), ("wamid.rebatched-2",)]


# -- statuses -----------------------------------------------------------------------------


async def test_statuses_only_move_forward(
    gateway: Gateway, fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    msg = await send_text(http, gateway, "status order")
    assert msg["status"] == "MESSAGE_STATUS_SENT"
    wamid = msg["providerMessageId"]
    assert wamid == fake_graph.requests[0].response["messages"][0]["id"]

    for i, name in enumerate(["read", "delivered", "sent"]):  # out of order
        status, _ = await post_webhook(http, gateway, status_payload(wamid, name, 1767226000 + i))
        assert status == 200
    await eventually(lambda: inbox_done(gateway, 3), what="three status rows applied")
    assert await message_status(http, gateway, msg["id"]) == "MESSAGE_STATUS_READ"
    rows = db_rows(
        gateway,
        "SELECT status, applied FROM status_event WHERE provider_message_id = ? ORDER BY status",
        (wamid,),
    )
    assert rows == [(2, 1), (3, 1), (4, 1)]  # each kept once; sent came from the send itself


async def test_failed_is_terminal(
    gateway: Gateway, fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    msg = await send_text(http, gateway, "will fail")
    wamid = msg["providerMessageId"]
    for i, name in enumerate(["failed", "read"]):
        status, _ = await post_webhook(http, gateway, status_payload(wamid, name, 1767226001 + i))
        assert status == 200
    await eventually(lambda: inbox_done(gateway, 2), what="two status rows applied")
    items = {m["id"]: m for m in await conversation_messages(http, gateway)}
    assert items[msg["id"]]["status"] == "MESSAGE_STATUS_FAILED"
    assert items[msg["id"]]["errors"][0]["code"] == 131047


async def test_failed_may_follow_read(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    msg = await send_text(http, gateway, "read then failed")
    wamid = msg["providerMessageId"]
    for i, name in enumerate(["read", "failed", "delivered"]):
        status, _ = await post_webhook(http, gateway, status_payload(wamid, name, 1767226010 + i))
        assert status == 200
    await eventually(lambda: inbox_done(gateway, 3), what="three status rows applied")
    assert await message_status(http, gateway, msg["id"]) == "MESSAGE_STATUS_FAILED"


async def test_status_before_send_response_is_applied_when_send_completes(
    gateways: Callable[..., Gateway], scripted_graph: ScriptedGraph, http: aiohttp.ClientSession
) -> None:
    gw = gateways(two_tenant_config(scripted_graph.base_url))
    wamid = "wamid.early-status-1"
    scripted_graph.next_wamids.append(wamid)
    scripted_graph.delay = 2.0
    send = asyncio.create_task(send_text(http, gw, "racing its statuses"))
    await scripted_graph.wait_for_requests(1)  # the send is in flight at the fake
    for i, name in enumerate(["delivered", "read"]):
        status, _ = await post_webhook(http, gw, status_payload(wamid, name, 1767226100 + i))
        assert status == 200
    await eventually(lambda: inbox_done(gw, 2), what="early statuses recorded")
    assert not send.done()
    # Kept, not yet applied: there is no message with this wamid yet.
    early = "SELECT status, applied FROM status_event WHERE provider_message_id = ?"
    assert sorted(db_rows(gw, early, (wamid,))) == [(3, 0), (4, 0)]
    msg = await send
    assert msg["providerMessageId"] == wamid
    assert await message_status(http, gw, msg["id"]) == "MESSAGE_STATUS_READ"
    assert (
        db_count(
            gw,
            "SELECT count(*) FROM status_event WHERE provider_message_id = ? AND applied = 0",
            (wamid,),
        )
        == 0
    )


def on_both_databases(why: str) -> pytest.MarkDecorator:
    """Run on SQLite and PostgreSQL. `why` says what PostgreSQL in particular guards:
    a unique-key conflict inside a transaction must not abort it."""
    return pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None  # the gateway's default: SQLite in its work directory
    pg: Postgres = request.getfixturevalue("postgres")
    return pg.create_database(f"wh_{uuid.uuid4().hex[:16]}")


async def inbox_states_any(gw: Gateway) -> list[str]:
    if gw.database_url.startswith("sqlite://"):
        return inbox_states(gw)
    conn = await asyncpg.connect(gw.database_url)
    try:
        return [r["state"] for r in await conn.fetch("SELECT state FROM webhook_inbox ORDER BY id")]
    finally:
        await conn.close()


@on_both_databases(
    "an early `sent` webhook must not make mark_sent roll back (500, then a re-send)"
)
async def test_sent_webhook_before_send_response(
    gateways: Callable[..., Gateway],
    scripted_graph: ScriptedGraph,
    http: aiohttp.ClientSession,
    database_url: str | None,
) -> None:
    """Meta's `sent` (and `delivered`) webhooks can beat the send's own HTTP answer."""
    gw = gateways(two_tenant_config(scripted_graph.base_url), database_url=database_url)
    wamid = "wamid.early-sent-1"
    scripted_graph.next_wamids.append(wamid)
    scripted_graph.delay = 2.0
    send = asyncio.create_task(
        api(
            http,
            gw,
            "POST",
            "/messages",
            body={"channelId": "acme-meta", "to": CONTACT, "text": {"body": "race"}},
        )
    )
    await scripted_graph.wait_for_requests(1)
    for i, name in enumerate(["sent", "delivered"]):
        status, _ = await post_webhook(http, gw, status_payload(wamid, name, 1767226200 + i))
        assert status == 200

    async def recorded() -> bool:
        states = await inbox_states_any(gw)
        return states == [DONE, DONE]

    await eventually(recorded, what="early statuses recorded")
    assert not send.done()
    status, data = await send
    assert status == 200, data
    assert data["message"]["providerMessageId"] == wamid
    assert await message_status(http, gw, data["message"]["id"]) == "MESSAGE_STATUS_DELIVERED"
    assert len(scripted_graph.messages()) == 1


@on_both_databases(
    "Meta's `sent` after our own SENT is a duplicate StatusEvent and must not fail the batch"
)
async def test_sent_and_delivered_in_one_webhook_after_send(
    gateways: Callable[..., Gateway],
    fake_graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
    database_url: str | None,
) -> None:
    gw = gateways(two_tenant_config(fake_graph.base_url), database_url=database_url)
    msg = await send_text(http, gw, "normal flow")
    wamid = msg["providerMessageId"]
    data = json.loads(status_payload(wamid, "sent", 1767226300))
    delivered = json.loads(status_payload(wamid, "delivered", 1767226301))
    data["entry"][0]["changes"][0]["value"]["statuses"].append(
        delivered["entry"][0]["changes"][0]["value"]["statuses"][0]
    )
    assert (await post_webhook(http, gw, dumps(data)))[0] == 200

    async def applied() -> bool:
        return await inbox_states_any(gw) == [DONE]

    await eventually(applied, what="the status webhook applied")
    assert await message_status(http, gw, msg["id"]) == "MESSAGE_STATUS_DELIVERED"
    errors = [e for e in log_entries(gw) if e["level"] in ("error", "critical")]
    assert errors == []


async def test_status_for_unknown_message_is_kept_and_harmless(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    body = status_payload("wamid.never-sent", "delivered")
    assert (await post_webhook(http, gateway, body))[0] == 200
    await eventually(lambda: inbox_done(gateway, 1), what="the status row to be done")
    assert db_rows(gateway, "SELECT provider_message_id, status, applied FROM status_event") == [
        ("wamid.never-sent", 3, 0)
    ]
    assert db_count(gateway, "SELECT count(*) FROM message") == 0


# -- ordering -----------------------------------------------------------------------------


async def test_one_conversation_is_processed_in_arrival_order(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    n = 20
    for i in range(n):
        body = dumps(text_payload(f"wamid.order-{i:02d}", f"message {i}", ts=1767230000 + i))
        status, _ = await post_webhook(http, gateway, body)
        assert status == 200
    await eventually(lambda: inbox_done(gateway, n), what=f"{n} rows done")
    items = await conversation_messages(http, gateway)
    # Newest first: reversed, the list is the arrival order.
    assert [m["text"]["body"] for m in reversed(items)] == [f"message {i}" for i in range(n)]
    assert [m["providerMessageId"] for m in reversed(items)] == [
        f"wamid.order-{i:02d}" for i in range(n)
    ]
    seqs = [r[0] for r in db_rows(gateway, "SELECT provider_message_id FROM message ORDER BY seq")]
    assert seqs == [f"wamid.order-{i:02d}" for i in range(n)]


# -- refusals -----------------------------------------------------------------------------


async def test_bad_or_missing_signature_is_401_and_nothing_stored(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    body = sample_bytes("meta", "text.json")
    cases: list[dict[str, Any]] = [
        {"secret": "wrong-secret"},
        {"secret": GLOBEX_SECRET},
        {"secret": None},  # no header at all
        {"secret": None, "headers": {"X-Hub-Signature-256": ""}},
        {"secret": None, "headers": {"X-Hub-Signature-256": "sha256=" + "0" * 64}},
        {"secret": None, "headers": {"X-Hub-Signature-256": "md5=abc"}},
        {"secret": "wrong-secret", "path": "/webhooks/meta/acme-meta"},
        {"secret": None, "path": "/webhooks/meta/acme-meta"},
    ]
    for case in cases:
        status, answer = await post_webhook(http, gateway, body, **case)
        assert status == 401, case
        error = orjson.loads(answer)["error"]
        assert error["code"] == "invalid_signature" and error["message"], case
    # A correct signature over different bytes fails as well.
    hdrs = meta_sign(body + b" ")
    async with http.post(gateway.url + "/webhooks/meta", data=body, headers=hdrs) as resp:
        assert resp.status == 401
    assert db_count(gateway, "SELECT count(*) FROM webhook_inbox") == 0
    assert db_count(gateway, "SELECT count(*) FROM message") == 0


async def test_malformed_json_is_400_with_reason(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    for path in ("/webhooks/meta", "/webhooks/meta/acme-meta"):
        for body in (b'{"object": "whatsapp_business_account", "entry": [', b"not json", b""):
            status, answer = await post_webhook(http, gateway, body, path=path)
            assert status == 400, (path, body)
            error = orjson.loads(answer)["error"]
            assert error["code"] == "invalid_payload", error
            assert isinstance(error["message"], str) and error["message"]
    assert db_count(gateway, "SELECT count(*) FROM webhook_inbox") == 0


async def test_unknown_phone_number_id_is_404_and_logged(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    unknown = "999000111222333"
    body = dumps(text_payload("wamid.nobody", "hello?", phone_number_id=unknown))
    status, answer = await post_webhook(http, gateway, body)
    assert status == 404
    error = orjson.loads(answer)["error"]
    assert error["code"] == "not_found" and unknown in error["message"]
    await eventually(
        lambda: [e for e in log_entries(gateway) if unknown in json.dumps(e)],
        what="a log line naming the unknown phone_number_id",
    )
    assert db_count(gateway, "SELECT count(*) FROM webhook_inbox") == 0


async def test_channel_path_routes_by_path(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    body = sample_bytes("meta", "text.json")
    assert (await post_webhook(http, gateway, body, path="/webhooks/meta/acme-meta"))[0] == 200
    assert (await post_webhook(http, gateway, body, path="/webhooks/meta/nope"))[0] == 404
    # globex's channel checks globex's secret.
    assert (await post_webhook(http, gateway, body, path="/webhooks/meta/globex-meta"))[0] == 401
    await eventually(lambda: inbox_done(gateway, 1), what="the row to be done")
    assert db_rows(gateway, "SELECT channel_id, provider_message_id FROM message") == [
        ("acme-meta", SAMPLE_WAMID)
    ]


async def test_tenants_are_routed_by_phone_number_id(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    body = dumps(text_payload("wamid.globex-1", "to globex", phone_number_id=GLOBEX_PHONE_ID))
    assert (await post_webhook(http, gateway, body, secret=ACME_SECRET))[0] == 401
    assert (await post_webhook(http, gateway, body, secret=GLOBEX_SECRET))[0] == 200
    await eventually(lambda: inbox_done(gateway, 1), what="the row to be done")
    assert db_rows(gateway, "SELECT tenant_id, channel_id FROM message") == [
        ("globex", "globex-meta")
    ]


async def test_unknown_message_type_is_stored_as_unsupported(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    assert (await post_webhook(http, gateway, sample_bytes("meta", "unsupported.json")))[0] == 200
    novel = text_payload("wamid.hologram-1", "x", ts=1767225999)
    raw = novel["entry"][0]["changes"][0]["value"]["messages"][0]
    del raw["text"]
    raw.update({"type": "hologram", "hologram": {"depth": 3}})
    assert (await post_webhook(http, gateway, dumps(novel)))[0] == 200
    await eventually(lambda: inbox_done(gateway, 2), what="two rows done")
    items = {m["providerMessageId"]: m for m in await conversation_messages(http, gateway)}
    poll = items["wamid.MTU1NTEyMzQ1Njc6dW5zdXBwb3J0ZWQtMTptYWRlLXVwLXNhbXBsZQ=="]
    assert poll["unsupported"] == {"type": "poll"}
    assert poll["errors"][0]["code"] == 131051
    assert items["wamid.hologram-1"]["unsupported"] == {"type": "hologram"}


async def test_weird_envelope_on_channel_path_is_400(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    for body in (
        b'{"object":"whatsapp_business_account","entry":"x"}',
        b'{"object":"page","entry":[]}',
        b"[]",
        b"null",
        b"{}",
    ):
        status, answer = await post_webhook(http, gateway, body, path="/webhooks/meta/acme-meta")
        assert status == 400, body
        assert orjson.loads(answer)["error"]["code"] == "invalid_payload"
    assert db_count(gateway, "SELECT count(*) FROM webhook_inbox") == 0


async def test_weird_envelope_on_shared_path_is_400(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    for body in (
        b'{"object":"whatsapp_business_account","entry":"x"}',
        b"[]",
        b"null",
        b"{}",
    ):
        status, answer = await post_webhook(http, gateway, body)
        assert status == 400, (body, status, answer)
        assert orjson.loads(answer)["error"]["code"] == "invalid_payload"


GARBAGE: list[bytes] = [
    b"0",
    b'"a string"',
    b"true",
    b"1e400",
    b'{"entry": [null, 1, "x", {"changes": "y"}, {"changes": [null, {"value": 5}]}]}',
    b'{"object": 5, "entry": []}',
    b'{"object": {"a": 1}, "entry": {}}',
    b"\xff\xfe\xfd",
    b"[" * 5000 + b"]" * 5000,
    b'{"a": "\\ud800"}',
    dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "metadata": {"phone_number_id": int(ACME_PHONE_ID)},
                                "contacts": "nope",
                                "messages": [
                                    None,
                                    {"id": 7, "type": None, "timestamp": "9" * 40},
                                    {"id": "wamid.g1", "type": "text", "text": {"body": 5}},
                                    {
                                        "id": "wamid.g2",
                                        "type": "location",
                                        "location": {"latitude": "nan", "longitude": 1e308},
                                    },
                                    {
                                        "id": "wamid.g3",
                                        "type": "order",
                                        "order": {"product_items": [{"quantity": 10**30}]},
                                    },
                                    {
                                        "id": "wamid.g4",
                                        "type": "interactive",
                                        "interactive": {"type": ["x"]},
                                    },
                                    {
                                        "id": "wamid.g5",
                                        "from": {"x": 1},
                                        "type": "contacts",
                                        "contacts": [{"name": "str", "phones": "no"}],
                                    },
                                    {"id": "wamid.g6", "type": "system", "timestamp": -(10**20)},
                                ],
                                "statuses": [
                                    {"id": None, "status": "read"},
                                    {"id": "wamid.g7", "status": "exploded"},
                                    {
                                        "id": "wamid.g8",
                                        "status": "failed",
                                        "errors": "bad",
                                        "pricing": [],
                                        "timestamp": True,
                                    },
                                ],
                            },
                        }
                    ]
                }
            ],
        }
    ),
]


async def test_no_provider_payload_gives_500(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    for path in ("/webhooks/meta", "/webhooks/meta/acme-meta"):
        for body in GARBAGE:
            status, _ = await post_webhook(http, gateway, body, path=path)
            assert status < 500, (path, body[:80], status)
            status, _ = await post_webhook(http, gateway, body, path=path, secret="wrong")
            assert status < 500, (path, body[:80], status)
    async with http.get(gateway.url + "/readyz") as resp:
        assert resp.status == 200
    await eventually(
        lambda: all(s != PENDING for s in inbox_states(gateway)), what="ingest to settle"
    )
    assert not [e for e in log_entries(gateway) if e["level"] in ("error", "critical")]


# -- handshake ----------------------------------------------------------------------------


async def test_handshake(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    async def get(path: str, **query: str) -> tuple[int, str]:
        params = {f"hub.{k}": v for k, v in query.items()}
        async with http.get(gateway.url + path, params=params) as resp:
            return resp.status, await resp.text()

    ok = {"mode": "subscribe", "verify_token": "acme-verify", "challenge": "123"}
    assert await get("/webhooks/meta", **ok) == (200, "123")
    assert await get("/webhooks/meta/acme-meta", **ok) == (200, "123")
    assert await get("/webhooks/meta", **{**ok, "challenge": "1158201444"}) == (200, "1158201444")
    globex = {**ok, "verify_token": "globex-verify"}
    assert await get("/webhooks/meta", **globex) == (200, "123")
    assert await get("/webhooks/meta/globex-meta", **globex) == (200, "123")

    refused = [
        ("/webhooks/meta", {**ok, "verify_token": "wrong"}),
        ("/webhooks/meta", {**ok, "mode": "unsubscribe"}),
        ("/webhooks/meta", {"verify_token": "acme-verify", "challenge": "123"}),
        ("/webhooks/meta", {}),
        ("/webhooks/meta/acme-meta", {**ok, "verify_token": "wrong"}),
        ("/webhooks/meta/acme-meta", globex),  # another channel's token
        ("/webhooks/meta/nope", ok),
    ]
    for path, query in refused:
        status, text = await get(path, **query)
        assert status == 403, (path, query)
        assert "123" not in text


# -- logs ---------------------------------------------------------------------------------


async def test_secrets_never_appear_in_logs(
    gateway: Gateway, fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    body = sample_bytes("meta", "text.json")
    await post_webhook(http, gateway, body, secret="wrong")
    await post_webhook(http, gateway, body, secret=None)
    await post_webhook(http, gateway, b"{bad json")
    unknown = "424242424242"
    await post_webhook(http, gateway, dumps(text_payload("wamid.x", "x", phone_number_id=unknown)))
    await api(http, gateway, "GET", "/conversations", key="not-a-key")
    await api(http, gateway, "GET", "/conversations", key=ACME_KEY + "x")
    async with http.get(
        gateway.url + "/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
    ) as resp:
        assert resp.status == 403
    fake_graph.fail_next(190, http_status=401, message="Invalid OAuth access token")
    failed = await send_text(http, gateway, "auth failure")
    assert failed["status"] == "MESSAGE_STATUS_FAILED"
    fake_graph.fail_next(131000, http_status=500, message="Something went wrong", times=2)
    await send_text(http, gateway, "retried")
    await eventually(
        lambda: len(fake_graph.messages(accepted_only=True)) == 1, what="the retried send"
    )
    assert (await post_webhook(http, gateway, body))[0] == 200
    await eventually(lambda: inbox_done(gateway, 1), what="the row to be done")
    gateway.stop()

    logs = gateway.logs()
    assert "send failed" in logs  # the failures above were logged...
    assert unknown in logs
    for secret in (
        ACME_SECRET,
        GLOBEX_SECRET,
        ACCESS_TOKEN,
        "globex-access-token",
        ACME_KEY,
        GLOBEX_KEY,
        "acme-verify",
        "globex-verify",
    ):
        assert secret not in logs, secret  # ...without a secret in them
    # Every line is one JSON object.
    for line in logs.splitlines():
        assert isinstance(json.loads(line), dict), line
