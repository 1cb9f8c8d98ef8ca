"""Socket.IO events and payloads for wagate.v1 events, as CONTRACT.md fixes them."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from wagate.v1 import event_pb2, message_pb2


def to_json(msg: Any) -> dict[str, Any]:
    """The proto3 JSON mapping (lowerCamelCase names, enum names)."""
    result: dict[str, Any] = json_format.MessageToDict(msg)
    return result


def session_status(status: int) -> str:
    """SESSION_STATUS_QR_GENERATED -> "qr_generated", the REST session vocabulary."""
    return event_pb2.SessionStatus.Name(status).removeprefix("SESSION_STATUS_").lower()


def socket_event(event: event_pb2.Event) -> tuple[str, dict[str, Any], str] | None:
    """(event name, payload, conversation id or "") for one event; None if not sent."""
    kind = event.WhichOneof("payload")
    if kind == "message_new":
        m = event.message_new
        return (
            "message:new",
            {
                "event_id": event.id,
                "message": to_json(m),
                "conversationId": m.conversation_id,
                "contactId": m.contact.wa_id or m.contact.user_id,
            },
            m.conversation_id,
        )
    if kind == "message_status":
        s = event.message_status
        status: dict[str, Any] = {
            "event_id": event.id,
            "messageId": s.message_id,
            "providerMessageId": s.provider_message_id,
            "status": message_pb2.MessageStatus.Name(s.status),
            "conversationId": s.conversation_id,
        }
        if s.errors:
            status["error"] = to_json(s.errors[0])
        return "message:status", status, s.conversation_id
    if kind == "typing":
        t = event.typing
        name = "typing:start" if t.active else "typing:stop"
        return name, {"event_id": event.id, "conversationId": t.conversation_id}, t.conversation_id
    if kind == "session_updated":
        q = event.session_updated
        session: dict[str, Any] = {
            "event_id": event.id,
            "sessionId": q.session_id,
            "status": session_status(q.status),
            "message": q.message,
            "isConnected": q.is_connected,
            "needsQR": q.needs_qr,
            "isLoading": q.is_loading,
            "hasError": q.has_error,
        }
        if q.qr:
            session["qr"] = q.qr
        if q.qr_image:
            session["qrImage"] = q.qr_image
        return "session:updated", session, ""
    return None
