"""Meta Cloud API sending: bodies vs the fixtures in tests/fixtures/meta/send, error
classification, and real HTTP calls against `providers.testing.FakeGraphAPI`.

Sample comparison is exact dict equality, with one normalization: `contacts.json`
omits `recipient_type`, which defaults to "individual" at Meta, while we always send
it; a sample without the key is compared as if it had `"recipient_type":"individual"`.
Nothing else is normalized: we emit latitude/longitude as strings (as the samples and
Meta's docs do) and always send `to` as "+<digits>", so inputs without "+" or with
spaces must still match the samples.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from providers.base import (
    ErrorKind,
    OutboundMessage,
    SendError,
    UnsupportedContent,
    provider_error,
)
from providers.meta_cloud.send import (
    build_mark_read_body,
    build_message_body,
    build_typing_body,
    classify_error,
    graph_post,
    normalize_recipient,
    parse_send_response,
    retry_after_from_headers,
)
from providers.testing import FakeGraphAPI
from tests.support.samples import SAMPLES_DIR
from wagate.v1 import message_pb2 as pb

SEND = SAMPLES_DIR / "meta" / "send"

TOKEN = "EAAGtestSECRETtoken0123456789abcdef"
PNID = "109876543210001"
WAMID = "wamid.MTU1NTEyMzQ1Njc6dGV4dC0xOm1hZGUtdXAtc2FtcGxl"
USER = "15551234567"


def sample(name: str) -> Any:
    return json.loads((SEND / name).read_text(encoding="utf-8"))


def out(message: pb.Message, to: str = USER) -> OutboundMessage:
    return OutboundMessage(to=to, message=message)


# -- bodies vs samples -------------------------------------------------------------------


def _contacts_message() -> pb.Message:
    card = pb.SharedContact(
        name=pb.SharedContactName(
            formatted_name="Support Desk", first_name="Support", last_name="Desk"
        ),
        phones=[pb.SharedContactPhone(phone="+15557654321", type="WORK", wa_id="15557654321")],
        emails=[pb.SharedContactEmail(email="support@example.com", type="WORK")],
        urls=[pb.SharedContactUrl(url="https://example.com", type="WORK")],
    )
    return pb.Message(contacts=pb.ContactsContent(contacts=[card]))


def _buttons_message() -> pb.Message:
    return pb.Message(
        interactive=pb.InteractiveContent(
            header=pb.InteractiveHeader(text="Delivery slot"),
            body="Can we deliver on Tuesday between 9am and 12pm?",
            footer="Reply with a button",
            buttons=pb.ButtonsAction(
                buttons=[
                    pb.ReplyButton(id="confirm-yes", title="Yes, confirm"),
                    pb.ReplyButton(id="confirm-no", title="No"),
                    pb.ReplyButton(id="confirm-other", title="Other time"),
                ]
            ),
        )
    )


def _list_message() -> pb.Message:
    return pb.Message(
        interactive=pb.InteractiveContent(
            header=pb.InteractiveHeader(text="Shipping options"),
            body="Which shipping option do you prefer?",
            footer="Prices include tax",
            list=pb.ListAction(
                button="Choose option",
                sections=[
                    pb.ListSection(
                        title="Fast",
                        rows=[
                            pb.ListRow(
                                id="ship_express",
                                title="Express shipping",
                                description="1-2 business days",
                            ),
                            pb.ListRow(
                                id="ship_priority",
                                title="Priority",
                                description="2-3 business days",
                            ),
                        ],
                    ),
                    pb.ListSection(
                        title="Economy",
                        rows=[
                            pb.ListRow(
                                id="ship_ground", title="Ground", description="5-7 business days"
                            )
                        ],
                    ),
                ],
            ),
        )
    )


def _template_named() -> pb.Message:
    return pb.Message(
        template=pb.TemplateContent(
            name="order_confirmation",
            language_code="en_US",
            components=[
                pb.TemplateComponent(
                    type="body",
                    parameters=[
                        pb.TemplateParameter(type="text", parameter_name="first_name", text="Alex"),
                        pb.TemplateParameter(
                            type="text", parameter_name="order_number", text="ABC123"
                        ),
                    ],
                )
            ],
        )
    )


def _template_positional() -> pb.Message:
    return pb.Message(
        template=pb.TemplateContent(
            name="order_update",
            language_code="en_US",
            components=[
                pb.TemplateComponent(
                    type="header",
                    parameters=[
                        pb.TemplateParameter(
                            type="image", media=pb.MediaContent(id="1013859600000004")
                        )
                    ],
                ),
                pb.TemplateComponent(
                    type="body",
                    parameters=[
                        pb.TemplateParameter(type="text", text="Alex"),
                        pb.TemplateParameter(type="text", text="ABC123"),
                    ],
                ),
                pb.TemplateComponent(
                    type="button",
                    sub_type="quick_reply",
                    index=0,
                    parameters=[pb.TemplateParameter(type="payload", payload="STOP_PROMOS")],
                ),
                pb.TemplateComponent(
                    type="button",
                    sub_type="url",
                    index=1,
                    parameters=[pb.TemplateParameter(type="text", text="ABC123")],
                ),
            ],
        )
    )


MESSAGE_CASES: list[tuple[str, Callable[[], OutboundMessage]]] = [
    (
        "text.json",
        lambda: out(
            pb.Message(
                text=pb.TextContent(
                    body="Your order ships today: https://example.com/track/ABC123",
                    preview_url=True,
                )
            ),
            to="15551234567",  # no "+": added
        ),
    ),
    (
        "text_reply_context.json",
        lambda: out(
            pb.Message(
                text=pb.TextContent(body="Yes, it left the warehouse this morning."),
                context=pb.Context(reply_to_id=WAMID),
            ),
            to="+1 555 123 4567",  # spaces stripped
        ),
    ),
    (
        "image_by_id.json",
        lambda: out(
            pb.Message(image=pb.MediaContent(id="1013859600000001", caption="Your receipt"))
        ),
    ),
    (
        "image_by_link.json",
        lambda: out(
            pb.Message(
                image=pb.MediaContent(
                    link="https://example.com/media/receipt.png", caption="Your receipt"
                )
            )
        ),
    ),
    (
        "audio_voice.json",
        lambda: out(pb.Message(audio=pb.MediaContent(id="1013859600000002", voice=True))),
    ),
    (
        "video.json",
        lambda: out(
            pb.Message(
                video=pb.MediaContent(
                    link="https://example.com/media/howto.mp4", caption="How to set it up"
                )
            )
        ),
    ),
    (
        "document.json",
        lambda: out(
            pb.Message(
                document=pb.MediaContent(
                    link="https://example.com/invoices/inv-001.pdf",
                    filename="inv-001.pdf",
                    caption="Invoice INV-001",
                    mime_type="application/pdf",  # not a Meta field: dropped
                )
            )
        ),
    ),
    ("sticker.json", lambda: out(pb.Message(sticker=pb.MediaContent(id="1013859600000003")))),
    (
        "location.json",
        lambda: out(
            pb.Message(
                location=pb.LocationContent(
                    latitude=39.7990175,
                    longitude=-89.6439575,
                    name="Example Store",
                    address="1 Example Plaza, Springfield, IL 62701",
                )
            )
        ),
    ),
    ("contacts.json", lambda: out(_contacts_message())),
    ("interactive_buttons.json", lambda: out(_buttons_message())),
    ("interactive_list.json", lambda: out(_list_message())),
    ("template_named.json", lambda: out(_template_named())),
    ("template_positional.json", lambda: out(_template_positional())),
    (
        "reaction.json",
        lambda: out(pb.Message(reaction=pb.ReactionContent(message_id=WAMID, emoji="👍"))),
    ),
]


@pytest.mark.parametrize(("name", "make"), MESSAGE_CASES, ids=[c[0] for c in MESSAGE_CASES])
def test_message_body_matches_sample(name: str, make: Callable[[], OutboundMessage]) -> None:
    expected = sample(name)
    expected.setdefault("recipient_type", "individual")
    assert build_message_body(make()) == expected


def test_every_listed_sample_is_covered() -> None:
    covered = {name for name, _ in MESSAGE_CASES} | {"mark_read.json", "typing_indicator.json"}
    for name in covered:
        assert (SEND / name).is_file(), name
    assert len(covered) == 17


def test_mark_read_and_typing_bodies_match_samples() -> None:
    assert build_mark_read_body(WAMID) == sample("mark_read.json")
    assert build_typing_body(WAMID) == sample("typing_indicator.json")


# -- bodies: details -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("15551234567", "+15551234567"),
        ("+15551234567", "+15551234567"),
        ("  +1 555 123 4567 ", "+15551234567"),
        ("1 (555) 123-4567", "+1(555)123-4567"),
        ("user.9373ABCdef", "user.9373ABCdef"),
        ("US.13491208655302741918", "US.13491208655302741918"),
    ],
)
def test_recipient_normalization(given: str, sent: str) -> None:
    assert normalize_recipient(given) == sent
    body = build_message_body(out(pb.Message(text=pb.TextContent(body="hi")), to=given))
    assert body["to"] == sent


def test_empty_recipient_is_refused() -> None:
    with pytest.raises(UnsupportedContent, match="recipient"):
        build_message_body(out(pb.Message(text=pb.TextContent(body="hi")), to="  "))


def test_optional_fields_are_omitted() -> None:
    body = build_message_body(out(pb.Message(text=pb.TextContent(body="hi"))))
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+15551234567",
        "type": "text",
        "text": {"body": "hi"},
    }
    # Fields Meta does not take for a type are dropped (caption on audio/sticker...).
    audio = build_message_body(out(pb.Message(audio=pb.MediaContent(id="1", caption="x"))))
    assert audio["audio"] == {"id": "1"}
    sticker = build_message_body(
        out(pb.Message(sticker=pb.MediaContent(link="https://x/s.webp", caption="x", voice=True)))
    )
    assert sticker["sticker"] == {"link": "https://x/s.webp"}
    image = build_message_body(out(pb.Message(image=pb.MediaContent(id="7", link="https://x"))))
    assert image["image"] == {"id": "7"}  # an uploaded id wins over a link


def test_reply_context_and_reactions() -> None:
    # An empty reply_to_id adds no context.
    plain = build_message_body(
        out(pb.Message(text=pb.TextContent(body="hi"), context=pb.Context(forwarded=True)))
    )
    assert "context" not in plain
    # Context on any non-reaction content.
    image = build_message_body(
        out(pb.Message(image=pb.MediaContent(id="1"), context=pb.Context(reply_to_id=WAMID)))
    )
    assert image["context"] == {"message_id": WAMID}
    # A reaction is never a contextual reply; an empty emoji (removal) is still sent.
    removal = build_message_body(
        out(
            pb.Message(
                reaction=pb.ReactionContent(message_id=WAMID, emoji=""),
                context=pb.Context(reply_to_id="wamid.other"),
            )
        )
    )
    assert "context" not in removal
    assert removal["reaction"] == {"message_id": WAMID, "emoji": ""}


def test_location_coordinates_are_decimal_strings() -> None:
    body = build_message_body(
        out(pb.Message(location=pb.LocationContent(latitude=0.00001, longitude=-0.0)))
    )
    assert body["location"] == {"latitude": "0.00001", "longitude": "0"}
    with pytest.raises(UnsupportedContent, match="latitude"):
        build_message_body(out(pb.Message(location=pb.LocationContent(latitude=91.0))))
    with pytest.raises(UnsupportedContent, match="longitude"):
        build_message_body(out(pb.Message(location=pb.LocationContent(longitude=float("nan")))))


def test_contact_card_full_shape() -> None:
    card = pb.SharedContact(
        name=pb.SharedContactName(first_name="Ada", last_name="Lovelace", prefix="Dr."),
        phones=[pb.SharedContactPhone(phone="+441234", type="CELL"), pb.SharedContactPhone()],
        addresses=[pb.SharedContactAddress(city="London", country_code="GB", type="HOME")],
        org=pb.SharedContactOrg(company="Analytical Engines", title="Programmer"),
        birthday="1815-12-10",
    )
    body = build_message_body(out(pb.Message(contacts=pb.ContactsContent(contacts=[card]))))
    assert body["contacts"] == [
        {
            "name": {
                "formatted_name": "Dr. Ada Lovelace",  # built from the parts
                "first_name": "Ada",
                "last_name": "Lovelace",
                "prefix": "Dr.",
            },
            "phones": [{"phone": "+441234", "type": "CELL"}],  # the empty entry is dropped
            "addresses": [{"city": "London", "country_code": "GB", "type": "HOME"}],
            "org": {"company": "Analytical Engines", "title": "Programmer"},
            "birthday": "1815-12-10",
        }
    ]


def test_interactive_media_headers() -> None:
    msg = _buttons_message()
    msg.interactive.header.CopyFrom(
        pb.InteractiveHeader(document=pb.MediaContent(link="https://x/a.pdf", filename="a.pdf"))
    )
    body = build_message_body(out(msg))
    assert body["interactive"]["header"] == {
        "type": "document",
        "document": {"link": "https://x/a.pdf", "filename": "a.pdf"},
    }
    msg.interactive.header.CopyFrom(pb.InteractiveHeader(image=pb.MediaContent(id="55")))
    assert build_message_body(out(msg))["interactive"]["header"] == {
        "type": "image",
        "image": {"id": "55"},
    }
    # A single untitled list section is fine; no header/footer are omitted.
    lst = pb.Message(
        interactive=pb.InteractiveContent(
            body="Pick",
            list=pb.ListAction(
                button="Open", sections=[pb.ListSection(rows=[pb.ListRow(id="a", title="A")])]
            ),
        )
    )
    assert build_message_body(out(lst))["interactive"] == {
        "type": "list",
        "body": {"text": "Pick"},
        "action": {"button": "Open", "sections": [{"rows": [{"id": "a", "title": "A"}]}]},
    }


def test_template_details() -> None:
    msg = pb.Message(
        template=pb.TemplateContent(
            name="hello_world",
            language_code="en_US",
            components=[
                pb.TemplateComponent(type="header"),  # no parameters: left out
                pb.TemplateComponent(
                    type="BUTTON",
                    sub_type="quick_reply",
                    index=2,
                    parameters=[pb.TemplateParameter(payload="YES")],  # type inferred
                ),
                pb.TemplateComponent(
                    type="header",
                    parameters=[
                        pb.TemplateParameter(
                            type="document",
                            media=pb.MediaContent(link="https://x/t.pdf", filename="t.pdf"),
                        )
                    ],
                ),
            ],
        )
    )
    assert build_message_body(out(msg))["template"] == {
        "name": "hello_world",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "2",
                "parameters": [{"type": "payload", "payload": "YES"}],
            },
            {
                "type": "header",
                "parameters": [
                    {
                        "type": "document",
                        "document": {"link": "https://x/t.pdf", "filename": "t.pdf"},
                    }
                ],
            },
        ],
    }
    bare = pb.Message(template=pb.TemplateContent(name="hello_world", language_code="en_US"))
    assert build_message_body(out(bare))["template"] == {
        "name": "hello_world",
        "language": {"code": "en_US"},
    }


def _buttons(n: int) -> pb.Message:
    return pb.Message(
        interactive=pb.InteractiveContent(
            body="Pick",
            buttons=pb.ButtonsAction(
                buttons=[pb.ReplyButton(id=f"b{i}", title=f"B{i}") for i in range(n)]
            ),
        )
    )


def _list(rows_per_section: list[int]) -> pb.Message:
    sections = [
        pb.ListSection(
            title=f"S{s}", rows=[pb.ListRow(id=f"r{s}-{r}", title="Row") for r in range(n)]
        )
        for s, n in enumerate(rows_per_section)
    ]
    return pb.Message(
        interactive=pb.InteractiveContent(
            body="Pick", list=pb.ListAction(button="Open", sections=sections)
        )
    )


def _with(msg: pb.Message, edit: Callable[[pb.Message], None]) -> pb.Message:
    edit(msg)
    return msg


UNSUPPORTED: list[tuple[str, pb.Message, str]] = [
    ("no content", pb.Message(), "no content"),
    ("button_reply", pb.Message(button_reply=pb.ButtonReplyContent(id="x")), "button_reply"),
    ("list_reply", pb.Message(list_reply=pb.ListReplyContent(id="x")), "list_reply"),
    ("order", pb.Message(order=pb.OrderContent(catalog_id="c")), "order"),
    ("system", pb.Message(system=pb.SystemContent(type="x")), "system"),
    ("unsupported", pb.Message(unsupported=pb.UnsupportedContent(type="poll")), "unsupported"),
    ("empty text", pb.Message(text=pb.TextContent()), "empty body"),
    ("media without source", pb.Message(image=pb.MediaContent(caption="x")), "id or link"),
    ("4 buttons", _buttons(4), "4 buttons; Meta allows at most 3"),
    ("0 buttons", _buttons(0), "no buttons"),
    (
        "duplicate titles",
        _with(_buttons(2), lambda m: setattr(m.interactive.buttons.buttons[1], "title", "B0")),
        "unique",
    ),
    ("11 rows", _list([6, 5]), "11 rows; Meta allows at most 10"),
    ("11 sections", _list([1] * 11), "11 sections; Meta allows at most 10"),
    ("empty section", _list([2, 0]), "at least one row"),
    (
        "duplicate row ids",
        _with(_list([2]), lambda m: setattr(m.interactive.list.sections[0].rows[1], "id", "r0-0")),
        "unique",
    ),
    (
        "list media header",
        _with(_list([1]), lambda m: m.interactive.header.image.CopyFrom(pb.MediaContent(id="1"))),
        "text header",
    ),
    (
        "interactive without body",
        _with(_buttons(1), lambda m: setattr(m.interactive, "body", "")),
        "body",
    ),
    (
        "interactive without action",
        pb.Message(interactive=pb.InteractiveContent(body="x")),
        "neither",
    ),
    ("template without language", pb.Message(template=pb.TemplateContent(name="t")), "language"),
    (
        "template currency param",
        pb.Message(
            template=pb.TemplateContent(
                name="t",
                language_code="en",
                components=[
                    pb.TemplateComponent(
                        type="body", parameters=[pb.TemplateParameter(type="currency")]
                    )
                ],
            )
        ),
        "currency",
    ),
    (
        "template button without sub_type",
        pb.Message(
            template=pb.TemplateContent(
                name="t",
                language_code="en",
                components=[
                    pb.TemplateComponent(
                        type="button", parameters=[pb.TemplateParameter(payload="p")]
                    )
                ],
            )
        ),
        "sub_type",
    ),
    ("reaction without target", pb.Message(reaction=pb.ReactionContent(emoji="x")), "reacted"),
    (
        "contact without name",
        pb.Message(
            contacts=pb.ContactsContent(
                contacts=[pb.SharedContact(phones=[pb.SharedContactPhone(phone="1")])]
            )
        ),
        "name",
    ),
    ("no contact cards", pb.Message(contacts=pb.ContactsContent()), "no contact"),
]


@pytest.mark.parametrize(
    ("msg", "match"), [c[1:] for c in UNSUPPORTED], ids=[c[0] for c in UNSUPPORTED]
)
def test_unsupported_content(msg: pb.Message, match: str) -> None:
    with pytest.raises(UnsupportedContent, match=match):
        build_message_body(out(msg))


# -- error classification ------------------------------------------------------------------


def meta_error(code: int, message: str = "Some error", details: str = "why") -> dict[str, Any]:
    return {
        "error": {
            "message": f"(#{code}) {message}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "Abc",
        }
    }


CODE_CASES: list[tuple[int, int, ErrorKind]] = [
    (0, 401, ErrorKind.AUTH_EXPIRED),
    (190, 401, ErrorKind.AUTH_EXPIRED),
    (190, 400, ErrorKind.AUTH_EXPIRED),
    (4, 400, ErrorKind.RATE_LIMITED),
    (80007, 400, ErrorKind.RATE_LIMITED),
    (130429, 400, ErrorKind.RATE_LIMITED),
    (131048, 400, ErrorKind.RATE_LIMITED),
    (131056, 400, ErrorKind.RATE_LIMITED),
    (131000, 500, ErrorKind.RETRYABLE),
    (131016, 500, ErrorKind.RETRYABLE),
    (131057, 500, ErrorKind.RETRYABLE),
    (1, 400, ErrorKind.RETRYABLE),
    (2, 503, ErrorKind.RETRYABLE),
    (3, 500, ErrorKind.PERMANENT),  # a known permanent code wins over HTTP 5xx
    (10, 403, ErrorKind.PERMANENT),
    (200, 403, ErrorKind.PERMANENT),
    (299, 403, ErrorKind.PERMANENT),
    (100, 400, ErrorKind.PERMANENT),
    (368, 403, ErrorKind.PERMANENT),
    (131031, 403, ErrorKind.PERMANENT),
    (131008, 400, ErrorKind.PERMANENT),
    (131009, 400, ErrorKind.PERMANENT),
    (131021, 400, ErrorKind.PERMANENT),
    (131026, 400, ErrorKind.PERMANENT),
    (131047, 400, ErrorKind.PERMANENT),
    (131049, 400, ErrorKind.PERMANENT),
    (131050, 400, ErrorKind.PERMANENT),
    (131051, 400, ErrorKind.PERMANENT),
    (131052, 400, ErrorKind.PERMANENT),
    (131053, 400, ErrorKind.PERMANENT),
    (132000, 400, ErrorKind.PERMANENT),
    (132001, 404, ErrorKind.PERMANENT),
    (999999, 400, ErrorKind.PERMANENT),  # unknown code, 4xx
    (999999, 502, ErrorKind.RETRYABLE),  # unknown code, 5xx
    (999999, 401, ErrorKind.AUTH_EXPIRED),  # unknown code, HTTP 401
]


@pytest.mark.parametrize(("code", "status", "kind"), CODE_CASES)
def test_classify_error_by_code(code: int, status: int, kind: ErrorKind) -> None:
    err = classify_error(status, meta_error(code, "Some error", "the details"))
    assert err.kind is kind
    assert err.code == code
    assert err.title == "Some error"  # "(#code) " prefix stripped
    assert err.details == "the details"
    assert err.http_status == status
    assert err.retryable is (kind in (ErrorKind.RETRYABLE, ErrorKind.RATE_LIMITED))
    assert str(code) in str(err)
    assert err.retry_after is None


@pytest.mark.parametrize(
    ("name", "status", "kind", "code", "title"),
    [
        ("error_100_invalid_parameter.json", 400, ErrorKind.PERMANENT, 100, "Invalid parameter"),
        ("error_130429_rate_limit.json", 400, ErrorKind.RATE_LIMITED, 130429, "Rate limit hit"),
        (
            "error_131047_reengagement.json",
            400,
            ErrorKind.PERMANENT,
            131047,
            "Re-engagement message",
        ),
        (
            "error_131056_pair_rate_limit.json",
            400,
            ErrorKind.RATE_LIMITED,
            131056,
            "(Business Account, Consumer Account) pair rate limit hit",
        ),
        (
            "error_190_token_expired.json",
            401,
            ErrorKind.AUTH_EXPIRED,
            190,
            "Error validating access token: Session has expired on Thursday, 01-Jan-26 "
            "08:00:00 PST.",
        ),
    ],
)
def test_classify_error_samples(
    name: str, status: int, kind: ErrorKind, code: int, title: str
) -> None:
    body = sample(name)
    err = classify_error(status, body)
    assert (err.kind, err.code, err.title, err.http_status) == (kind, code, title, status)
    assert err.details == body["error"].get("error_data", {}).get("details", "")
    assert err.retry_after is None
    proto = provider_error(err)
    assert (proto.code, proto.title, proto.details) == (code, title, err.details)


def test_classify_error_without_a_meta_body() -> None:
    html = "<html><body>502 Bad Gateway</body></html>"
    for status, body, kind in [
        (500, html, ErrorKind.RETRYABLE),
        (503, b"Service Unavailable", ErrorKind.RETRYABLE),
        (502, None, ErrorKind.RETRYABLE),
        (401, None, ErrorKind.AUTH_EXPIRED),
        (429, "slow down", ErrorKind.RATE_LIMITED),
        (404, "<html>not found</html>", ErrorKind.PERMANENT),
        (400, {"unexpected": True}, ErrorKind.PERMANENT),
    ]:
        err = classify_error(status, body)
        assert err.kind is kind, (status, body)
        assert (err.code, err.title, err.details, err.http_status) == (0, "", "", status)
        assert f"HTTP {status}" in str(err)


def test_retry_after_hints() -> None:
    rate = sample("error_131056_pair_rate_limit.json")
    assert classify_error(400, rate, retry_after=4.0).retry_after == 4.0
    assert classify_error(400, sample("error_130429_rate_limit.json")).retry_after is None
    # Permanent errors never carry a retry hint.
    assert classify_error(400, meta_error(131047), retry_after=4.0).retry_after is None

    assert retry_after_from_headers({"Retry-After": "7"}) == 7.0
    assert retry_after_from_headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    buc = '{"102": [{"type": "whatsapp", "call_count": 100, "estimated_time_to_regain_access": 2}]}'
    assert retry_after_from_headers({"X-Business-Use-Case-Usage": buc}) == 120.0
    assert retry_after_from_headers({"X-Business-Use-Case-Usage": "not json"}) is None
    assert retry_after_from_headers({}) is None


# -- send responses ----------------------------------------------------------------------------


def test_parse_send_response() -> None:
    result = parse_send_response(sample("response_success.json"))
    assert result.provider_message_id.startswith("wamid.")
    assert (result.recipient_id, result.recipient_user_id) == ("15551234567", "")
    paced = parse_send_response(sample("response_success_template_paced.json"))
    assert (
        paced.provider_message_id
        == sample("response_success_template_paced.json")["messages"][0]["id"]
    )
    bsuid = parse_send_response(
        {
            "contacts": [{"input": "user.1", "wa_id": "", "user_id": "user.1"}],
            "messages": [{"id": "wamid.X"}],
        }
    )
    assert (bsuid.recipient_id, bsuid.recipient_user_id) == ("", "user.1")
    bad_bodies: list[Any] = [
        {},
        {"messages": []},
        {"messages": [{"id": ""}]},
        {"messages": "x"},
        "OK",
        None,
    ]
    for bad in bad_bodies:
        with pytest.raises(SendError) as info:
            parse_send_response(bad)
        assert info.value.kind is ErrorKind.PERMANENT  # providers/accepted.py


# -- real HTTP against the fake ----------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI(expected_token=TOKEN) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def assert_no_token(err: SendError) -> None:
    texts = [str(err), repr(err), err.title, err.details, *map(str, err.args)]
    texts.append(str(provider_error(err)))
    for text in texts:
        assert TOKEN not in text
        assert TOKEN[8:24] not in text


async def send_error(
    http: aiohttp.ClientSession, url: str, body: dict[str, Any], **kwargs: Any
) -> SendError:
    with pytest.raises(SendError) as info:
        await graph_post(http, url, kwargs.pop("token", TOKEN), body, **kwargs)
    assert_no_token(info.value)
    return info.value


def text_body(body: str = "hello") -> dict[str, Any]:
    return build_message_body(out(pb.Message(text=pb.TextContent(body=body))))


async def test_send_success_records_body_and_bearer(
    fake: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    assert fake.base_url == f"http://127.0.0.1:{fake.port}/v23.0"
    body = text_body()
    answer = await graph_post(http, fake.messages_url(PNID), TOKEN, body)
    result = parse_send_response(answer)
    assert result.provider_message_id.startswith("wamid.")
    assert result.recipient_id == "15551234567"
    assert answer["contacts"] == [{"input": "+15551234567", "wa_id": "15551234567"}]

    (request,) = fake.requests
    assert (request.method, request.path) == ("POST", f"/v23.0/{PNID}/messages")
    assert request.header("authorization") == f"Bearer {TOKEN}"
    assert request.header("Content-Type") == "application/json"
    assert request.json == body
    assert (request.status, request.response) == (200, answer)
    assert fake.messages() == [body]


async def test_wamids_are_unique_and_receipts_answer_success(
    fake: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    url = fake.messages_url(PNID)
    ids = {
        parse_send_response(
            await graph_post(http, url, TOKEN, text_body(str(i)))
        ).provider_message_id
        for i in range(5)
    }
    assert len(ids) == 5
    assert await graph_post(http, url, TOKEN, build_mark_read_body(WAMID)) == {"success": True}
    assert await graph_post(http, url, TOKEN, build_typing_body(WAMID)) == {"success": True}
    assert fake.read_receipts() == [build_mark_read_body(WAMID), build_typing_body(WAMID)]
    assert len(fake.messages()) == 5
    fake.clear()
    assert fake.requests == [] and fake.messages() == []


async def test_bsuid_recipient(fake: FakeGraphAPI, http: aiohttp.ClientSession) -> None:
    body = build_message_body(out(pb.Message(text=pb.TextContent(body="hi")), to="user.9373AB"))
    result = parse_send_response(await graph_post(http, fake.messages_url(PNID), TOKEN, body))
    assert (result.recipient_id, result.recipient_user_id) == ("", "user.9373AB")


async def test_injected_rate_limit(fake: FakeGraphAPI, http: aiohttp.ClientSession) -> None:
    fake.fail_next(130429, message="Rate limit hit", details="Cloud API message throughput")
    err = await send_error(http, fake.messages_url(PNID), text_body())
    assert (err.kind, err.code, err.http_status) == (ErrorKind.RATE_LIMITED, 130429, 400)
    assert (err.title, err.details) == ("Rate limit hit", "Cloud API message throughput")
    assert err.retry_after is None
    # Only one failure was queued: the retry goes through, and both were recorded.
    await graph_post(http, fake.messages_url(PNID), TOKEN, text_body())
    assert len(fake.messages()) == 2
    assert len(fake.messages(accepted_only=True)) == 1


async def test_pair_rate_limit_with_retry_after_header(
    fake: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    fake.fail_next(131056, times=2, headers={"Retry-After": "6"})
    for _ in range(2):
        err = await send_error(http, fake.messages_url(PNID), text_body())
        assert (err.kind, err.code, err.retry_after) == (ErrorKind.RATE_LIMITED, 131056, 6.0)


async def test_injected_reengagement_is_permanent(
    fake: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    fake.fail_next(131047, message="Re-engagement message")
    err = await send_error(http, fake.messages_url(PNID), text_body())
    assert (err.kind, err.code, err.title) == (ErrorKind.PERMANENT, 131047, "Re-engagement message")
    assert not err.retryable


async def test_expired_token(fake: FakeGraphAPI, http: aiohttp.ClientSession) -> None:
    fake.fail_next(190, http_status=401, message="Error validating access token")
    err = await send_error(http, fake.messages_url(PNID), text_body())
    assert (err.kind, err.code, err.http_status) == (ErrorKind.AUTH_EXPIRED, 190, 401)
    # A wrong token is refused by the fake's own auth check, Meta-style.
    err = await send_error(http, fake.messages_url(PNID), text_body(), token="wrong-token")
    assert (err.kind, err.code, err.http_status) == (ErrorKind.AUTH_EXPIRED, 190, 401)
    assert fake.requests[-1].header("Authorization") == "Bearer wrong-token"
    assert fake.messages(accepted_only=True) == []


async def test_http_500_with_non_json_body(fake: FakeGraphAPI, http: aiohttp.ClientSession) -> None:
    fake.fail_next_raw(500, "<html><body>Internal Server Error</body></html>")
    err = await send_error(http, fake.messages_url(PNID), text_body())
    assert (err.kind, err.code, err.http_status) == (ErrorKind.RETRYABLE, 0, 500)
    assert "Internal Server Error" in str(err)


async def test_invalid_body_is_refused_by_the_fake(
    fake: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    body = text_body()
    del body["to"]
    err = await send_error(http, fake.messages_url(PNID), body)
    assert (err.kind, err.code) == (ErrorKind.PERMANENT, 100)


async def test_connection_refused_is_retryable(http: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v23.0/{PNID}/messages"
    err = await send_error(http, url, text_body())
    assert err.kind is ErrorKind.RETRYABLE
    assert err.http_status == 0


async def test_timeout_is_retryable(fake: FakeGraphAPI, http: aiohttp.ClientSession) -> None:
    fake.delay = 0.5
    err = await send_error(http, fake.messages_url(PNID), text_body(), timeout=0.05)
    assert err.kind is ErrorKind.RETRYABLE
    assert "timed out" in str(err)


async def test_token_is_masked_even_if_the_server_echoes_it(
    fake: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    fake.fail_next(100, message=f"bad token {TOKEN}", details=f"token={TOKEN}")
    err = await send_error(http, fake.messages_url(PNID), text_body())
    assert "***" in err.title and "***" in err.details
    fake.fail_next_raw(503, f"upstream said Bearer {TOKEN}", content_type="text/plain")
    err = await send_error(http, fake.messages_url(PNID), text_body())
    assert err.kind is ErrorKind.RETRYABLE and "***" in str(err)
    # A proxy-style API key passed as an extra header is masked too.
    fake.expected_token = None
    fake.fail_next(100, message="key sk-proxy-key-123 rejected")
    err = await send_error(
        http, fake.messages_url(PNID), text_body(), headers={"X-API-Key": "sk-proxy-key-123"}
    )
    assert "sk-proxy-key-123" not in str(err) and "sk-proxy-key-123" not in err.title


async def test_wait_for_requests(fake: FakeGraphAPI, http: aiohttp.ClientSession) -> None:
    task = asyncio.create_task(graph_post(http, fake.messages_url(PNID), TOKEN, text_body()))
    requests = await fake.wait_for_requests(1)
    assert requests[0].json == text_body()
    await task
    with pytest.raises(TimeoutError):
        await fake.wait_for_requests(2, timeout=0.05)


async def test_fake_media_endpoints(fake: FakeGraphAPI, http: aiohttp.ClientSession) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    form = aiohttp.FormData()
    form.add_field("messaging_product", "whatsapp")
    form.add_field("type", "image/png")
    form.add_field("file", b"\x89PNG-bytes", filename="a.png", content_type="image/png")
    async with http.post(f"{fake.base_url}/{PNID}/media", data=form, headers=auth) as resp:
        assert resp.status == 200
        media_id = (await resp.json())["id"]
    assert set(sample("media_upload_response.json")) == {"id"}

    async with http.get(f"{fake.base_url}/{media_id}", headers=auth) as resp:
        info = await resp.json()
    assert set(info) == set(sample("media_get_url_response.json"))
    assert (info["id"], info["mime_type"], info["file_size"]) == (media_id, "image/png", "10")

    async with http.get(info["url"]) as resp:
        assert resp.status == 401  # like Meta, downloads need the token
    async with http.get(info["url"], headers=auth) as resp:
        assert (resp.status, await resp.read()) == (200, b"\x89PNG-bytes")
        assert resp.content_type == "image/png"

    async with http.delete(f"{fake.base_url}/{media_id}", headers=auth) as resp:
        assert await resp.json() == {"success": True}
    async with http.get(f"{fake.base_url}/{media_id}", headers=auth) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == 100
