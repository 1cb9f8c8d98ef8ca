"""Kapso and QR-session parsing details the contract suite does not pin down:
payload versions, envelopes, identities, status mapping and session states."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from providers.base import PayloadError, WebhookRequest
from providers.kapso.provider import KapsoProvider
from providers.qr_session.provider import QrSessionProvider
from tests.support.samples import sample_bytes
from wagate.v1 import event_pb2 as E
from wagate.v1 import message_pb2 as M

KAPSO = KapsoProvider.from_channel(
    "k", {"phone_number_id": "109876543210001", "webhook_secret": "s", "api_key": "a"}
)
QR = QrSessionProvider.from_channel("q", {"session_id": "main", "engine_base_url": "http://e"})


def kapso(body: Any, **headers: str) -> list[E.Event]:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    req = WebhookRequest(raw, {k.replace("_", "-"): v for k, v in headers.items()})
    return KAPSO.parse(req, KAPSO.decode(raw))


def qr(body: Any) -> list[E.Event]:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return QR.parse(WebhookRequest(raw), QR.decode(raw))


def test_kapso_batch_detected_from_the_body_alone() -> None:
    events = kapso(sample_bytes("kapso", "message_received_batch"))
    assert [e.message_new.text.body for e in events] == [
        "Hello",
        "are you there?",
        "I need help with order ABC123",
    ]


def test_kapso_bsuid_contact_without_from_or_phone() -> None:
    doc = json.loads(sample_bytes("kapso", "message_received_text"))
    del doc["message"]["from"]
    del doc["conversation"]["phone_number"]
    doc["conversation"]["business_scoped_user_id"] = "user.9373ABC"
    doc["conversation"]["username"] = "alex"
    (event,) = kapso(doc, x_webhook_event="whatsapp.message.received")
    contact = event.message_new.contact
    assert (contact.wa_id, contact.user_id, contact.username) == ("", "user.9373ABC", "alex")


def test_kapso_v1_legacy_payload_and_event_envelope() -> None:
    v1 = {
        "message": {
            "id": "kapso-uuid-1",
            "whatsapp_message_id": "wamid.V1",
            "message_type": "text",
            "content": "old style",
            "direction": "inbound",
            "origin": "cloud_api",
            "timestamp": "1767225660",
        },
        "conversation": {"phone_number": "+15551234567", "whatsapp_config_id": "cfg-1"},
        "whatsapp_config": {"id": "cfg-1", "phone_number_id": "109876543210001"},
    }
    (event,) = kapso({"event": "whatsapp.message.received", "data": v1})
    msg = event.message_new
    assert (msg.provider_message_id, msg.text.body, msg.contact.wa_id) == (
        "wamid.V1",
        "old style",
        "15551234567",
    )
    v1["whatsapp_config"]["phone_number_id"] = "42"
    with pytest.raises(PayloadError, match="42"):
        kapso(v1, x_webhook_event="whatsapp.message.received", x_webhook_payload_version="v1")


def test_kapso_status_without_history_uses_the_event_name() -> None:
    doc = json.loads(sample_bytes("kapso", "message_delivered"))
    del doc["message"]["kapso"]["statuses"]
    (event,) = kapso(doc, x_webhook_event="whatsapp.message.delivered")
    assert event.message_status.status == M.MESSAGE_STATUS_DELIVERED
    assert event.message_status.recipient_id == "15551234567"


def test_kapso_needs_an_event_name_and_an_object() -> None:
    with pytest.raises(PayloadError, match="event name"):
        kapso({"message": {}})
    with pytest.raises(PayloadError):
        kapso(b"[1, 2]")


@pytest.mark.parametrize(
    ("event", "data", "status"),
    [
        ("change_state", {"state": "OPENING"}, E.SESSION_STATUS_CONNECTING),
        ("change_state", {"state": "TOS_BLOCK"}, E.SESSION_STATUS_ERROR),
        ("change_state", {"state": "UNPAIRED_IDLE"}, E.SESSION_STATUS_SESSION_NOT_CONNECTED),
        ("authenticated", {}, E.SESSION_STATUS_SESSION_CONNECTED),
        ("auth_failure", {}, E.SESSION_STATUS_AUTH_FAILURE),
        ("loading_screen", {"percent": 250}, E.SESSION_STATUS_LOADING),
    ],
)
def test_qr_session_events(event: str, data: dict[str, Any], status: int) -> None:
    (out,) = qr({"event": event, "data": data})
    state = out.session_updated
    assert (state.status, state.session_id, state.channel_id) == (status, "main", "q")
    assert 0 <= state.loading_percent <= 100


def test_qr_acks_map_to_statuses_and_ignore_the_customers_messages() -> None:
    doc = json.loads(sample_bytes("wwebjs", "message_ack"))
    expected = {
        -1: M.MESSAGE_STATUS_FAILED,
        0: M.MESSAGE_STATUS_PENDING,
        1: M.MESSAGE_STATUS_SENT,
        2: M.MESSAGE_STATUS_DELIVERED,
        3: M.MESSAGE_STATUS_READ,
        4: M.MESSAGE_STATUS_PLAYED,
    }
    for ack, status in expected.items():
        doc["data"]["ack"] = ack
        (event,) = qr(doc)
        assert event.message_status.status == status
        assert event.message_status.recipient_id == "15551234567"
    doc["data"]["message"]["fromMe"] = False
    doc["data"]["message"]["id"]["fromMe"] = False
    assert qr(doc) == []
    doc["data"]["ack"] = 9
    with pytest.raises(PayloadError):
        qr(doc)


def test_qr_own_messages_are_outbound_and_api_echoes_are_statuses() -> None:
    (event,) = qr(sample_bytes("wwebjs", "message_create_fromme"))
    msg = event.message_new
    assert msg.direction == M.DIRECTION_OUTBOUND and msg.contact.wa_id == "15551234567"
    (echo,) = qr(sample_bytes("waha", "message_any_fromme_api"))
    assert echo.message_status.status == M.MESSAGE_STATUS_SENT


def test_qr_revoke_edit_and_call_are_their_own_messages() -> None:
    (revoke,) = qr(sample_bytes("wwebjs", "message_revoke_everyone"))
    (edit,) = qr(sample_bytes("wwebjs", "message_edit"))
    (call,) = qr(sample_bytes("waha", "call_received"))
    original = "false_15551234567@c.us_A1B2C3D4E5F60718293A4B5C6D7E8F90"
    assert revoke.message_new.system.type == "revoked"
    assert revoke.message_new.context.reply_to_id == original
    assert edit.message_new.system.body == "Hi, is my order ABC123 on its way?"
    assert edit.message_new.context.reply_to_id == original
    ids = {e.message_new.provider_message_id for e in (revoke, edit)}
    assert original not in ids and len(ids) == 2  # never collides with the original
    assert call.message_new.system.body == "incoming voice call"


def test_qr_unknown_event_is_ignored_and_bad_envelopes_are_refused() -> None:
    assert qr({"event": "presence.update", "payload": {}}) == []
    with pytest.raises(PayloadError):
        qr({"data": {}})
    with pytest.raises(PayloadError):
        qr({"event": "qr", "data": {}})  # a QR event without its QR
