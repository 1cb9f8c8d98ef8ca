"""Sending through a WAHA-compatible engine HTTP API
(https://waha.devlike.pro/docs/how-to/send-messages/).

`build_request` is pure: a `wagate.v1` message in, the method, path and JSON body
out. `engine_call` does the HTTP call with `X-Api-Key` and turns failures into a
classified `SendError`; the API key never appears in an error text.
"""

from __future__ import annotations

import mimetypes
import secrets
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from providers.accepted import accepted_without_id
from providers.base import (
    SESSION_ACTIONS,
    ErrorKind,
    OutboundMessage,
    SendError,
    SendResult,
    UnsupportedContent,
)
from providers.qr_session.parse import chat_in_id
from providers.readers import as_dict, as_str, digits
from wagate.v1 import message_pb2

Request = tuple[str, str, dict[str, Any]]

_MEDIA_ENDPOINTS = {
    "image": "/api/sendImage",
    "video": "/api/sendVideo",
    "document": "/api/sendFile",
    "sticker": "/api/sendFile",
}
_DEFAULT_MIME = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/ogg; codecs=opus",
    "document": "application/octet-stream",
    "sticker": "image/webp",
}


def chat_id(to: str) -> str:
    """A chat id for `to`: a full chat id (`…@c.us`, `…@lid`, `…@g.us`) as it is,
    a phone number as `<digits>@c.us`."""
    value = to.strip()
    if "@" in value:
        return value
    number = digits(value)
    if not number or value.startswith("user."):
        raise UnsupportedContent(f"QR engines need a phone number or a chat id, not '{to}'")
    return f"{number}@c.us"


def session_request(action: str, session: str) -> Request:
    """Start, stop or log out an engine session."""
    if action not in SESSION_ACTIONS:
        raise UnsupportedContent(f"unknown session action '{action[:20]}'")
    return "POST", f"/api/sessions/{quote(session, safe='')}/{action}", {}


def chat_of_message(provider_message_id: str) -> str:
    """The chat id inside a serialized message id `<fromMe>_<chatId>_<id>[_<participant>]`."""
    chat = chat_in_id(provider_message_id)
    if not chat:
        raise UnsupportedContent(f"cannot tell the chat of message id '{provider_message_id}'")
    return chat


def build_request(out: OutboundMessage, session: str) -> Request:
    """The engine call for `out`; UnsupportedContent if the engine cannot send it."""
    msg = out.message
    kind = msg.WhichOneof("content")
    if kind is None:
        raise UnsupportedContent("message has no content")
    if kind == "reaction":
        if not msg.reaction.message_id:
            raise UnsupportedContent("reaction needs the id of the message reacted to")
        body = {"session": session, "messageId": msg.reaction.message_id}
        return "PUT", "/api/reaction", body | {"reaction": msg.reaction.emoji}
    body = {"session": session, "chatId": chat_id(out.to)}
    path, fields = _content(kind, msg)
    body |= fields
    if msg.HasField("context") and msg.context.reply_to_id:
        body["reply_to"] = msg.context.reply_to_id
    return "POST", path, body


def _content(kind: str, msg: message_pb2.Message) -> tuple[str, dict[str, Any]]:
    if kind == "text":
        if not msg.text.body:
            raise UnsupportedContent("text message has an empty body")
        return "/api/sendText", {"text": msg.text.body, "linkPreview": msg.text.preview_url}
    if kind in ("image", "video", "document", "sticker", "audio"):
        media: message_pb2.MediaContent = getattr(msg, kind)
        path = "/api/sendVoice" if kind == "audio" and media.voice else _MEDIA_ENDPOINTS.get(kind)
        fields: dict[str, Any] = {"file": _file(kind, media)}
        if media.caption and kind in ("image", "video", "document"):
            fields["caption"] = media.caption
        return path or "/api/sendFile", fields
    if kind == "location":
        loc = msg.location
        return "/api/sendLocation", {
            "latitude": loc.latitude,
            "longitude": loc.longitude,
            "title": loc.name or loc.address,
        }
    if kind == "contacts":
        if not msg.contacts.contacts:
            raise UnsupportedContent("contacts message has no contact cards")
        return "/api/sendContactVcard", {"contacts": [_card(c) for c in msg.contacts.contacts]}
    raise UnsupportedContent(f"QR engines cannot send '{kind}' content")


def _file(kind: str, media: message_pb2.MediaContent) -> dict[str, Any]:
    if not media.link:
        raise UnsupportedContent(f"{kind} on a QR engine needs a media link, not a media id")
    mime = media.mime_type or mimetypes.guess_type(media.link)[0] or _DEFAULT_MIME[kind]
    file: dict[str, Any] = {"url": media.link, "mimetype": mime}
    filename = media.filename or media.link.rsplit("/", 1)[-1].split("?", 1)[0]
    if filename:
        file["filename"] = filename
    return file


def _card(card: message_pb2.SharedContact) -> dict[str, Any]:
    name = card.name.formatted_name or " ".join(
        p for p in (card.name.first_name, card.name.last_name) if p
    )
    if not name:
        raise UnsupportedContent("contact card needs a name")
    phone = card.phones[0] if card.phones else message_pb2.SharedContactPhone()
    return {
        "fullName": name,
        "organization": card.org.company,
        "phoneNumber": phone.phone,
        "whatsappId": phone.wa_id or digits(phone.phone),
    }


def seen_request(provider_message_id: str, session: str) -> Request:
    body = {
        "session": session,
        "chatId": chat_of_message(provider_message_id),
        "messageIds": [provider_message_id],
    }
    return "POST", "/api/sendSeen", body


def typing_request(to: str, session: str, *, active: bool = True) -> Request:
    path = "/api/startTyping" if active else "/api/stopTyping"
    return "POST", path, {"session": session, "chatId": chat_id(to)}


# -- HTTP --------------------------------------------------------------------------------


def classify(status: int, body: Any) -> SendError:
    text = body if isinstance(body, str) else orjson.dumps(body).decode() if body else ""
    detail = " ".join(text.split())[:200]
    message = f"QR engine answered HTTP {status}" + (f": {detail}" if detail else "")
    if status in (401, 403):
        kind = ErrorKind.AUTH_EXPIRED
    elif status == 429:
        kind = ErrorKind.RATE_LIMITED
    elif status >= 500 or status in (408, 409):
        kind = ErrorKind.RETRYABLE
    else:
        kind = ErrorKind.PERMANENT
    return SendError(kind, message, http_status=status, details=detail)


async def engine_call(
    http: aiohttp.ClientSession,
    base_url: str,
    api_key: str,
    request: Request,
    *,
    timeout: float = 15.0,  # noqa: ASYNC109 -- a per-call aiohttp ClientTimeout
) -> Any:
    """Make `request` against the engine; the decoded JSON (or None) on 2xx."""
    method, path, body = request
    url = base_url.rstrip("/") + path
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        headers["X-Api-Key"] = api_key
    try:
        async with http.request(
            method,
            url,
            data=orjson.dumps(body),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=False,
        ) as resp:
            status, raw = resp.status, await resp.read()
    except TimeoutError:
        raise SendError(
            ErrorKind.RETRYABLE, f"timed out after {timeout:g}s: {method} {url}"
        ) from None
    except aiohttp.ClientError as exc:
        text = f"network error: {method} {url}: {type(exc).__name__}: {exc}"
        raise SendError(
            ErrorKind.RETRYABLE, text.replace(api_key, "***") if api_key else text
        ) from None
    try:
        decoded: Any = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        decoded = raw.decode("utf-8", "replace")
    if 200 <= status < 300:
        return decoded
    raise classify(status, decoded)


def sent_message_id(body: Any) -> str:
    """The new message's id in a send answer: `id` as a string or `{_serialized}`
    (WEBJS), or `key.id` (NOWEB/GOWS)."""
    obj = as_dict(body)
    ident = obj.get("id")
    if isinstance(ident, dict):
        return as_str(ident.get("_serialized")) or as_str(ident.get("id"))
    return (
        as_str(ident)
        or as_str(as_dict(obj.get("key")).get("id"))
        or as_str(as_dict(as_dict(obj.get("_data")).get("id")).get("_serialized"))
    )


def send_result(request: Request, body: Any) -> SendResult:
    """The engine's 2xx answer to `request` -> SendResult. An answer without a message
    id fails the send for good (`accepted_without_id`), except for a reaction: engines
    answer `PUT /api/reaction` without one, so it gets an id of its own."""
    ident = sent_message_id(body)
    if not ident:
        if request[1] != "/api/reaction":
            raise accepted_without_id("QR engine")
        ident = f"reaction_{secrets.token_hex(12)}"
    chat = as_str(request[2].get("chatId"))
    return SendResult(provider_message_id=ident, recipient_id=digits(chat.split("@")[0]))
