"""Sends are checked against WhatsApp's documented limits, with one clear error naming the
field: the same message over REST (400 invalid_argument) and gRPC (INVALID_ARGUMENT),
against a real `wagate serve`; nothing refused reaches the provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import grpc
import pytest
from google.protobuf import json_format

from core.errors import InvalidArgument
from gateway.send_validation import check_recipient, check_request
from providers.base import Capabilities
from providers.testing import FakeGraphAPI
from tests.support.procs import Gateway
from tests.support.tenants import ACME_KEY
from wagate.v1 import messaging_service_pb2 as pb
from wagate.v1 import messaging_service_pb2_grpc as pb_grpc

TO = "+15551234567"
BASE = {"channelId": "acme-meta", "to": TO}


def buttons(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {
        "body": "Pick one",
        "buttons": {"buttons": [{"id": i, "title": t} for i, t in pairs]},
    }


def a_list(rows: list[list[dict[str, str]]], button: str = "Options") -> dict[str, Any]:
    return {
        "body": "Pick one",
        "list": {
            "button": button,
            "sections": [{"title": f"S{i}", "rows": r} for i, r in enumerate(rows)],
        },
    }


def rows(n: int, first: int = 0, **extra: str) -> list[dict[str, str]]:
    return [{"id": f"r{i}", "title": f"Row {i}", **extra} for i in range(first, first + n)]


# (request body, the whole error message)
REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"to": TO, "text": {"body": "x"}}, "channelId is required"),
    ({"channelId": "acme-meta", "text": {"body": "x"}}, "to is required"),
    (BASE, "content is required: one of text, image, audio, video, ..."),
    ({**BASE, "text": {"body": ""}}, "text.body is required"),
    ({**BASE, "text": {"body": "x" * 4097}}, "text.body is longer than 4096 characters (4097)"),
    (
        {**BASE, "to": "not-a-phone", "text": {"body": "x"}},
        "to must be a phone number or wa_id (digits, optional leading +) or a user id (user.…),"
        " not 'not-a-phone'",
    ),
    (
        {**BASE, "to": "123", "text": {"body": "x"}},
        "to must have 5 to 15 digits, not 3 ('123')",
    ),
    (
        {**BASE, "image": {"link": "https://example.com/a.jpg", "caption": "c" * 1025}},
        "image.caption is longer than 1024 characters (1025)",
    ),
    ({**BASE, "image": {"caption": "no media"}}, "image.link or image.id is required"),
    (
        {**BASE, "interactive": buttons(*[(f"b{i}", f"B{i}") for i in range(4)])},
        "interactive.buttons.buttons must have 1 to 3 items, not 4",
    ),
    (
        {**BASE, "interactive": buttons(("b1", "t" * 21))},
        "interactive.buttons.buttons[0].title is longer than 20 characters (21)",
    ),
    (
        {**BASE, "interactive": buttons(("same", "One"), ("same", "Two"))},
        "interactive.buttons.buttons[1].id 'same' is used twice",
    ),
    (
        {**BASE, "interactive": buttons(("i" * 257, "One"))},
        "interactive.buttons.buttons[0].id is longer than 256 characters (257)",
    ),
    (
        {**BASE, "interactive": {**buttons(("b", "B")), "body": "b" * 1025}},
        "interactive.body is longer than 1024 characters (1025)",
    ),
    (
        {**BASE, "interactive": {**buttons(("b", "B")), "header": {"text": "h" * 61}}},
        "interactive.header.text is longer than 60 characters (61)",
    ),
    (
        {**BASE, "interactive": {**buttons(("b", "B")), "footer": "f" * 61}},
        "interactive.footer is longer than 60 characters (61)",
    ),
    (
        {**BASE, "interactive": a_list([rows(6), rows(5, 6)])},
        "interactive.list.sections have 11 rows; WhatsApp allows 10 in total",
    ),
    (
        {**BASE, "interactive": a_list([rows(1)] * 11)},
        "interactive.list.sections must have 1 to 10 items, not 11",
    ),
    (
        {**BASE, "interactive": a_list([[{"id": "r", "title": "t" * 25}]])},
        "interactive.list.sections[0].rows[0].title is longer than 24 characters (25)",
    ),
    (
        {**BASE, "interactive": a_list([rows(1, description="d" * 73)])},
        "interactive.list.sections[0].rows[0].description is longer than 72 characters (73)",
    ),
    (
        {**BASE, "interactive": a_list([rows(1)], button="b" * 21)},
        "interactive.list.button is longer than 20 characters (21)",
    ),
    ({**BASE, "template": {"languageCode": "en_US"}}, "template.name is required"),
    ({**BASE, "template": {"name": "order_update"}}, "template.languageCode is required"),
]


@pytest.mark.parametrize(("body", "message"), REFUSED)
def test_check_request_names_the_field(body: dict[str, Any], message: str) -> None:
    request = json_format.ParseDict(body, pb.SendMessageRequest())
    with pytest.raises(InvalidArgument) as info:
        check_request(request)
        check_recipient(request.to, Capabilities())
    assert info.value.message == message


@pytest.mark.parametrize(
    "body",
    [
        {**BASE, "text": {"body": "x" * 4096}},
        {**BASE, "interactive": buttons(*[(f"b{i}", "t" * 20) for i in range(3)])},
        {**BASE, "interactive": a_list([rows(5), rows(5, 5, description="d" * 72)])},
        {**BASE, "template": {"name": "order_update", "languageCode": "en_US"}},
    ],
)
def test_requests_at_the_limits_pass(body: dict[str, Any]) -> None:
    check_request(json_format.ParseDict(body, pb.SendMessageRequest()))


@pytest.mark.parametrize("to", ["15551234567", "+1 555 123-4567", "(555) 1234567", "user.9373AB"])
def test_recipients_any_channel_takes(to: str) -> None:
    check_recipient(to, Capabilities())


@pytest.mark.parametrize("to", ["15551234567@c.us", "120363041234567890@g.us", "1234567@lid"])
def test_chat_ids_only_where_the_channel_takes_them(to: str) -> None:
    check_recipient(to, Capabilities(chat_ids=True))
    with pytest.raises(InvalidArgument, match=r"^to must be a phone number"):
        check_recipient(to, Capabilities())


# -- against a real gateway -------------------------------------------------------------


@pytest.fixture
async def stub(gateway: Gateway) -> AsyncIterator[pb_grpc.MessagingServiceStub]:
    async with grpc.aio.insecure_channel(gateway.grpc_target) as channel:
        yield pb_grpc.MessagingServiceStub(channel)


async def rest_send(
    http: aiohttp.ClientSession, gateway: Gateway, body: Any, raw: bytes | None = None
) -> tuple[int, Any]:
    async with http.post(
        f"{gateway.url}/api/v1/messages",
        json=None if raw is not None else body,
        data=raw,
        headers={"Authorization": f"Bearer {ACME_KEY}"},
    ) as resp:
        return resp.status, await resp.json()


async def test_each_problem_is_one_clear_error_over_rest_and_grpc(
    gateway: Gateway,
    fake_graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
    stub: pb_grpc.MessagingServiceStub,
) -> None:
    metadata = (("authorization", f"Bearer {ACME_KEY}"),)
    for body, message in [
        *REFUSED,
        ({**BASE, "to": "15551234567@c.us", "text": {"body": "x"}}, None),
    ]:
        status, data = await rest_send(http, gateway, body)
        assert status == 400, (body, data)
        assert data["error"]["code"] == "invalid_argument"
        if message is not None:
            assert data["error"]["message"] == message
        request = json_format.ParseDict(body, pb.SendMessageRequest())
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.SendMessage(request, metadata=metadata, timeout=10)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert info.value.details() == data["error"]["message"]
    assert fake_graph.requests == []  # nothing refused was sent

    status, data = await rest_send(http, gateway, {**BASE, "text": {"body": "x" * 4096}})
    assert status == 200 and data["message"]["status"] == "MESSAGE_STATUS_SENT"


async def test_rest_body_of_the_wrong_shape_says_which_field(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    for body, message in [
        ({**BASE, "text": "hello"}, "text must be an object, not a string"),
        (
            {**BASE, "interactive": {"body": "b", "buttons": {"buttons": {"id": "x"}}}},
            "interactive.buttons.buttons must be a list, not an object",
        ),
        ({**BASE, "text": {"body": "x", "bdy": "y"}}, "unknown field 'text.bdy'"),
        ([BASE], "the body must be a JSON object, not a list"),
    ]:
        status, data = await rest_send(http, gateway, body)
        assert (status, data["error"]) == (400, {"code": "invalid_argument", "message": message})
    status, data = await rest_send(http, gateway, None, raw=b"{not json")
    assert status == 400 and data["error"]["message"].startswith("malformed JSON")
