"""A 2xx send answer without a message id fails the send for good, for every built-in
provider (providers/accepted.py): the message may be on its way, and a retry could
deliver it twice. Each provider sends to its own fake API on 127.0.0.1, which answers
the send with 200 and a body that names no message."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from providers.accepted import accepted_without_id
from providers.base import ErrorKind, OutboundMessage, SendError
from providers.registry import provider_class
from providers.testing import FakeGraphAPI
from wagate.v1 import message_pb2

BUILT_IN = ["meta_cloud", "kapso", "qr_session"]
# 200 answers that carry no message id: a JSON object without one, JSON that is not an
# object, text from something in between, and nothing at all.
ANSWERS = [
    (b'{"messaging_product": "whatsapp", "messages": []}', "application/json"),
    (b'["accepted"]', "application/json"),
    (b"OK", "text/plain"),
    (b"", "text/plain"),
]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def text(body: str) -> OutboundMessage:
    return OutboundMessage(
        to="15551234567", message=message_pb2.Message(text=message_pb2.TextContent(body=body))
    )


@pytest.mark.parametrize("kind", BUILT_IN)
@pytest.mark.parametrize(("answer", "content_type"), ANSWERS)
async def test_a_2xx_without_a_message_id_is_permanent(
    kind: str, answer: bytes, content_type: str, http: aiohttp.ClientSession
) -> None:
    cls = provider_class(kind)
    kit = cls.contract_kit()
    assert kit is not None
    server = kit.fake_server()
    assert isinstance(server, FakeGraphAPI)
    await server.start()
    try:
        provider = cls.from_channel("ch", kit.settings(server))
        provider.bind_http(http)
        server.fail_next_raw(200, answer, content_type=content_type)
        with pytest.raises(SendError) as info:
            await provider.send(text("no id, please"))
        err = info.value
        assert err.kind is ErrorKind.PERMANENT and not err.retryable
        assert "no message id" in str(err)
        assert len(server.requests) == 1  # the one send, answered 200
        # The next send is answered normally and goes through.
        assert (await provider.send(text("with an id"))).provider_message_id
    finally:
        await server.stop()


def test_the_rule_names_the_provider_and_the_status() -> None:
    err = accepted_without_id("QR engine", 201)
    assert (err.kind, err.http_status) == (ErrorKind.PERMANENT, 201)
    assert str(err).startswith("QR engine accepted the send (HTTP 201) but returned no message id")
