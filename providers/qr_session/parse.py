"""QR-session engine webhooks -> `wagate.v1` events.

Two envelopes reach `POST /webhooks/qr/{session_id}`:

- a whatsapp-web.js bridge: `{"event": "<client event>", "data": {...}}`, where the
  event is one of the library's client events (https://docs.wwebjs.dev/Client.html)
  and `data` its arguments. whatsapp-web.js emits events inside its own Node process
  only, so this envelope is wagate's convention for a bridge that posts them
  (docs/providers.md, "Pointing a QR engine at wagate");
- WAHA: `{"id", "timestamp" (ms), "event": "<dotted name>", "session", "payload", ...}`
  (https://waha.devlike.pro/docs/how-to/events/).

Session events become `session_updated` (a SessionState: status, message, QR
string, loading percent); the stored state and the QR image are made after the
ack (storage.sessions). Message events become messages and statuses. Chat ids
map onto the contact: `<digits>@c.us` -> wa_id, `@lid` and `@g.us` (and other
servers) -> user_id as-is; group messages keep their group id and author.
Unknown events are logged and ignored (the raw body stays in the inbox).
Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

import orjson
from google.protobuf.timestamp_pb2 import Timestamp

from providers.base import PayloadError
from providers.readers import as_bool, as_dict, as_float, as_str, digits, int32, timestamp
from wagate.v1 import event_pb2, message_pb2

log = logging.getLogger("wagate.providers.qr_session")

PROVIDER = "qr_session"
M = message_pb2
E = event_pb2

S = E.SessionStatus
# whatsapp-web.js `WAState` (https://docs.wwebjs.dev/global.html#WAState) -> session status.
WA_STATES: dict[str, int] = {
    "CONNECTED": S.SESSION_STATUS_SESSION_CONNECTED,
    "OPENING": S.SESSION_STATUS_CONNECTING,
    "PAIRING": S.SESSION_STATUS_CONNECTING,
    "TIMEOUT": S.SESSION_STATUS_CONNECTING,
    "CONFLICT": S.SESSION_STATUS_SESSION_NOT_CONNECTED,
    "UNLAUNCHED": S.SESSION_STATUS_SESSION_NOT_CONNECTED,
    "UNPAIRED": S.SESSION_STATUS_SESSION_NOT_CONNECTED,
    "UNPAIRED_IDLE": S.SESSION_STATUS_SESSION_NOT_CONNECTED,
    "DEPRECATED_VERSION": S.SESSION_STATUS_ERROR,
    "PROXYBLOCK": S.SESSION_STATUS_ERROR,
    "SMB_TOS_BLOCK": S.SESSION_STATUS_ERROR,
    "TOS_BLOCK": S.SESSION_STATUS_ERROR,
}
# WAHA `session.status` values (https://waha.devlike.pro/docs/how-to/sessions/).
WAHA_STATUSES: dict[str, int] = {
    "STOPPED": S.SESSION_STATUS_SESSION_NOT_CONNECTED,
    "STARTING": S.SESSION_STATUS_CONNECTING,
    "SCAN_QR_CODE": S.SESSION_STATUS_QR_GENERATED,
    "WORKING": S.SESSION_STATUS_SESSION_CONNECTED,
    "FAILED": S.SESSION_STATUS_ERROR,
    "PASSKEY_REQUIRED": S.SESSION_STATUS_CONNECTING,
    "PASSKEY_CONFIRMATION_REQUIRED": S.SESSION_STATUS_CONNECTING,
}
# Delivery acks -1..4, the same in whatsapp-web.js (`MessageAck`,
# https://docs.wwebjs.dev/global.html#MessageAck) and WAHA (`message.ack`): error,
# pending, server, device, read, played.
ACKS: dict[int, int] = {
    -1: M.MESSAGE_STATUS_FAILED,
    0: M.MESSAGE_STATUS_PENDING,
    1: M.MESSAGE_STATUS_SENT,
    2: M.MESSAGE_STATUS_DELIVERED,
    3: M.MESSAGE_STATUS_READ,
    4: M.MESSAGE_STATUS_PLAYED,
}
_MEDIA_TYPES = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "ptt": "audio",
    "document": "document",
    "sticker": "sticker",
}
# Recorded as provider events; the gateway takes no action on them.
RECORDED_EVENTS = frozenset(
    {
        "group_join",
        "group_leave",
        "group_admin_changed",
        "group_update",
        "group_membership_request",
        "group.v2.join",
        "group.v2.leave",
        "group.v2.participants",
        "group.v2.update",
        "call.accepted",
        "call.rejected",
        "poll.vote",
        "poll.vote.failed",
    }
)


class _Delivery:
    """One decoded delivery: event name, data object and envelope time."""

    def __init__(self, payload: dict[str, Any], channel_id: str, session_id: str) -> None:
        self.channel_id = channel_id
        self.session_id = session_id
        self.name = as_str(payload.get("event"))
        self.waha = "payload" in payload
        self.data = as_dict(payload.get("payload") if self.waha else payload.get("data"))
        self.at = timestamp(payload.get("timestamp"), millis=True) if self.waha else None

    def event(self, **payload: Any) -> event_pb2.Event:
        return E.Event(channel_id=self.channel_id, occurred_at=self.at, **payload)


def parse_payload(payload: Any, *, channel_id: str, session_id: str) -> list[event_pb2.Event]:
    if not isinstance(payload, dict):
        raise PayloadError(f"payload must be a JSON object, got {type(payload).__name__}")
    if not isinstance(payload.get("event"), str) or not payload["event"]:
        raise PayloadError("'event' must be a non-empty string")
    if "payload" not in payload and "data" in payload and not isinstance(payload["data"], dict):
        raise PayloadError("'data' must be a JSON object")
    delivery = _Delivery(payload, channel_id, session_id)
    handler = _HANDLERS.get(delivery.name)
    if handler is not None:
        return handler(delivery)
    if delivery.name in RECORDED_EVENTS:
        return [_provider_event(delivery)]
    log.warning(
        "unknown QR engine event ignored",
        extra={"event": delivery.name[:100], "channel_id": channel_id},
    )
    return []


# -- session state -------------------------------------------------------------------------


def _session(d: _Delivery, status: int, message: str, **extra: Any) -> list[event_pb2.Event]:
    state = E.SessionState(
        session_id=d.session_id,
        channel_id=d.channel_id,
        status=status,  # type: ignore[arg-type]
        message=message,
        **extra,
    )
    return [d.event(session_updated=state)]


def _qr(d: _Delivery) -> list[event_pb2.Event]:
    qr = as_str(d.data.get("qr"))
    if not qr:
        raise PayloadError("'qr' event without a QR string")
    return _session(d, S.SESSION_STATUS_QR_GENERATED, "Scan the QR code with WhatsApp", qr=qr)


def _code(d: _Delivery) -> list[event_pb2.Event]:
    code = as_str(d.data.get("code"))
    return _session(d, S.SESSION_STATUS_QR_GENERATED, f"Enter the pairing code {code}".strip())


def _authenticated(d: _Delivery) -> list[event_pb2.Event]:
    return _session(d, S.SESSION_STATUS_SESSION_CONNECTED, "Authenticated")


def _ready(d: _Delivery) -> list[event_pb2.Event]:
    info = as_dict(d.data.get("info"))
    me = as_str(as_dict(info.get("wid")).get("_serialized")) or as_str(info.get("wid"))
    name = as_str(info.get("pushname"))
    who = " ".join(part for part in (name, f"({me})" if me else "") if part)
    return _session(d, S.SESSION_STATUS_SESSION_CONNECTED, f"Ready {who}".strip())


def _auth_failure(d: _Delivery) -> list[event_pb2.Event]:
    message = as_str(d.data.get("message")) or "Authentication failed"
    return _session(d, S.SESSION_STATUS_AUTH_FAILURE, message)


def _loading(d: _Delivery) -> list[event_pb2.Event]:
    percent = max(0, min(100, int32(d.data.get("percent"))))
    text = as_str(d.data.get("message")) or "WhatsApp"
    return _session(
        d, S.SESSION_STATUS_LOADING, f"Loading {text} {percent}%", loading_percent=percent
    )


def _mapped(d: _Delivery, key: str, table: dict[str, int], label: str) -> list[event_pb2.Event]:
    """A session event whose status is `table[data[key]]`; unknown values are logged."""
    value = as_str(d.data.get(key)).upper()
    status = table.get(value)
    if status is None:
        log.warning("unknown session state ignored", extra={"event": d.name, key: value[:40]})
        return []
    return _session(d, status, f"{label} {value}")


def _change_state(d: _Delivery) -> list[event_pb2.Event]:
    return _mapped(d, "state", WA_STATES, "State")


def _disconnected(d: _Delivery) -> list[event_pb2.Event]:
    reason = as_str(d.data.get("reason")) or "unknown reason"
    return _session(d, S.SESSION_STATUS_SESSION_NOT_CONNECTED, f"Disconnected: {reason}")


def _waha_status(d: _Delivery) -> list[event_pb2.Event]:
    return _mapped(d, "status", WAHA_STATUSES, "Session")


# -- identities ----------------------------------------------------------------------------


def message_id(value: Any) -> str:
    """A message id: WAHA sends the serialized string, whatsapp-web.js `{_serialized}`."""
    if isinstance(value, dict):
        return as_str(value.get("_serialized")) or as_str(value.get("id"))
    return as_str(value)


def identity(chat_id: str) -> message_pb2.Contact:
    """`<digits>@c.us` (or `@s.whatsapp.net`) -> wa_id; `@lid`, `@g.us` and the rest
    are opaque ids kept whole in user_id."""
    user, _, server = chat_id.partition("@")
    if server in ("c.us", "s.whatsapp.net") or (not server and user.isdigit()):
        return M.Contact(wa_id=digits(user))
    return M.Contact(user_id=chat_id)


def chat_in_id(serialized: str) -> str:
    """The chat id inside `<fromMe>_<chatId>_<id>[_<participant>]`, or ""."""
    parts = serialized.split("_")
    if len(parts) >= 3 and parts[0] in ("true", "false") and "@" in parts[1]:
        return parts[1]
    return ""


def _from_me(raw: dict[str, Any]) -> bool:
    return as_bool(raw.get("fromMe")) or as_bool(as_dict(raw.get("id")).get("fromMe"))


def _chat(raw: dict[str, Any]) -> str:
    """The other side of the chat: `to` for our own messages, else `from`."""
    return as_str(raw.get("to") if _from_me(raw) else raw.get("from"))


def _contact(raw: dict[str, Any]) -> message_pb2.Contact:
    contact = identity(_chat(raw))
    if not contact.user_id.endswith("@g.us") and not _from_me(raw):
        data = as_dict(raw.get("_data"))
        contact.name = as_str(data.get("notifyName")) or as_str(raw.get("notifyName"))
    return contact


def _ts(raw: dict[str, Any], d: _Delivery) -> Timestamp | None:
    return timestamp(raw.get("timestamp")) or d.at


# -- messages ------------------------------------------------------------------------------


def _base_message(
    raw: dict[str, Any], d: _Delivery, provider_message_id: str
) -> message_pb2.Message:
    from_me = _from_me(raw)
    chat = _chat(raw)
    msg = M.Message(
        channel_id=d.channel_id,
        provider=PROVIDER,
        provider_message_id=provider_message_id,
        contact=_contact(raw),
        direction=M.DIRECTION_OUTBOUND if from_me else M.DIRECTION_INBOUND,
        status=M.MESSAGE_STATUS_SENT if from_me else M.MESSAGE_STATUS_RECEIVED,
        timestamp=_ts(raw, d),
    )
    if chat.endswith("@g.us"):
        msg.group_id = chat
        msg.author = as_str(raw.get("author")) or as_str(raw.get("participant"))
    return msg


def _message(d: _Delivery) -> list[event_pb2.Event]:
    return _message_from(d.data, d)


def _message_from(raw: dict[str, Any], d: _Delivery) -> list[event_pb2.Event]:
    mid = message_id(raw.get("id"))
    if not mid:
        raise PayloadError(f"'{d.name}' without a message id")
    if _from_me(raw) and as_str(raw.get("source")) == "api":
        # Sent through the engine's API, i.e. by our outbox: the message is
        # already stored, so this echo only confirms it reached the engine.
        return [_status(d, mid, M.MESSAGE_STATUS_SENT, _chat(raw), _ts(raw, d))]
    msg = _base_message(raw, d, mid)
    field, content = _content(raw)
    getattr(msg, field).CopyFrom(content)
    context = _context(raw)
    if context is not None:
        msg.context.CopyFrom(context)
    return [d.event(message_new=msg)]


def _context(raw: dict[str, Any]) -> message_pb2.Context | None:
    reply = as_dict(raw.get("replyTo"))
    quoted = message_id(reply.get("id")) or message_id(raw.get("quotedMsgId"))
    score = int32(raw.get("forwardingScore"))
    forwarded = as_bool(raw.get("isForwarded")) or score > 0
    if not quoted and not forwarded:
        return None
    return M.Context(
        reply_to_id=quoted,
        reply_to_from=as_str(reply.get("participant")),
        forwarded=forwarded and score <= 4,
        frequently_forwarded=score > 4,
    )


def _message_type(raw: dict[str, Any]) -> str:
    return as_str(raw.get("type")) or as_str(as_dict(raw.get("_data")).get("type")) or "chat"


def _content(raw: dict[str, Any]) -> tuple[str, Any]:
    mtype = _message_type(raw)
    body = as_str(raw.get("body"))
    if mtype == "chat":
        return "text", M.TextContent(body=body)
    if mtype in _MEDIA_TYPES:
        media = as_dict(raw.get("media"))
        kind = _MEDIA_TYPES[mtype]
        return kind, M.MediaContent(
            url=as_str(media.get("url")),
            mime_type=as_str(media.get("mimetype")),
            filename=as_str(media.get("filename")),
            caption=body if kind in ("image", "video", "document") else "",
            voice=mtype == "ptt",
        )
    if mtype == "location":
        loc = as_dict(raw.get("location"))
        lat, lng = as_float(loc.get("latitude")), as_float(loc.get("longitude"))
        if lat is not None and lng is not None:
            return "location", M.LocationContent(
                latitude=lat,
                longitude=lng,
                name=as_str(loc.get("name")) or as_str(loc.get("description")),
                address=as_str(loc.get("address")),
                url=as_str(loc.get("url")),
            )
    if mtype in ("vcard", "multi_vcard"):
        raw_cards = raw.get("vCards")
        cards: list[Any] = raw_cards if isinstance(raw_cards, list) and raw_cards else [body]
        return "contacts", M.ContactsContent(contacts=[_vcard(as_str(c)) for c in cards])
    if mtype == "buttons_response":
        return "button_reply", M.ButtonReplyContent(
            id=as_str(raw.get("selectedButtonId")), title=body
        )
    if mtype == "list_response":
        return "list_reply", M.ListReplyContent(id=as_str(raw.get("selectedRowId")), title=body)
    return "unsupported", M.UnsupportedContent(type=mtype)


def _vcard(text: str) -> message_pb2.SharedContact:
    card = M.SharedContact()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        name = key.split(";", 1)[0].upper()
        if name == "FN":
            card.name.formatted_name = value.strip()
        elif name == "TEL":
            wa_id = next((p[6:] for p in key.split(";") if p.lower().startswith("waid=")), "")
            card.phones.append(M.SharedContactPhone(phone=value.strip(), wa_id=digits(wa_id)))
        elif name == "ORG":
            card.org.company = value.split(";", 1)[0].strip()
    return card


def _derived(
    d: _Delivery, raw: dict[str, Any], suffix: str, content: Any, kind: str, target: str
) -> list[event_pb2.Event]:
    """A message that is about another one (revoke, edit): its own id, the target in context."""
    mid = message_id(raw.get("id"))
    msg = _base_message(raw, d, f"{mid or target}#{suffix}")
    getattr(msg, kind).CopyFrom(content)
    msg.context.reply_to_id = target
    return [d.event(message_new=msg)]


def _revoke(d: _Delivery) -> list[event_pb2.Event]:
    if d.waha:
        raw = as_dict(d.data.get("after")) or as_dict(d.data.get("before"))
        target = message_id(raw.get("id")) or as_str(d.data.get("revokedMessageId"))
    else:
        raw = as_dict(d.data.get("message"))
        target = message_id(raw.get("id"))
    if not target:
        raise PayloadError("revoke without a message id")
    return _derived(d, raw, "revoked", M.SystemContent(type="revoked"), "system", target)


def _edit(d: _Delivery) -> list[event_pb2.Event]:
    raw = d.data if d.waha else as_dict(d.data.get("message"))
    body = as_str(d.data.get("body") if d.waha else d.data.get("newBody"))
    target = (as_str(d.data.get("editedMessageId")) if d.waha else "") or message_id(raw.get("id"))
    if not target:
        raise PayloadError("edit without a message id")
    suffix = "edited:" + hashlib.sha256(body.encode()).hexdigest()[:16]
    return _derived(d, raw, suffix, M.SystemContent(type="edited", body=body), "system", target)


def _reaction(d: _Delivery) -> list[event_pb2.Event]:
    raw = d.data
    if d.waha:
        reaction = as_dict(raw.get("reaction"))
        emoji, target = as_str(reaction.get("text")), as_str(reaction.get("messageId"))
        sender = as_str(raw.get("participant")) or as_str(raw.get("from"))
    else:
        emoji, target = as_str(raw.get("reaction")), message_id(raw.get("msgId"))
        sender = as_str(raw.get("senderId"))
    rid = message_id(raw.get("id"))
    if not target:
        raise PayloadError("reaction without the id of the message reacted to")
    # A removal ("") may reuse the reaction's id, so the emoji is part of the key.
    msg = _base_message(raw, d, f"{rid or target}#reaction:{emoji or 'removed'}")
    if not msg.group_id and not _from_me(raw) and sender:
        msg.contact.CopyFrom(identity(sender))
    msg.reaction.CopyFrom(M.ReactionContent(message_id=target, emoji=emoji))
    return [d.event(message_new=msg)]


def _call(d: _Delivery) -> list[event_pb2.Event]:
    raw = d.data
    call_id = as_str(raw.get("id"))
    if not call_id:
        raise PayloadError("call without an id")
    msg = _base_message(raw, d, f"call:{call_id}")
    what = "video" if as_bool(raw.get("isVideo")) else "voice"
    direction = "outgoing" if _from_me(raw) else "incoming"
    msg.system.CopyFrom(M.SystemContent(type="call", body=f"{direction} {what} call"))
    return [d.event(message_new=msg)]


# -- statuses ------------------------------------------------------------------------------


def _status(
    d: _Delivery, mid: str, status: int, chat: str, ts: Timestamp | None
) -> event_pb2.Event:
    who = identity(chat)
    update = M.StatusUpdate(
        provider_message_id=mid,
        status=status,  # type: ignore[arg-type]
        timestamp=ts,
        recipient_id=who.wa_id or who.user_id,
        recipient_user_id=who.user_id,
    )
    if status == M.MESSAGE_STATUS_FAILED:
        update.errors.append(M.ProviderError(title="ACK_ERROR", message="engine reported ack -1"))
    return d.event(message_status=update)


def _ack(d: _Delivery) -> list[event_pb2.Event]:
    raw = d.data if d.waha else as_dict(d.data.get("message"))
    ack = d.data.get("ack")
    status = ACKS.get(int32(ack)) if isinstance(ack, int) and not isinstance(ack, bool) else None
    mid = message_id(raw.get("id"))
    if status is None or not mid:
        raise PayloadError("message ack needs a message id and an ack from -1 to 4")
    if not _from_me(raw):
        return []  # acks of the customer's messages say nothing about ours
    # The envelope's time (WAHA); a message's own timestamp is its send time, not the ack's.
    # WAHA's ack `from` is the acknowledging side; the id names the chat reliably.
    return [_status(d, mid, status, chat_in_id(mid) or _chat(raw), d.at)]


# -- recorded notices ----------------------------------------------------------------------


def _provider_event(d: _Delivery) -> event_pb2.Event:
    chat = as_str(d.data.get("chatId")) or as_str(d.data.get("from"))
    notice = E.ProviderEvent(name=d.name, data_json=orjson.dumps(d.data).decode())
    if chat:
        notice.contact.CopyFrom(identity(chat))
    return d.event(provider_event=notice)


_HANDLERS: dict[str, Callable[[_Delivery], list[event_pb2.Event]]] = {
    # whatsapp-web.js client events, in the bridge envelope (docs/providers.md)
    "qr": _qr,
    "code": _code,
    "authenticated": _authenticated,
    "auth_failure": _auth_failure,
    "ready": _ready,
    "loading_screen": _loading,
    "change_state": _change_state,
    "disconnected": _disconnected,
    "message": _message,
    "message_create": _message,
    "message_ack": _ack,
    "message_revoke_everyone": _revoke,
    "message_edit": _edit,
    "message_reaction": _reaction,
    "call": _call,
    # WAHA events
    "session.status": _waha_status,
    "message.any": _message,
    "message.ack": _ack,
    "message.ack.group": _ack,
    "message.revoked": _revoke,
    "message.edited": _edit,
    "message.reaction": _reaction,
    "call.received": _call,
}
