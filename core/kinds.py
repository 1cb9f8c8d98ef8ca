"""The event-kind registry: one row per `Event.payload` field, read by every consumer.

A row holds what is true of a kind wherever it travels: its oneof field, its
`EventKind` enum value (the event log's `kind` column and the stream filter),
how to find its conversation, which events of it must be applied in order, and
how it is rendered for Socket.IO. Storage (`storage.events`), the stream hub
(`realtime.hub`), the Socket.IO server (`realtime.server`) and ingest
(`gateway.ingest`, which attaches the storage appliers) all read this table.
Adding a kind is the proto field plus one row here; docs/architecture.md shows how.

Pure: no I/O, and nothing of ours but the generated `wagate.v1` contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message as ProtoMessage

from wagate.v1 import event_pb2, message_pb2

Event = event_pb2.Event
# (Socket.IO event name, payload, conversation id or "")
SocketEvent = tuple[str, dict[str, Any], str]


def _no_conversation(event: Event) -> str:
    return ""


@dataclass(frozen=True)
class Kind:
    """What is true of one kind of event, wherever it travels."""

    field: str
    enum: int
    # The stored conversation id the event belongs to ("" for none): the filter of
    # streams and the Socket.IO `conversation:{id}` room.
    conversation: Callable[[Event], str] = _no_conversation
    # Who the event is about within its channel, before storage has assigned a
    # conversation: events with one key are applied in arrival order. None: every
    # event of the kind shares one key.
    party: Callable[[Event], str] | None = None
    # The Socket.IO event it is emitted as; None: not emitted.
    socket: Callable[[Event], SocketEvent] | None = None


def to_json(msg: ProtoMessage) -> dict[str, Any]:
    """The proto3 JSON mapping (lowerCamelCase names, enum names)."""
    result: dict[str, Any] = json_format.MessageToDict(msg)
    return result


def session_status(status: int) -> str:
    """SESSION_STATUS_QR_GENERATED -> "qr_generated", the REST session vocabulary."""
    return event_pb2.SessionStatus.Name(status).removeprefix("SESSION_STATUS_").lower()


# -- message_new -----------------------------------------------------------------------


def _party(field: str) -> Callable[[Event], str]:
    """Who an event is about, for payloads that carry the other side's `contact`."""

    def party(event: Event) -> str:
        c = getattr(event, field).contact
        return str(c.wa_id or c.user_id)

    return party


def _message_socket(event: Event) -> SocketEvent:
    m = event.message_new
    payload = {
        "event_id": event.id,
        "message": to_json(m),
        "conversationId": m.conversation_id,
        "contactId": m.contact.wa_id or m.contact.user_id,
    }
    return "message:new", payload, m.conversation_id


# -- message_status --------------------------------------------------------------------


def _status_party(event: Event) -> str:
    s = event.message_status
    return "".join(ch for ch in s.recipient_id if ch.isdigit()) or s.recipient_user_id


def _status_socket(event: Event) -> SocketEvent:
    s = event.message_status
    payload: dict[str, Any] = {
        "event_id": event.id,
        "messageId": s.message_id,
        "providerMessageId": s.provider_message_id,
        "status": message_pb2.MessageStatus.Name(s.status),
        "conversationId": s.conversation_id,
    }
    if s.errors:
        payload["error"] = to_json(s.errors[0])
    return "message:status", payload, s.conversation_id


# -- session_updated -------------------------------------------------------------------


def _session_socket(event: Event) -> SocketEvent:
    q = event.session_updated
    payload: dict[str, Any] = {
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
        payload["qr"] = q.qr
    if q.qr_image:
        payload["qrImage"] = q.qr_image
    return "session:updated", payload, ""


# -- typing ----------------------------------------------------------------------------


def _typing_socket(event: Event) -> SocketEvent:
    t = event.typing
    name = "typing:start" if t.active else "typing:stop"
    return name, {"event_id": event.id, "conversationId": t.conversation_id}, t.conversation_id


# -- message_updated / message_deleted --------------------------------------------------


def _updated_socket(event: Event) -> SocketEvent:
    m = event.message_updated
    payload = {"event_id": event.id, "message": to_json(m), "conversationId": m.conversation_id}
    return "message:updated", payload, m.conversation_id


def _deleted_socket(event: Event) -> SocketEvent:
    d = event.message_deleted
    payload = {
        "event_id": event.id,
        "messageId": d.message_id,
        "providerMessageId": d.provider_message_id,
        "conversationId": d.conversation_id,
    }
    return "message:deleted", payload, d.conversation_id


# -- account_updated / template_updated (business-account level) -----------------------


def _account_socket(event: Event) -> SocketEvent:
    a = event.account_updated
    payload: dict[str, Any] = {"event_id": event.id}
    if event.channel_id:
        payload["channelId"] = event.channel_id
    payload |= {"wabaId": a.waba_id, "event": a.event, "details": to_json(a.details)}
    return "account:updated", payload, ""


def _template_socket(event: Event) -> SocketEvent:
    t = event.template_updated
    payload: dict[str, Any] = {
        "event_id": event.id,
        "wabaId": t.waba_id,
        "templateId": t.template_id,
        "name": t.name,
        "language": t.language,
    }
    for key in ("status", "quality", "category", "reason"):
        if value := getattr(t, key):
            payload[key] = value
    return "template:updated", payload, ""


# -- contact_updated / call (conversation events that are not messages) ----------------


def _contact_socket(event: Event) -> SocketEvent:
    u = event.contact_updated
    payload = {
        "event_id": event.id,
        "contact": to_json(u.contact),
        "conversationId": u.conversation_id,
        "category": u.category,
        "value": u.value,
    }
    return "contact:updated", payload, u.conversation_id


def _call_socket(event: Event) -> SocketEvent:
    c = event.call
    payload = {"event_id": event.id, "call": to_json(c), "conversationId": c.conversation_id}
    return "call:updated", payload, c.conversation_id


# -- the table -------------------------------------------------------------------------

E = event_pb2.EventKind

MESSAGE_NEW = Kind(
    "message_new",
    E.EVENT_KIND_MESSAGE_NEW,
    conversation=lambda event: event.message_new.conversation_id,
    party=_party("message_new"),
    socket=_message_socket,
)
MESSAGE_STATUS = Kind(
    "message_status",
    E.EVENT_KIND_MESSAGE_STATUS,
    conversation=lambda event: event.message_status.conversation_id,
    party=_status_party,
    socket=_status_socket,
)
SESSION_UPDATED = Kind("session_updated", E.EVENT_KIND_SESSION_UPDATED, socket=_session_socket)
TYPING = Kind(
    "typing",
    E.EVENT_KIND_TYPING,
    conversation=lambda event: event.typing.conversation_id,
    socket=_typing_socket,
)
PROVIDER_EVENT = Kind("provider_event", E.EVENT_KIND_PROVIDER_EVENT)
MESSAGE_UPDATED = Kind(
    "message_updated",
    E.EVENT_KIND_MESSAGE_UPDATED,
    conversation=lambda event: event.message_updated.conversation_id,
    party=_party("message_updated"),
    socket=_updated_socket,
)
MESSAGE_DELETED = Kind(
    "message_deleted",
    E.EVENT_KIND_MESSAGE_DELETED,
    conversation=lambda event: event.message_deleted.conversation_id,
    party=_party("message_deleted"),
    socket=_deleted_socket,
)
ACCOUNT_UPDATED = Kind("account_updated", E.EVENT_KIND_ACCOUNT_UPDATED, socket=_account_socket)
TEMPLATE_UPDATED = Kind("template_updated", E.EVENT_KIND_TEMPLATE_UPDATED, socket=_template_socket)
CONTACT_UPDATED = Kind(
    "contact_updated",
    E.EVENT_KIND_CONTACT_UPDATED,
    conversation=lambda event: event.contact_updated.conversation_id,
    party=_party("contact_updated"),
    socket=_contact_socket,
)
CALL = Kind(
    "call",
    E.EVENT_KIND_CALL,
    conversation=lambda event: event.call.conversation_id,
    party=_party("call"),
    socket=_call_socket,
)

KINDS: tuple[Kind, ...] = (
    MESSAGE_NEW,
    MESSAGE_STATUS,
    SESSION_UPDATED,
    TYPING,
    PROVIDER_EVENT,
    MESSAGE_UPDATED,
    MESSAGE_DELETED,
    ACCOUNT_UPDATED,
    TEMPLATE_UPDATED,
    CONTACT_UPDATED,
    CALL,
)
BY_FIELD: dict[str, Kind] = {kind.field: kind for kind in KINDS}


# -- what consumers call ---------------------------------------------------------------


def kind_of(event: Event) -> Kind | None:
    """The event's row; None for an event without a payload."""
    field = event.WhichOneof("payload")
    return BY_FIELD.get(field) if field else None


def enum_of(event: Event) -> int:
    """The event's `EventKind` value (EVENT_KIND_UNSPECIFIED without a payload)."""
    kind = kind_of(event)
    return kind.enum if kind else E.EVENT_KIND_UNSPECIFIED


def conversation_of(event: Event) -> str:
    """The stored conversation the event belongs to; "" for none."""
    kind = kind_of(event)
    return kind.conversation(event) if kind else ""


def ordering_key(event: Event) -> str:
    """Events of one party on one channel share a key, so they are applied in order."""
    kind = kind_of(event)
    if kind is None:
        who = ""
    elif kind.party is None:
        who = kind.field
    else:
        who = kind.party(event)
    return f"{event.channel_id}|{who}"


def socket_event(event: Event) -> SocketEvent | None:
    """(event name, payload, conversation id or "") for Socket.IO; None if not emitted."""
    kind = kind_of(event)
    return kind.socket(event) if kind and kind.socket else None
