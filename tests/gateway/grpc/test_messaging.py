"""MessagingService over real gRPC against a real `wagate serve` process.

The gateway's Graph API is `FakeGraphAPI`, served from the test's own event loop, so every
client here is a `grpc.aio` channel (a blocking call would starve the fake).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from providers.testing import FakeGraphAPI
from tests.support.procs import Gateway
from tests.support.samples import sample_bytes
from tests.support.tenants import (
    ACCESS_TOKEN,
    ACME_KEY,
    ACME_PHONE_ID,
    GLOBEX_KEY,
    GLOBEX_PHONE_ID,
    meta_sign,
    two_tenant_config,
)
from wagate.v1 import message_pb2 as m
from wagate.v1 import messaging_service_pb2 as pb
from wagate.v1 import messaging_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration

Metadata = tuple[tuple[str, str], ...]

ACME: Metadata = (("authorization", f"Bearer {ACME_KEY}"),)
GLOBEX: Metadata = (("authorization", f"Bearer {GLOBEX_KEY}"),)
TO = "+15551234567"
TO_WA_ID = "15551234567"
# The inbound sample `meta/text.json` (sent to ACME_PHONE_ID, from TO_WA_ID).
INBOUND_WAMID = "wamid.MTU1NTEyMzQ1Njc6dGV4dC0xOm1hZGUtdXAtc2FtcGxl"
TIMEOUT = 10.0


@pytest.fixture
async def channel(gateway: Gateway) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(gateway.grpc_target) as ch:
        yield ch


@pytest.fixture
def stub(channel: grpc.aio.Channel) -> pb_grpc.MessagingServiceStub:
    return pb_grpc.MessagingServiceStub(channel)


def text_request(body: str, *, to: str = TO, channel_id: str = "acme-meta", **kw: Any) -> Any:
    return pb.SendMessageRequest(channel_id=channel_id, to=to, text=m.TextContent(body=body), **kw)


async def send(
    stub: pb_grpc.MessagingServiceStub, request: Any, metadata: Metadata = ACME
) -> m.Message:
    response = await stub.SendMessage(request, metadata=metadata, timeout=TIMEOUT)
    message: m.Message = response.message
    return message


async def rpc_error(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    """Await `call` (an RPC) and return the error it must end with."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value


def message_posts(fake: FakeGraphAPI) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]


def meta_body(kind: str, payload: Any, **extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": TO,
        **extra,
        "type": kind,
        kind: payload,
    }


async def wait_status(
    stub: pb_grpc.MessagingServiceStub, ident: str, status: int, within: float = TIMEOUT
) -> m.Message:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        resp = await stub.GetMessage(pb.GetMessageRequest(id=ident), metadata=ACME, timeout=5)
        message: m.Message = resp.message
        if message.status == status:
            return message
        if loop.time() > deadline:
            raise AssertionError(
                f"message {ident} is {m.MessageStatus.Name(message.status)}, expected "
                f"{m.MessageStatus.Name(status)}"
            )
        await asyncio.sleep(0.1)


# -- sending ------------------------------------------------------------------------------


async def test_send_text(stub: pb_grpc.MessagingServiceStub, fake_graph: FakeGraphAPI) -> None:
    msg = await send(stub, text_request("Your order shipped"))

    assert msg.status == m.MESSAGE_STATUS_SENT
    assert msg.provider_message_id.startswith("wamid.")
    assert msg.direction == m.DIRECTION_OUTBOUND
    assert msg.conversation_id
    assert msg.id and msg.id != msg.provider_message_id
    assert msg.tenant_id == "acme"
    assert msg.channel_id == "acme-meta"
    assert msg.provider == "meta_cloud"
    assert msg.contact.wa_id == TO_WA_ID
    assert msg.text.body == "Your order shipped"

    posts = message_posts(fake_graph)
    assert len(posts) == 1
    post = posts[0]
    assert post.path == f"/v23.0/{ACME_PHONE_ID}/messages"
    assert post.header("Authorization") == f"Bearer {ACCESS_TOKEN}"
    assert post.json == meta_body("text", {"body": "Your order shipped"})
    # The id the gateway returns is the one the provider answered with.
    assert post.response["messages"][0]["id"] == msg.provider_message_id


async def test_send_reply_interactive_and_template(
    stub: pb_grpc.MessagingServiceStub, fake_graph: FakeGraphAPI
) -> None:
    reply = await send(stub, text_request("Yes, it is", reply_to="wamid.QUOTED"))
    assert reply.status == m.MESSAGE_STATUS_SENT
    assert reply.context.reply_to_id == "wamid.QUOTED"

    buttons = pb.SendMessageRequest(
        channel_id="acme-meta",
        to=TO,
        interactive=m.InteractiveContent(
            header=m.InteractiveHeader(text="Delivery"),
            body="When should we deliver?",
            footer="Reply with a button",
            buttons=m.ButtonsAction(
                buttons=[
                    m.ReplyButton(id="today", title="Today"),
                    m.ReplyButton(id="tomorrow", title="Tomorrow"),
                ]
            ),
        ),
    )
    sent_buttons = await send(stub, buttons)
    assert sent_buttons.status == m.MESSAGE_STATUS_SENT
    assert sent_buttons.WhichOneof("content") == "interactive"

    template = pb.SendMessageRequest(
        channel_id="acme-meta",
        to=TO,
        template=m.TemplateContent(
            name="order_update",
            language_code="en_US",
            components=[
                m.TemplateComponent(
                    type="body",
                    parameters=[m.TemplateParameter(type="text", text="A-1001")],
                ),
                m.TemplateComponent(
                    type="button",
                    sub_type="quick_reply",
                    index=0,
                    parameters=[m.TemplateParameter(type="payload", payload="TRACK")],
                ),
            ],
        ),
    )
    sent_template = await send(stub, template)
    assert sent_template.status == m.MESSAGE_STATUS_SENT

    assert fake_graph.messages() == [
        meta_body("text", {"body": "Yes, it is"}, context={"message_id": "wamid.QUOTED"}),
        meta_body(
            "interactive",
            {
                "type": "button",
                "header": {"type": "text", "text": "Delivery"},
                "body": {"text": "When should we deliver?"},
                "footer": {"text": "Reply with a button"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "today", "title": "Today"}},
                        {"type": "reply", "reply": {"id": "tomorrow", "title": "Tomorrow"}},
                    ]
                },
            },
        ),
        meta_body(
            "template",
            {
                "name": "order_update",
                "language": {"code": "en_US"},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": "A-1001"}]},
                    {
                        "type": "button",
                        "sub_type": "quick_reply",
                        "index": "0",
                        "parameters": [{"type": "payload", "payload": "TRACK"}],
                    },
                ],
            },
        ),
    ]
    ids = {reply.provider_message_id, sent_buttons.provider_message_id}
    assert len(ids | {sent_template.provider_message_id}) == 3


async def test_idempotency_key(
    stub: pb_grpc.MessagingServiceStub, fake_graph: FakeGraphAPI
) -> None:
    first = await send(stub, text_request("once", idempotency_key="order-1001"))
    again = await send(stub, text_request("once", idempotency_key="order-1001"))
    assert first.status == m.MESSAGE_STATUS_SENT
    assert again.id == first.id
    assert again.provider_message_id == first.provider_message_id
    assert again.status == m.MESSAGE_STATUS_SENT
    assert again.idempotency_key == "order-1001"
    assert len(message_posts(fake_graph)) == 1

    # Three concurrent calls with one key: one message, one send.
    racing = await asyncio.gather(
        *(send(stub, text_request("racing", idempotency_key="order-1002")) for _ in range(3))
    )
    assert len({msg.id for msg in racing}) == 1
    assert racing[0].id != first.id
    final = await wait_status(stub, racing[0].id, m.MESSAGE_STATUS_SENT)
    await asyncio.sleep(0.5)  # a duplicate send would show up by now
    assert [b["text"]["body"] for b in fake_graph.messages()] == ["once", "racing"]
    assert message_posts(fake_graph)[1].response["messages"][0]["id"] == (final.provider_message_id)

    # Keys are per tenant: globex's "order-1001" is a message of its own.
    other = await send(
        stub,
        text_request("globex's", channel_id="globex-meta", idempotency_key="order-1001"),
        GLOBEX,
    )
    assert other.id != first.id
    assert other.status == m.MESSAGE_STATUS_SENT
    assert message_posts(fake_graph)[-1].path == f"/v23.0/{GLOBEX_PHONE_ID}/messages"
    assert len(message_posts(fake_graph)) == 3


async def test_send_errors(stub: pb_grpc.MessagingServiceStub, fake_graph: FakeGraphAPI) -> None:
    err = await rpc_error(send(stub, text_request("x", channel_id="globex-meta")))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED

    err = await rpc_error(send(stub, text_request("x", channel_id="nope")))
    assert err.code() == grpc.StatusCode.NOT_FOUND

    err = await rpc_error(stub.SendMessage(text_request("x"), timeout=TIMEOUT))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    for bad in ("Bearer wrong-key", "Basic " + ACME_KEY, ACME_KEY, "Bearer "):
        err = await rpc_error(send(stub, text_request("x"), (("authorization", bad),)))
        assert err.code() == grpc.StatusCode.UNAUTHENTICATED, bad
    # Another tenant's key must not reach acme's channel.
    err = await rpc_error(send(stub, text_request("x"), GLOBEX))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED

    no_content = pb.SendMessageRequest(channel_id="acme-meta", to=TO)
    err = await rpc_error(send(stub, no_content))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT

    err = await rpc_error(send(stub, text_request("x", to="")))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT

    four_buttons = pb.SendMessageRequest(
        channel_id="acme-meta",
        to=TO,
        interactive=m.InteractiveContent(
            body="Pick one",
            buttons=m.ButtonsAction(
                buttons=[m.ReplyButton(id=f"b{i}", title=f"B{i}") for i in range(4)]
            ),
        ),
    )
    err = await rpc_error(send(stub, four_buttons))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "button" in (err.details() or "")

    # Nothing was stored, nothing was sent.
    await asyncio.sleep(0.3)
    assert fake_graph.requests == []
    for md in (ACME, GLOBEX):
        convs = await stub.ListConversations(pb.ListConversationsRequest(), metadata=md)
        assert list(convs.conversations) == []


async def test_retryable_error_is_retried(
    stub: pb_grpc.MessagingServiceStub, fake_graph: FakeGraphAPI
) -> None:
    fake_graph.fail_next(131000, http_status=500)
    msg = await send(stub, text_request("retry me"))
    assert msg.status in (m.MESSAGE_STATUS_PENDING, m.MESSAGE_STATUS_SENT)

    sent = await wait_status(stub, msg.id, m.MESSAGE_STATUS_SENT)
    posts = message_posts(fake_graph)
    assert [p.status for p in posts] == [500, 200]
    assert posts[0].json == posts[1].json == meta_body("text", {"body": "retry me"})
    assert sent.provider_message_id == posts[1].response["messages"][0]["id"]
    assert list(sent.errors) == []
    await asyncio.sleep(1.0)
    assert len(message_posts(fake_graph)) == 2


async def test_permanent_error_fails_once(
    stub: pb_grpc.MessagingServiceStub, fake_graph: FakeGraphAPI
) -> None:
    fake_graph.fail_next(131047, message="Re-engagement message")
    msg = await send(stub, text_request("too late"))
    assert msg.status == m.MESSAGE_STATUS_FAILED
    assert msg.provider_message_id == ""
    assert [e.code for e in msg.errors] == [131047]

    await asyncio.sleep(1.5)
    assert len(message_posts(fake_graph)) == 1
    stored = await stub.GetMessage(pb.GetMessageRequest(id=msg.id), metadata=ACME)
    assert stored.message.status == m.MESSAGE_STATUS_FAILED
    assert stored.message.errors[0].code == 131047


async def test_rate_limit(gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI) -> None:
    gw = gateways(two_tenant_config(fake_graph.base_url, rate_limit=5))
    async with grpc.aio.insecure_channel(gw.grpc_target) as ch:
        stub = pb_grpc.MessagingServiceStub(ch)
        # Warm the connection so the timing measures sends only.
        await stub.ListConversations(pb.ListConversationsRequest(), metadata=ACME)
        started = time.monotonic()
        sent = await asyncio.gather(*(send(stub, text_request(f"burst {i}")) for i in range(15)))
        elapsed = time.monotonic() - started
    # A burst of 5, then 5/s: the 15th send may only go out 2 s after the first.
    assert elapsed >= 1.5, elapsed
    assert all(msg.status == m.MESSAGE_STATUS_SENT for msg in sent)
    assert len({msg.provider_message_id for msg in sent}) == 15
    assert sorted(b["text"]["body"] for b in fake_graph.messages()) == sorted(
        f"burst {i}" for i in range(15)
    )


# -- history ------------------------------------------------------------------------------


async def test_get_and_list(stub: pb_grpc.MessagingServiceStub, fake_graph: FakeGraphAPI) -> None:
    sent = [await send(stub, text_request(f"msg {i}")) for i in range(5)]
    conv_id = sent[0].conversation_id
    assert {msg.conversation_id for msg in sent} == {conv_id}
    other_conv = (await send(stub, text_request("hi", to="+15550000002"))).conversation_id
    third_conv = (await send(stub, text_request("hi", to="+15550000003"))).conversation_id
    globex_msg = await send(stub, text_request("globex", channel_id="globex-meta"), GLOBEX)

    # GetMessage by gateway id (by wamid: test_lookups_by_wamid).
    got = (await stub.GetMessage(pb.GetMessageRequest(id=sent[2].id), metadata=ACME)).message
    assert got.id == sent[2].id
    assert got.provider_message_id == sent[2].provider_message_id
    assert got.conversation_id == conv_id
    assert got.text.body == "msg 2"
    assert got.status == m.MESSAGE_STATUS_SENT
    for ident in ("msg_does_not_exist", ""):
        err = await rpc_error(stub.GetMessage(pb.GetMessageRequest(id=ident), metadata=ACME))
        assert err.code() == grpc.StatusCode.NOT_FOUND

    # ListMessages: newest first, 2 per page, no duplicates, no gaps.
    pages: list[list[str]] = []
    token = ""
    while True:
        resp = await stub.ListMessages(
            pb.ListMessagesRequest(conversation_id=conv_id, page_size=2, page_token=token),
            metadata=ACME,
        )
        pages.append([msg.id for msg in resp.messages])
        token = resp.next_page_token
        if not token:
            break
        assert len(pages) < 5, "paging does not end"
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [i for p in pages for i in p] == [msg.id for msg in reversed(sent)]

    # ListConversations: acme's three, 2 per page; globex's is not among them.
    convs: list[Any] = []
    token = ""
    for _ in range(5):
        resp_c = await stub.ListConversations(
            pb.ListConversationsRequest(page_size=2, page_token=token), metadata=ACME
        )
        convs += resp_c.conversations
        token = resp_c.next_page_token
        if not token:
            break
    assert token == ""
    assert [c.id for c in convs] == [third_conv, other_conv, conv_id]
    assert all(c.tenant_id == "acme" and c.channel_id == "acme-meta" for c in convs)
    assert convs[-1].contact.wa_id == TO_WA_ID
    filtered = await stub.ListConversations(
        pb.ListConversationsRequest(channel_id="acme-meta"), metadata=ACME
    )
    assert len(filtered.conversations) == 3
    globex_convs = await stub.ListConversations(pb.ListConversationsRequest(), metadata=GLOBEX)
    assert [c.id for c in globex_convs.conversations] == [globex_msg.conversation_id]

    # Tenant isolation: acme sees nothing of globex's, and the other way round.
    err = await rpc_error(
        stub.ListMessages(
            pb.ListMessagesRequest(conversation_id=globex_msg.conversation_id), metadata=ACME
        )
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = await rpc_error(stub.GetMessage(pb.GetMessageRequest(id=globex_msg.id), metadata=ACME))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = await rpc_error(stub.GetMessage(pb.GetMessageRequest(id=sent[0].id), metadata=GLOBEX))
    assert err.code() == grpc.StatusCode.NOT_FOUND

    # Bad paging arguments.
    for request in (
        pb.ListMessagesRequest(conversation_id=conv_id, page_token="not-a-token"),
        pb.ListMessagesRequest(conversation_id=conv_id, page_size=201),
        pb.ListMessagesRequest(conversation_id=conv_id, page_size=-1),
    ):
        err = await rpc_error(stub.ListMessages(request, metadata=ACME))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


# -- read receipts and typing -----------------------------------------------------------


async def find_inbound(stub: pb_grpc.MessagingServiceStub) -> tuple[Any, m.Message] | None:
    """acme's first inbound message and its conversation, if there is one yet."""
    convs = await stub.ListConversations(pb.ListConversationsRequest(), metadata=ACME)
    for conv in convs.conversations:
        listed = await stub.ListMessages(
            pb.ListMessagesRequest(conversation_id=conv.id), metadata=ACME
        )
        for message in listed.messages:
            if message.direction == m.DIRECTION_INBOUND:
                return conv, message
    return None


async def receive_inbound(
    gateway: Gateway, stub: pb_grpc.MessagingServiceStub, http: aiohttp.ClientSession
) -> tuple[Any, m.Message]:
    """POST the signed `meta/text.json` webhook; return its conversation and message."""
    body = sample_bytes("meta", "text.json")
    async with http.post(f"{gateway.url}/webhooks/meta", data=body, headers=meta_sign(body)) as r:
        assert r.status == 200, await r.text()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while (found := await find_inbound(stub)) is None:
        assert loop.time() < deadline, "the inbound message never showed up"
        await asyncio.sleep(0.1)
    conv, inbound = found
    assert conv.contact.wa_id == TO_WA_ID
    assert inbound.conversation_id == conv.id
    assert inbound.provider_message_id == INBOUND_WAMID
    assert inbound.status == m.MESSAGE_STATUS_RECEIVED
    assert inbound.text.body == "Hi, is my order on its way?"
    return conv, inbound


READ = {"messaging_product": "whatsapp", "status": "read", "message_id": INBOUND_WAMID}


async def test_mark_read_and_typing(
    gateway: Gateway,
    stub: pb_grpc.MessagingServiceStub,
    fake_graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
) -> None:
    conv, inbound = await receive_inbound(gateway, stub, http)

    # Another tenant can neither read-mark nor type into it.
    err = await rpc_error(stub.MarkRead(pb.MarkReadRequest(message_id=inbound.id), metadata=GLOBEX))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = await rpc_error(
        stub.SendTyping(pb.SendTypingRequest(conversation_id=conv.id), metadata=GLOBEX)
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert fake_graph.requests == []

    # By gateway id (by wamid: test_lookups_by_wamid).
    await stub.MarkRead(pb.MarkReadRequest(message_id=inbound.id), metadata=ACME)
    assert fake_graph.read_receipts() == [READ]
    posts = message_posts(fake_graph)
    assert [p.path for p in posts] == [f"/v23.0/{ACME_PHONE_ID}/messages"]
    assert posts[0].header("Authorization") == f"Bearer {ACCESS_TOKEN}"

    await stub.SendTyping(pb.SendTypingRequest(conversation_id=conv.id), metadata=ACME)
    assert fake_graph.read_receipts() == [READ, {**READ, "typing_indicator": {"type": "text"}}]
    assert fake_graph.messages() == []

    # Outbound messages cannot be marked read.
    out = await send(stub, text_request("on its way"))
    assert out.conversation_id == conv.id
    err = await rpc_error(stub.MarkRead(pb.MarkReadRequest(message_id=out.id), metadata=ACME))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert len(fake_graph.read_receipts()) == 2


async def test_lookups_by_wamid(
    gateway: Gateway,
    stub: pb_grpc.MessagingServiceStub,
    fake_graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
) -> None:
    sent = await send(stub, text_request("look me up"))
    globex_msg = await send(stub, text_request("globex", channel_id="globex-meta"), GLOBEX)
    assert len(sent.provider_message_id) > 40  # as long as Meta's own wamids

    got = await stub.GetMessage(pb.GetMessageRequest(id=sent.provider_message_id), metadata=ACME)
    assert got.message.id == sent.id

    for ident, md in (
        (globex_msg.provider_message_id, ACME),  # another tenant's wamid
        (sent.provider_message_id, GLOBEX),
        ("wamid." + "A" * 60, ACME),  # unknown
    ):
        err = await rpc_error(stub.GetMessage(pb.GetMessageRequest(id=ident), metadata=md))
        assert err.code() == grpc.StatusCode.NOT_FOUND, (ident, err.details())
    err = await rpc_error(
        stub.ListMessages(pb.ListMessagesRequest(conversation_id="cv_" + "x" * 60), metadata=ACME)
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND, err.details()

    _, inbound = await receive_inbound(gateway, stub, http)
    before = len(fake_graph.read_receipts())
    await stub.MarkRead(pb.MarkReadRequest(message_id=INBOUND_WAMID), metadata=ACME)
    assert fake_graph.read_receipts()[before:] == [READ]
    got = await stub.GetMessage(pb.GetMessageRequest(id=INBOUND_WAMID), metadata=ACME)
    assert got.message.id == inbound.id


# -- health and reflection ----------------------------------------------------------------


async def test_health_and_reflection(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "wagate.v1.MessagingService"):
        resp = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert resp.status == health_pb2.HealthCheckResponse.SERVING, service

    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    requests = [
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="wagate.v1.MessagingService"),
    ]
    call = reflection.ServerReflectionInfo(iter(requests), timeout=5)
    responses = [resp async for resp in call]
    assert len(responses) == 2
    services = {s.name for s in responses[0].list_services_response.service}
    assert "wagate.v1.MessagingService" in services
    assert "grpc.health.v1.Health" in services
    files = responses[1].file_descriptor_response.file_descriptor_proto
    assert files, responses[1]
