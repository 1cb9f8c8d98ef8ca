"""The Meta kinds reach their tenant's clients only, against a real `wagate serve`: a
python-socketio client per tenant and a gRPC StreamEvents call with a kinds filter.
Kapso, which forwards Meta's payloads, goes through the same code."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import grpc
import pytest

from providers.signing import hmac_hex
from providers.testing import FakeGraphAPI
from tests.support.procs import Gateway
from tests.support.realtime import GLOBEX, Client, post
from tests.support.samples import sample_bytes
from tests.support.tenants import ACME_KEY, GLOBEX_KEY, two_tenant_config
from wagate.v1 import event_pb2
from wagate.v1 import event_service_pb2 as pb
from wagate.v1 import event_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration

WABA = "104857600000001"
GLOBEX_WABA = "104857600000002"
KAPSO_SECRET = "kapso-webhook-secret"
E = event_pb2


def config(graph_url: str) -> dict[str, Any]:
    cfg = two_tenant_config(graph_url, waba_id=WABA)
    cfg["tenants"][1]["channels"][0]["waba_id"] = GLOBEX_WABA
    cfg["tenants"][0]["channels"].append(
        {
            "id": "acme-kapso",
            "provider": "kapso",
            "phone_number_id": "597907523413541",
            "webhook_secret": KAPSO_SECRET,
            "api_key": "kapso-key",
            "api_base_url": graph_url,
        }
    )
    return cfg


@pytest.fixture
async def gw(gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI) -> Gateway:
    return gateways(config(fake_graph.base_url))


def for_globex(name: str) -> bytes:
    payload = json.loads(sample_bytes("meta", name))
    payload["entry"][0]["id"] = GLOBEX_WABA
    return json.dumps(payload).encode()


def stream(stub: pb_grpc.EventServiceStub, key: str, kinds: list[event_pb2.EventKind]) -> Any:
    auth = (("authorization", f"Bearer {key}"),)
    return stub.StreamEvents(pb.StreamEventsRequest(kinds=kinds), metadata=auth)


async def read(call: Any, count: int) -> list[event_pb2.Event]:
    return [await asyncio.wait_for(call.read(), 10) for _ in range(count)]


async def test_account_template_and_message_changes_reach_their_tenant_only(
    gw: Gateway, http: aiohttp.ClientSession, clients: Callable[[], Client]
) -> None:
    acme = await clients().connect(gw, ACME_KEY, "websocket")
    globex = await clients().connect(gw, GLOBEX_KEY, "polling")
    async with grpc.aio.insecure_channel(gw.grpc_target) as channel:
        stub = pb_grpc.EventServiceStub(channel)
        wanted = [E.EVENT_KIND_ACCOUNT_UPDATED, E.EVENT_KIND_TEMPLATE_UPDATED]
        call = stream(stub, ACME_KEY, wanted)
        theirs_call = stream(stub, GLOBEX_KEY, wanted)
        await call.initial_metadata()
        await theirs_call.initial_metadata()
        for name in (
            "text.json",
            "account_update_restriction.json",
            "template_status_rejected.json",
            "message_edit.json",
            "message_revoke.json",
            "user_preferences_stop.json",
            "calls_connect.json",
        ):
            await post(http, gw, sample_bytes("meta", name))
        await post(http, gw, for_globex("template_quality_update.json"), GLOBEX)

        streamed = await read(call, 2)
        (their_stream,) = await read(theirs_call, 1)
        with pytest.raises(TimeoutError):  # globex's template event is not acme's
            await asyncio.wait_for(call.read(), 1.5)
        call.cancel()
        theirs_call.cancel()
    assert their_stream.tenant_id == "globex"
    assert their_stream.template_updated.waba_id == GLOBEX_WABA
    assert [e.WhichOneof("payload") for e in streamed] == ["account_updated", "template_updated"]
    assert {e.tenant_id for e in streamed} == {"acme"}
    assert streamed[0].account_updated.event == "ACCOUNT_RESTRICTION"
    assert streamed[1].template_updated.status == "REJECTED"

    (account,) = await acme.wait("account:updated")
    assert account == {
        "event_id": streamed[0].id,
        "channelId": "acme-meta",
        "wabaId": WABA,
        "event": "ACCOUNT_RESTRICTION",
        "details": {
            "restriction_info": [
                {
                    "restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
                    "expiration": "2026-01-08T12:00:00+0000",
                },
                {
                    "restriction_type": "RESTRICTED_ADD_PHONE_NUMBER_ACTION",
                    "expiration": "2026-01-08T12:00:00+0000",
                },
            ]
        },
    }
    (template,) = await acme.wait("template:updated")
    assert template == {
        "event_id": streamed[1].id,
        "wabaId": WABA,
        "templateId": "1689556908129833",
        "name": "order_update",
        "language": "es",
        "status": "REJECTED",
        "category": "UTILITY",
        "reason": "INCORRECT_CATEGORY",
    }
    (updated,) = await acme.wait("message:updated")
    (new,) = acme.of("message:new")
    assert set(updated) == {"event_id", "message", "conversationId"}
    assert updated["conversationId"] == new["conversationId"]
    assert updated["message"]["id"] == new["message"]["id"]
    assert updated["message"]["text"] == {"body": "Hi, is my order #1042 on its way?"}
    assert updated["message"]["editedAt"] == "2026-01-01T00:02:00Z"
    (deleted,) = await acme.wait("message:deleted")
    assert deleted == {
        "event_id": deleted["event_id"],
        "messageId": new["message"]["id"],
        "providerMessageId": new["message"]["providerMessageId"],
        "conversationId": new["conversationId"],
    }

    (contact,) = await acme.wait("contact:updated")
    assert (contact["contact"]["marketingMessages"], contact["value"]) == ("stop", "stop")
    assert contact["conversationId"] == new["conversationId"]
    (call,) = await acme.wait("call:updated")
    assert (call["call"]["event"], call["conversationId"]) == ("connect", new["conversationId"])

    # A client resuming from before the account event is replayed the same payloads.
    late = await clients().connect(
        gw, ACME_KEY, "websocket", after=str(int(account["event_id"]) - 1)
    )
    assert (await late.wait("account:updated"))[0] == account
    assert (await late.wait("message:deleted"))[0] == deleted

    (theirs,) = await globex.wait("template:updated")
    assert (theirs["wabaId"], theirs["quality"]) == (GLOBEX_WABA, "YELLOW")
    assert [name for name, _ in globex.events] == ["template:updated"]
    assert "template:updated" not in [n for n, d in acme.events if d.get("wabaId") == GLOBEX_WABA]


async def test_kapso_forwarded_meta_payloads_take_the_same_path(
    gw: Gateway, http: aiohttp.ClientSession, clients: Callable[[], Client]
) -> None:
    acme = await clients().connect(gw, ACME_KEY, "websocket")

    async def kapso(name: str, phone_number_id: str | None = "597907523413541") -> None:
        payload = json.loads(sample_bytes("meta", name))
        value = payload["entry"][0]["changes"][0]["value"]
        if phone_number_id is not None:
            value["metadata"]["phone_number_id"] = phone_number_id
        body = json.dumps(payload).encode()
        headers = {"X-Webhook-Signature": hmac_hex(KAPSO_SECRET, body)}
        async with http.post(
            gw.url + "/webhooks/kapso/acme-kapso", data=body, headers=headers
        ) as r:
            assert r.status == 200, await r.text()

    await kapso("text.json")
    await kapso("smb_message_echoes.json")
    await kapso("message_edit.json")
    await kapso("account_update_violation.json", phone_number_id=None)
    await acme.wait("message:updated")
    (account,) = await acme.wait("account:updated")
    assert (account["channelId"], account["event"]) == ("acme-kapso", "ACCOUNT_VIOLATION")
    new = acme.of("message:new")
    assert [m["message"]["direction"] for m in new] == ["DIRECTION_INBOUND", "DIRECTION_OUTBOUND"]
    assert {m["message"]["provider"] for m in new} == {"kapso"}
