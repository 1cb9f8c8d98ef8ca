"""Meta webhooks that change a conversation rather than add a message, against a real
`wagate serve`: edits and revokes, Business-app echoes, marketing preferences (and the
marketing template they refuse), calls, and pricing on statuses. Checked through REST
and the gateway's database, as a person using WhatsApp would see the conversation."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from providers.testing import FakeGraphAPI
from tests.support.gateway_db import db_rows
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.realtime import api, post, send_text
from tests.support.samples import sample_bytes
from tests.support.tenants import ACME_KEY, two_tenant_config
from wagate.v1 import event_pb2

pytestmark = pytest.mark.integration

ALEX = "15551234567"  # the contact of the Meta fixtures
TEXT_WAMID = "wamid.MTU1NTEyMzQ1Njc6dGV4dC0xOm1hZGUtdXAtc2FtcGxl"
ECHO_WAMID = "wamid.MTU1NTc2NTQzMjE6ZWNoby0xOm1hZGUtdXAtc2FtcGxl"
WABA = "104857600000001"


@pytest.fixture
async def gw(gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI) -> Gateway:
    return gateways(two_tenant_config(fake_graph.base_url, waba_id=WABA))


async def fixture(http: aiohttp.ClientSession, gw: Gateway, name: str) -> None:
    await post(http, gw, sample_bytes("meta", name))


async def messages(http: aiohttp.ClientSession, gw: Gateway) -> list[dict[str, Any]]:
    """Alex's conversation as REST lists it (oldest first)."""
    status, data = await api(http, gw, "GET", "/conversations?limit=200", ACME_KEY)
    assert status == 200, data
    ids = [c["id"] for c in data["items"] if c["contact"].get("waId") == ALEX]
    if not ids:
        return []
    status, data = await api(http, gw, "GET", f"/conversations/{ids[0]}/messages", ACME_KEY)
    assert status == 200, data
    return sorted(data["items"], key=lambda m: m["timestamp"])


async def settled(http: aiohttp.ClientSession, gw: Gateway, check: Callable[[Any], bool]) -> Any:
    async def ready() -> Any:
        items = await messages(http, gw)
        return items if check(items) else None

    return await eventually(ready, what="the conversation to settle")


def logged_kinds(gw: Gateway) -> list[int]:
    return [int(k) for (k,) in db_rows(gw, "SELECT kind FROM event_log ORDER BY id")]


@pytest.mark.parametrize("edit_first", [False, True], ids=["in_order", "edit_first"])
async def test_an_edit_changes_the_message_and_keeps_its_history(
    gw: Gateway, http: aiohttp.ClientSession, edit_first: bool
) -> None:
    order = ["text.json", "message_edit.json"]
    for name in reversed(order) if edit_first else order:
        await fixture(http, gw, name)
    (msg,) = await settled(http, gw, lambda items: len(items) == 1 and "editedAt" in items[0])
    assert msg["providerMessageId"] == TEXT_WAMID
    assert msg["text"] == {"body": "Hi, is my order #1042 on its way?"}
    assert msg["editedAt"] == "2026-01-01T00:02:00Z"
    (revision,) = msg["revisions"]
    assert revision["content"]["text"] == {"body": "Hi, is my order on its way?"}
    assert revision["editId"] == "wamid.MTU1NTEyMzQ1Njc6ZWRpdC0xOm1hZGUtdXAtc2FtcGxl"
    kinds = logged_kinds(gw)
    assert kinds.count(event_pb2.EVENT_KIND_MESSAGE_NEW) == 1
    assert kinds.count(event_pb2.EVENT_KIND_MESSAGE_UPDATED) == 1
    # A redelivered edit changes nothing twice.
    await fixture(http, gw, "message_edit.json")
    await fixture(http, gw, "text.json")
    (again,) = await messages(http, gw)
    assert len(again["revisions"]) == 1


async def test_a_revoke_marks_the_message_deleted_and_keeps_its_content(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    await fixture(http, gw, "message_revoke.json")  # before its message: it waits
    await fixture(http, gw, "text.json")
    (msg,) = await settled(http, gw, lambda items: len(items) == 1 and "deletedAt" in items[0])
    assert msg["deletedAt"] == "2026-01-01T00:03:00Z"
    assert msg["text"] == {"body": "Hi, is my order on its way?"}
    assert event_pb2.EVENT_KIND_MESSAGE_DELETED in logged_kinds(gw)


async def test_business_app_echoes_are_outbound_messages_and_follow_their_edits(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    await fixture(http, gw, "text.json")
    await fixture(http, gw, "smb_message_echoes.json")
    echo = json.loads(sample_bytes("meta", "smb_message_echoes.json"))
    echo["entry"][0]["changes"][0]["value"]["message_echoes"][0]["text"]["body"] = "changed"
    await post(http, gw, json.dumps(echo).encode())  # same id, another body: stored once
    items = await settled(http, gw, lambda items: len(items) == 2)
    assert [(m["direction"], m["providerMessageId"]) for m in items] == [
        ("DIRECTION_INBOUND", TEXT_WAMID),
        ("DIRECTION_OUTBOUND", ECHO_WAMID),
    ]
    assert items[1]["text"] == {"body": "Yes, it ships tomorrow morning."}
    assert items[1]["status"] == "MESSAGE_STATUS_SENT"
    await fixture(http, gw, "smb_message_echoes_edit.json")
    await fixture(http, gw, "smb_message_echoes_revoke.json")
    items = await settled(http, gw, lambda items: "deletedAt" in items[-1])
    assert items[1]["text"] == {"body": "Yes, it ships tomorrow at 9am."}
    assert len(items) == 2


async def test_a_stopped_contact_gets_no_marketing_template(
    gw: Gateway, http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    await fixture(http, gw, "text.json")
    await fixture(http, gw, "template_status_approved.json")  # winter_sale is MARKETING
    await fixture(http, gw, "user_preferences_stop.json")

    async def contact() -> Any:
        _, data = await api(http, gw, "GET", "/conversations", ACME_KEY)
        found = [c["contact"] for c in data["items"] if c["contact"].get("waId") == ALEX]
        return found[0] if found and found[0].get("marketingMessages") else None

    stopped = await eventually(contact, what="the contact's marketing choice")
    assert stopped["marketingMessages"] == "stop"
    assert stopped["marketingMessagesUpdatedAt"] == "2026-01-01T00:08:20Z"
    await eventually(
        lambda: db_rows(gw, "SELECT category FROM message_template") == [("MARKETING",)],
        what="the template's category",
    )

    def template(name: str, category: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "languageCode": "en_US"}
        if category:
            body["category"] = category
        return {"channelId": "acme-meta", "to": ALEX, "template": body}

    for request in (template("winter_sale"), template("any_promo", "MARKETING")):
        status, answer = await api(http, gw, "POST", "/messages", ACME_KEY, request)
        assert status == 422, answer
        assert answer["error"]["code"] == "failed_precondition"
        assert "stopped marketing messages" in answer["error"]["message"]
    assert fake_graph.messages() == []
    status, answer = await api(
        http, gw, "POST", "/messages", ACME_KEY, template("order_update", "UTILITY")
    )
    assert status == 200, answer
    await fixture(http, gw, "user_preferences_resume.json")
    await eventually(
        lambda: db_rows(gw, "SELECT marketing_messages FROM contact") == [("resume",)],
        what="the resumed choice",
    )
    status, answer = await api(http, gw, "POST", "/messages", ACME_KEY, template("winter_sale"))
    assert status == 200, answer
    assert len(fake_graph.messages()) == 2


async def test_calls_are_events_of_the_conversation(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    for name in (
        "calls_connect.json",
        "calls_terminate.json",
        "interactive_call_permission_reply.json",
    ):
        await fixture(http, gw, name)
    await fixture(http, gw, "text.json")
    await settled(http, gw, lambda items: len(items) == 1)  # no call became a message

    def calls() -> list[tuple[str, str]]:
        rows = db_rows(
            gw,
            "SELECT conversation_id, payload FROM event_log WHERE kind = ? ORDER BY id",
            (event_pb2.EVENT_KIND_CALL,),
        )
        return [(c, event_pb2.Event.FromString(p).call.event) for c, p in rows]

    await eventually(lambda: len(calls()) == 3, what="three call events")
    (conversation,) = {c for c, _ in calls()}
    assert [e for _, e in calls()] == ["connect", "terminate", "permission_reply"]
    (msg,) = await messages(http, gw)
    assert msg["conversationId"] == conversation


async def test_pricing_and_conversation_data_are_kept_on_the_message(
    gw: Gateway, http: aiohttp.ClientSession
) -> None:
    sent = await send_text(http, gw, ALEX, "Our winter sale starts today")
    wamid = sent["providerMessageId"]
    payload = json.loads(sample_bytes("meta", "status_sent_marketing_pricing.json"))
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = wamid
    await post(http, gw, json.dumps(payload).encode())  # `sent` is already recorded
    (msg,) = await settled(http, gw, lambda items: bool(items) and "pricing" in items[0])
    assert msg["pricing"] == {
        "billable": True,
        "pricingModel": "PMP",
        "type": "regular",
        "category": "marketing",
        "conversationOriginType": "marketing",
        "conversationExpiresAt": "2026-01-02T00:06:40Z",
        "providerConversationId": "8a2d0c4e6f8a0b2c4d6e8f0a2b4c6d8e",
    }
