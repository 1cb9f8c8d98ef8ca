"""QR-session sending against the fake WAHA engine on 127.0.0.1: every endpoint the
provider uses, its bodies and headers, and how engine failures are classified."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from providers.base import ErrorKind, OutboundMessage, SendError, UnsupportedContent
from providers.qr_session.provider import QrSessionProvider
from providers.qr_session.testing import FakeWahaEngine
from wagate.v1 import message_pb2 as M

KEY = "engine-key"


@pytest.fixture
async def engine() -> AsyncIterator[FakeWahaEngine]:
    async with FakeWahaEngine(expected_token=KEY) as fake:
        yield fake


@pytest.fixture
async def qr(engine: FakeWahaEngine) -> AsyncIterator[QrSessionProvider]:
    provider = QrSessionProvider.from_channel(
        "qr-ch",
        {
            "session_id": "ours",
            "engine_session": "default",
            "engine_base_url": engine.base_url,
            "engine_api_key": KEY,
        },
    )
    async with aiohttp.ClientSession() as http:
        provider.bind_http(http)
        yield provider


def out(to: str = "15551234567", **content: Any) -> OutboundMessage:
    return OutboundMessage(to=to, message=M.Message(**content))


SENDS = [
    (
        {"image": M.MediaContent(link="https://x.test/r.jpg", caption="Receipt")},
        "/api/sendImage",
        {
            "file": {"url": "https://x.test/r.jpg", "mimetype": "image/jpeg", "filename": "r.jpg"},
            "caption": "Receipt",
        },
    ),
    (
        {
            "document": M.MediaContent(
                link="https://x.test/a", mime_type="text/plain", filename="n.txt"
            )
        },
        "/api/sendFile",
        {"file": {"url": "https://x.test/a", "mimetype": "text/plain", "filename": "n.txt"}},
    ),
    (
        {"audio": M.MediaContent(link="https://x.test/v.ogg", voice=True)},
        "/api/sendVoice",
        {"file": {"url": "https://x.test/v.ogg", "mimetype": "audio/ogg", "filename": "v.ogg"}},
    ),
    (
        {"video": M.MediaContent(link="https://x.test/c.mp4")},
        "/api/sendVideo",
        {"file": {"url": "https://x.test/c.mp4", "mimetype": "video/mp4", "filename": "c.mp4"}},
    ),
    (
        {"location": M.LocationContent(latitude=39.79, longitude=-89.64, name="Store")},
        "/api/sendLocation",
        {"latitude": 39.79, "longitude": -89.64, "title": "Store"},
    ),
    (
        {
            "contacts": M.ContactsContent(
                contacts=[
                    M.SharedContact(
                        name=M.SharedContactName(formatted_name="Ann Lee"),
                        phones=[M.SharedContactPhone(phone="+1 555 000 1111")],
                        org=M.SharedContactOrg(company="Acme"),
                    )
                ]
            )
        },
        "/api/sendContactVcard",
        {
            "contacts": [
                {
                    "fullName": "Ann Lee",
                    "organization": "Acme",
                    "phoneNumber": "+1 555 000 1111",
                    "whatsappId": "15550001111",
                }
            ]
        },
    ),
]


@pytest.mark.parametrize(("content", "path", "fields"), SENDS, ids=[s[1] for s in SENDS])
async def test_media_location_contacts(
    qr: QrSessionProvider, engine: FakeWahaEngine, content: Any, path: str, fields: Any
) -> None:
    result = await qr.send(out(**content))
    call = engine.requests[-1]
    assert call.path == path and call.header("X-Api-Key") == KEY
    assert call.json == {"session": "default", "chatId": "15551234567@c.us", **fields}
    assert result.provider_message_id.startswith("true_15551234567@c.us_")


async def test_text_reply_to_group_and_lid_chats(
    qr: QrSessionProvider, engine: FakeWahaEngine
) -> None:
    msg = M.Message(text=M.TextContent(body="hi"), context=M.Context(reply_to_id="false_x@c.us_1"))
    await qr.send(OutboundMessage(to="120363041234567890@g.us", message=msg))
    await qr.send(out(to="123456789012345@lid", text=M.TextContent(body="hey")))
    first, second = engine.calls("/api/sendText")
    assert first["chatId"] == "120363041234567890@g.us" and first["reply_to"] == "false_x@c.us_1"
    assert second["chatId"] == "123456789012345@lid"


async def test_reaction_seen_and_typing(qr: QrSessionProvider, engine: FakeWahaEngine) -> None:
    target = "false_15551234567@c.us_A1B2"
    result = await qr.send(out(reaction=M.ReactionContent(message_id=target, emoji="👍")))
    assert result.provider_message_id
    assert engine.requests[-1].method == "PUT"
    assert engine.calls("/api/reaction") == [
        {"session": "default", "messageId": target, "reaction": "👍"}
    ]
    await qr.mark_read(target)
    assert engine.calls("/api/sendSeen") == [
        {"session": "default", "chatId": "15551234567@c.us", "messageIds": [target]}
    ]
    await qr.send_typing(target, "15551234567")
    await qr.stop_typing("15551234567")
    expected = {"session": "default", "chatId": "15551234567@c.us"}
    assert engine.calls("/api/startTyping") == [expected]
    assert engine.calls("/api/stopTyping") == [expected]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, ErrorKind.RETRYABLE),
        (429, ErrorKind.RATE_LIMITED),
        (422, ErrorKind.PERMANENT),
        (403, ErrorKind.AUTH_EXPIRED),
    ],
)
async def test_engine_errors_are_classified(
    qr: QrSessionProvider, engine: FakeWahaEngine, status: int, kind: ErrorKind
) -> None:
    engine.fail_next_raw(status, '{"message": "nope"}', content_type="application/json")
    with pytest.raises(SendError) as err:
        await qr.send(out(text=M.TextContent(body="hi")))
    assert err.value.kind == kind and err.value.http_status == status


async def test_wrong_api_key_is_auth_expired_and_never_echoed(engine: FakeWahaEngine) -> None:
    provider = QrSessionProvider.from_channel(
        "qr-ch",
        {"session_id": "s", "engine_base_url": engine.base_url, "engine_api_key": "bad-key"},
    )
    async with aiohttp.ClientSession() as http:
        provider.bind_http(http)
        with pytest.raises(SendError) as err:
            await provider.send(out(text=M.TextContent(body="hi")))
    assert err.value.kind == ErrorKind.AUTH_EXPIRED and "bad-key" not in str(err.value)


async def test_unreachable_engine_is_retryable() -> None:
    provider = QrSessionProvider.from_channel(
        "qr-ch", {"session_id": "s", "engine_base_url": "http://127.0.0.1:9"}
    )
    async with aiohttp.ClientSession() as http:
        provider.bind_http(http)
        with pytest.raises(SendError) as err:
            await provider.send(out(text=M.TextContent(body="hi")))
    assert err.value.kind == ErrorKind.RETRYABLE


@pytest.mark.parametrize(
    "content",
    [
        {"template": M.TemplateContent(name="t", language_code="en")},
        {"image": M.MediaContent(id="1234")},  # an uploaded media id means nothing to an engine
        {"text": M.TextContent(body="")},
    ],
)
def test_unsendable_content_is_refused_before_storing(content: Any) -> None:
    provider = QrSessionProvider.from_channel(
        "qr-ch", {"session_id": "s", "engine_base_url": "http://127.0.0.1:9"}
    )
    with pytest.raises(UnsupportedContent):
        provider.validate(out(**content))
    with pytest.raises(UnsupportedContent):
        provider.validate(out(to="user.ABC", text=M.TextContent(body="hi")))
