"""Kapso webhooks -> `wagate.v1` events
(https://docs.kapso.ai/docs/platform/webhooks/overview, and the event payloads at
https://docs.kapso.ai/docs/platform/webhooks/message-events).

Three body shapes reach one channel URL:

- Kapso event webhooks, payload v2 (`phone_number_id` at the root, a Meta-shaped
  `message` with a `kapso` extension) or legacy v1 (`whatsapp_config`, and
  `message_type`/`content` on the message); single or batched
  (`X-Webhook-Batch: true` or `"batch": true`, items in `data`). The event name is
  the `X-Webhook-Event` header, or the body's `type` (batches) or `event`.
- Meta-forwarded webhooks: exactly Meta's payload, parsed by the Meta parser.

Meta-shaped message and status objects are read by `providers.meta_cloud.parse`,
so nothing is parsed twice in two ways. Pure: no I/O, no clock. Never assumes
`from`, `wa_id` or `phone_number` exist (BSUID users).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson

from providers.base import PayloadError
from providers.meta_cloud import parse as meta
from providers.readers import as_dict, as_dicts, as_str, digits, timestamp
from wagate.v1 import event_pb2, message_pb2

log = logging.getLogger("wagate.providers.kapso")

PROVIDER = "kapso"

MESSAGE_RECEIVED = "whatsapp.message.received"
# Outbound lifecycle events and the status each one reports.
STATUS_EVENTS: dict[str, message_pb2.MessageStatus] = {
    "whatsapp.message.sent": message_pb2.MESSAGE_STATUS_SENT,
    "whatsapp.message.delivered": message_pb2.MESSAGE_STATUS_DELIVERED,
    "whatsapp.message.read": message_pb2.MESSAGE_STATUS_READ,
    "whatsapp.message.failed": message_pb2.MESSAGE_STATUS_FAILED,
}
# Recorded as provider events; the gateway takes no action on them.
RECORDED_EVENTS = frozenset(
    {
        "whatsapp.conversation.created",
        "whatsapp.conversation.ended",
        "whatsapp.conversation.inactive",
        "whatsapp.phone_number.created",
        "whatsapp.phone_number.deleted",
        "whatsapp.config.created",
        "workflow.execution.handoff",
        "workflow.execution.failed",
    }
)


def is_meta_forward(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("object") == meta.OBJECT


def parse_payload(
    payload: Any, headers: Mapping[str, str], *, channel_id: str, phone_number_id: str
) -> list[event_pb2.Event]:
    """Every event of one delivery, in payload order."""
    if not isinstance(payload, dict):
        raise PayloadError(f"payload must be a JSON object, got {type(payload).__name__}")
    if is_meta_forward(payload):
        return meta.parse_payload(
            payload,
            channel_id=channel_id,
            phone_number_id=phone_number_id,
            provider=PROVIDER,
            with_accounts=True,
        )
    name = _event_name(payload, headers)
    if not name:
        raise PayloadError("no event name: expected an X-Webhook-Event header or a 'type' key")
    events: list[event_pb2.Event] = []
    for item in _items(payload, headers):
        _check_number(item, phone_number_id)
        events += _parse_item(name, item, channel_id)
    return events


def _event_name(payload: dict[str, Any], headers: Mapping[str, str]) -> str:
    return (
        headers.get("x-webhook-event")
        or as_str(payload.get("type"))
        or as_str(payload.get("event"))
    ).strip()


def _items(payload: dict[str, Any], headers: Mapping[str, str]) -> list[dict[str, Any]]:
    if headers.get("x-webhook-batch", "").lower() == "true" or payload.get("batch") is True:
        if not isinstance(payload.get("data"), list):
            raise PayloadError("a batched delivery needs a 'data' list")
        return as_dicts(payload["data"])
    # Legacy `{"event", "data"}` envelope.
    if "event" in payload and isinstance(payload.get("data"), dict):
        return [payload["data"]]
    return [payload]


def _phone_number_id(item: dict[str, Any]) -> str:
    """v2 carries it at the root; v1 in `whatsapp_config`."""
    return as_str(item.get("phone_number_id")) or as_str(
        as_dict(item.get("whatsapp_config")).get("phone_number_id")
    )


def _check_number(item: dict[str, Any], phone_number_id: str) -> None:
    number = _phone_number_id(item)
    if number and number != phone_number_id:
        raise PayloadError(
            f"payload is for phone number {number}, this channel is {phone_number_id}"
        )


def _parse_item(name: str, item: dict[str, Any], channel_id: str) -> list[event_pb2.Event]:
    if name == MESSAGE_RECEIVED:
        return [_message_event(item, channel_id)]
    if name in STATUS_EVENTS:
        return _status_events(item, STATUS_EVENTS[name], channel_id)
    if name in RECORDED_EVENTS:
        return [_provider_event(name, item, channel_id)]
    log.warning("unknown Kapso event ignored", extra={"event": name, "channel_id": channel_id})
    return []


# -- identity ---------------------------------------------------------------------------


def _contact(item: dict[str, Any]) -> message_pb2.Contact:
    """The customer, from whichever of Kapso's fields are present (all are optional)."""
    message = as_dict(item.get("message"))
    kapso = as_dict(message.get("kapso"))
    conversation = as_dict(item.get("conversation"))
    wa_id = (
        digits(message.get("from"))
        or digits(conversation.get("phone_number"))
        or digits(kapso.get("phone_number"))
        or digits(message.get("phone_number"))
    )
    return message_pb2.Contact(
        wa_id=wa_id,
        user_id=as_str(message.get("from_user_id"))
        or as_str(conversation.get("business_scoped_user_id")),
        name=as_str(as_dict(conversation.get("kapso")).get("contact_name"))
        or as_str(conversation.get("contact_name")),
        username=as_str(conversation.get("username")),
    )


# -- messages ---------------------------------------------------------------------------


def _message_event(item: dict[str, Any], channel_id: str) -> event_pb2.Event:
    raw = as_dict(item.get("message"))
    if "message_type" in raw and "type" not in raw:
        raw = _v1_message(raw)
    event = meta.message_event(raw, _contact(item), channel_id, PROVIDER)
    media = as_dict(as_dict(raw.get("kapso")).get("media_data"))
    kind = event.message_new.WhichOneof("content")
    if media and kind in ("image", "video", "audio", "document", "sticker"):
        content: message_pb2.MediaContent = getattr(event.message_new, kind)
        # Kapso hosts a copy of the media; keep its URL and metadata.
        content.url = content.url or as_str(media.get("url"))
        content.mime_type = content.mime_type or as_str(media.get("content_type"))
        content.filename = content.filename or as_str(media.get("filename"))
    return event


def _v1_message(raw: dict[str, Any]) -> dict[str, Any]:
    """A legacy v1 message (`message_type`, `content`) in Meta's shape."""
    mtype = as_str(raw.get("message_type")) or "text"
    shaped: dict[str, Any] = {
        "id": as_str(raw.get("whatsapp_message_id")) or as_str(raw.get("id")),
        "timestamp": raw.get("timestamp"),
        "type": mtype,
    }
    if mtype == "text":
        shaped["text"] = {"body": as_str(raw.get("content"))}
    else:
        shaped[mtype] = as_dict(raw.get("message_type_data")) or {
            "caption": as_str(raw.get("content"))
        }
    return shaped


# -- statuses ---------------------------------------------------------------------------


def _status_events(
    item: dict[str, Any], status: message_pb2.MessageStatus, channel_id: str
) -> list[event_pb2.Event]:
    """Every status in `kapso.statuses` (raw Meta objects, oldest first), or the
    event's own status when Kapso sent no history."""
    message = as_dict(item.get("message"))
    kapso = as_dict(message.get("kapso"))
    events = [
        event
        for raw in as_dicts(kapso.get("statuses"))
        if (event := meta.status_event(raw, channel_id)) is not None
    ]
    if any(e.message_status.status == status for e in events):
        return events
    message_id = as_str(message.get("whatsapp_message_id")) or as_str(message.get("id"))
    if not message_id:
        raise PayloadError("status event without a message id")
    ts = timestamp(message.get("timestamp"))
    contact = _contact(item)
    update = message_pb2.StatusUpdate(
        provider_message_id=message_id,
        status=status,
        timestamp=ts,
        recipient_id=contact.wa_id,
        recipient_user_id=contact.user_id,
        provider_conversation_id=as_str(as_dict(item.get("conversation")).get("id")),
    )
    return [*events, event_pb2.Event(channel_id=channel_id, occurred_at=ts, message_status=update)]


# -- recorded notices -------------------------------------------------------------------


def _provider_event(name: str, item: dict[str, Any], channel_id: str) -> event_pb2.Event:
    conversation = as_dict(item.get("conversation"))
    notice = event_pb2.ProviderEvent(
        name=name,
        provider_conversation_id=as_str(conversation.get("id")),
        data_json=orjson.dumps(item).decode(),
    )
    if conversation:
        notice.contact.CopyFrom(_contact(item))
    return event_pb2.Event(channel_id=channel_id, provider_event=notice)
