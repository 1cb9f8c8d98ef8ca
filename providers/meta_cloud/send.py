"""Meta WhatsApp Cloud API sending: Graph "messages" bodies, calls and errors.

`build_*` functions are pure: a `wagate.v1` message in, the JSON body Meta documents
out (https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages,
and for read receipts and typing
https://developers.facebook.com/documentation/business-messaging/whatsapp/typing-indicators).
`graph_post` does the HTTP call and turns every failure into a `SendError` whose kind
comes from Meta's error code (`providers/meta_cloud/errors.py`), else from the HTTP
status (`classify_error`). The access token goes into the Authorization header only;
it is masked out of every error text.
"""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson

from providers.accepted import accepted_without_id
from providers.base import ErrorKind, OutboundMessage, SendError, SendResult, UnsupportedContent
from providers.limits import MAX_BUTTONS, MAX_ROWS, MAX_SECTIONS
from providers.meta_cloud.errors import kind_of
from wagate.v1 import message_pb2

# Anything that is not a phone number (digits and the separators Meta accepts) is an
# opaque recipient id, e.g. a BSUID "user.9373...", and is sent unchanged.
_PHONE = re.compile(r"\+?[\d\s\-()]+")
_WHITESPACE = re.compile(r"\s+")
# Meta's synchronous error messages read "(#131047) Re-engagement message".
_CODE_PREFIX = re.compile(r"^\(#\d+\)\s*")
_MEDIA_KINDS = ("image", "video", "document", "audio", "sticker")
_HEADER_MEDIA_KINDS = ("image", "video", "document")
# Extra request headers whose values are secrets (masked like the token).
_SECRET_HEADER_HINTS = ("authorization", "key", "token", "secret")


# -- recipients ----------------------------------------------------------------------


def normalize_recipient(to: str) -> str:
    """`to` as Meta wants it: phone numbers as "+<digits>", BSUIDs and other ids unchanged."""
    value = to.strip()
    if not value:
        raise UnsupportedContent("recipient is empty")
    if value.startswith("user.") or not _PHONE.fullmatch(value):
        return value
    value = _WHITESPACE.sub("", value)
    return value if value.startswith("+") else "+" + value


# -- message bodies ------------------------------------------------------------------


def build_message_body(out: OutboundMessage) -> dict[str, Any]:
    """The Graph `/messages` body for `out`; UnsupportedContent if Meta cannot send it."""
    msg = out.message
    kind = msg.WhichOneof("content")
    if kind is None:
        raise UnsupportedContent("message has no content")
    meta_type, payload = _content(kind, msg)
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": normalize_recipient(out.to),
    }
    # Meta does not accept a reaction as a contextual reply, so its context is dropped.
    if kind != "reaction" and msg.HasField("context") and msg.context.reply_to_id:
        body["context"] = {"message_id": msg.context.reply_to_id}
    body["type"] = meta_type
    body[meta_type] = payload
    return body


def _content(kind: str, msg: message_pb2.Message) -> tuple[str, Any]:
    match kind:
        case "text":
            return "text", _text(msg.text)
        case "image" | "video" | "document" | "audio" | "sticker":
            return kind, _media(kind, getattr(msg, kind))
        case "location":
            return "location", _location(msg.location)
        case "contacts":
            return "contacts", _contacts(msg.contacts)
        case "interactive":
            return "interactive", _interactive(msg.interactive)
        case "template":
            return "template", _template(msg.template)
        case "reaction":
            return "reaction", _reaction(msg.reaction)
    raise UnsupportedContent(f"Meta Cloud API cannot send '{kind}' content")


def _text(text: message_pb2.TextContent) -> dict[str, Any]:
    if not text.body:
        raise UnsupportedContent("text message has an empty body")
    obj: dict[str, Any] = {"body": text.body}
    if text.preview_url:
        obj["preview_url"] = True
    return obj


def _media_ref(media: message_pb2.MediaContent, what: str) -> dict[str, Any]:
    """`{"id"}` (uploaded media, preferred) or `{"link"}`."""
    if media.id:
        return {"id": media.id}
    if media.link:
        return {"link": media.link}
    raise UnsupportedContent(f"{what} needs a media id or link")


def _media(kind: str, media: message_pb2.MediaContent) -> dict[str, Any]:
    obj = _media_ref(media, f"{kind} message")
    # Meta takes captions on image/video/document only, filenames on documents only.
    if kind in ("image", "video", "document") and media.caption:
        obj["caption"] = media.caption
    if kind == "document" and media.filename:
        obj["filename"] = media.filename
    if kind == "audio" and media.voice:
        obj["voice"] = True
    return obj


def _coordinate(value: float, limit: float, what: str) -> str:
    """Meta documents latitude/longitude as strings; shortest exact decimal form."""
    if not math.isfinite(value) or abs(value) > limit:
        raise UnsupportedContent(f"location {what} {value!r} is out of range")
    text = repr(value)
    if "e" in text or "E" in text:  # repr switches to exponent form for tiny values
        text = f"{value:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "-0.0") else text


def _location(loc: message_pb2.LocationContent) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "latitude": _coordinate(loc.latitude, 90.0, "latitude"),
        "longitude": _coordinate(loc.longitude, 180.0, "longitude"),
    }
    if loc.name:
        obj["name"] = loc.name
    if loc.address:
        obj["address"] = loc.address
    return obj


def _fields(source: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The non-empty string fields `names` of a proto message, in that order."""
    return {name: value for name in names if (value := getattr(source, name))}


def _shared_contact(card: message_pb2.SharedContact) -> dict[str, Any]:
    name = _fields(
        card.name,
        ("formatted_name", "first_name", "last_name", "middle_name", "suffix", "prefix"),
    )
    if "formatted_name" not in name:
        # Meta requires formatted_name; build it from the parts the caller gave.
        parts = ("prefix", "first_name", "middle_name", "last_name", "suffix")
        formatted = " ".join(name[p] for p in parts if p in name)
        if not formatted:
            raise UnsupportedContent("contact card needs a name")
        name = {"formatted_name": formatted, **name}
    obj: dict[str, Any] = {"name": name}
    lists: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
        ("phones", card.phones, ("phone", "type", "wa_id")),
        ("emails", card.emails, ("email", "type")),
        (
            "addresses",
            card.addresses,
            ("street", "city", "state", "zip", "country", "country_code", "type"),
        ),
        ("urls", card.urls, ("url", "type")),
    )
    for key, items, names in lists:
        entries = [entry for item in items if (entry := _fields(item, names))]
        if entries:
            obj[key] = entries
    org = _fields(card.org, ("company", "department", "title"))
    if org:
        obj["org"] = org
    if card.birthday:
        obj["birthday"] = card.birthday
    return obj


def _contacts(contacts: message_pb2.ContactsContent) -> list[dict[str, Any]]:
    if not contacts.contacts:
        raise UnsupportedContent("contacts message has no contact cards")
    return [_shared_contact(card) for card in contacts.contacts]


def _header(header: message_pb2.InteractiveHeader, *, text_only: bool) -> dict[str, Any]:
    kind = header.WhichOneof("kind")
    if kind == "text":
        return {"type": "text", "text": header.text}
    if text_only:
        raise UnsupportedContent("list messages only take a text header")
    if kind not in _HEADER_MEDIA_KINDS:
        raise UnsupportedContent("interactive header is empty")
    media: message_pb2.MediaContent = getattr(header, kind)
    ref = _media_ref(media, f"{kind} header")
    if kind == "document" and media.filename:
        ref["filename"] = media.filename
    return {"type": kind, kind: ref}


def _unique(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise UnsupportedContent(f"{what} must be unique")


def _buttons_action(action: message_pb2.ButtonsAction) -> dict[str, Any]:
    """Meta's reply-buttons object; breaking its limits is a permanent 131009/100 error,
    so it is refused here before any call."""
    buttons = list(action.buttons)
    if not buttons:
        raise UnsupportedContent("reply-buttons message has no buttons")
    if len(buttons) > MAX_BUTTONS:
        raise UnsupportedContent(
            f"reply-buttons message has {len(buttons)} buttons; Meta allows at most {MAX_BUTTONS}"
        )
    for button in buttons:
        if not button.id or not button.title:
            raise UnsupportedContent("every reply button needs an id and a title")
    _unique([b.id for b in buttons], "reply button ids")
    _unique([b.title for b in buttons], "reply button titles")
    return {
        "buttons": [{"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in buttons]
    }


def _list_action(action: message_pb2.ListAction) -> dict[str, Any]:
    if not action.button:
        raise UnsupportedContent("list message needs a button label")
    sections = list(action.sections)
    if not sections:
        raise UnsupportedContent("list message has no sections")
    if len(sections) > MAX_SECTIONS:
        raise UnsupportedContent(
            f"list message has {len(sections)} sections; Meta allows at most {MAX_SECTIONS}"
        )
    rows = [row for section in sections for row in section.rows]
    if len(rows) > MAX_ROWS:
        raise UnsupportedContent(
            f"list message has {len(rows)} rows; Meta allows at most {MAX_ROWS} in total"
        )
    for section in sections:
        if not section.rows:
            raise UnsupportedContent("every list section needs at least one row")
        if len(sections) > 1 and not section.title:
            raise UnsupportedContent("list sections need titles when there is more than one")
    for row in rows:
        if not row.id or not row.title:
            raise UnsupportedContent("every list row needs an id and a title")
    _unique([row.id for row in rows], "list row ids")
    out_sections: list[dict[str, Any]] = []
    for section in sections:
        out: dict[str, Any] = {}
        if section.title:
            out["title"] = section.title
        out["rows"] = [_fields(row, ("id", "title", "description")) for row in section.rows]
        out_sections.append(out)
    return {"button": action.button, "sections": out_sections}


def _interactive(ic: message_pb2.InteractiveContent) -> dict[str, Any]:
    action_kind = ic.WhichOneof("action")
    if action_kind is None:
        raise UnsupportedContent("interactive message has neither buttons nor a list")
    if not ic.body:
        raise UnsupportedContent("interactive message needs a body text")
    is_list = action_kind == "list"
    obj: dict[str, Any] = {"type": "list" if is_list else "button"}
    if ic.HasField("header") and ic.header.WhichOneof("kind") is not None:
        obj["header"] = _header(ic.header, text_only=is_list)
    obj["body"] = {"text": ic.body}
    if ic.footer:
        obj["footer"] = {"text": ic.footer}
    obj["action"] = _list_action(ic.list) if is_list else _buttons_action(ic.buttons)
    return obj


def _template_parameter(param: message_pb2.TemplateParameter) -> dict[str, Any]:
    kind = param.type.lower()
    if not kind:  # infer the obvious cases
        kind = "payload" if param.payload else "text"
    if kind == "text":
        obj: dict[str, Any] = {"type": "text"}
        if param.parameter_name:
            obj["parameter_name"] = param.parameter_name
        obj["text"] = param.text
        return obj
    if kind == "payload":
        return {"type": "payload", "payload": param.payload}
    if kind in _HEADER_MEDIA_KINDS:
        if not param.HasField("media"):
            raise UnsupportedContent(f"template {kind} parameter needs media")
        ref = _media_ref(param.media, f"template {kind} parameter")
        if kind == "document" and param.media.filename:
            ref["filename"] = param.media.filename
        return {"type": kind, kind: ref}
    raise UnsupportedContent(f"template parameter type '{param.type}' is not supported")


def _template_component(comp: message_pb2.TemplateComponent) -> dict[str, Any]:
    kind = comp.type.lower()
    if not kind:
        raise UnsupportedContent("template component needs a type")
    obj: dict[str, Any] = {"type": kind}
    if kind == "button":
        if not comp.sub_type:
            raise UnsupportedContent("template button component needs a sub_type")
        if comp.index < 0:
            raise UnsupportedContent("template button index must not be negative")
        obj["sub_type"] = comp.sub_type.lower()
        obj["index"] = str(comp.index)
    obj["parameters"] = [_template_parameter(p) for p in comp.parameters]
    return obj


def _template(tpl: message_pb2.TemplateContent) -> dict[str, Any]:
    if not tpl.name:
        raise UnsupportedContent("template message needs a template name")
    if not tpl.language_code:
        raise UnsupportedContent("template message needs a language code")
    obj: dict[str, Any] = {"name": tpl.name, "language": {"code": tpl.language_code}}
    # In Meta's body a component only carries parameter values; one without
    # parameters says nothing and is left out.
    components = [_template_component(c) for c in tpl.components if c.parameters]
    if components:
        obj["components"] = components
    return obj


def _reaction(reaction: message_pb2.ReactionContent) -> dict[str, Any]:
    if not reaction.message_id:
        raise UnsupportedContent("reaction needs the id of the message reacted to")
    # An empty emoji removes the reaction, so it is always sent.
    return {"message_id": reaction.message_id, "emoji": reaction.emoji}


# -- mark as read / typing -----------------------------------------------------------


def build_mark_read_body(provider_message_id: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "status": "read", "message_id": provider_message_id}


def build_typing_body(provider_message_id: str) -> dict[str, Any]:
    """Marks the message read and shows "typing..." until we reply or 25 s pass."""
    body = build_mark_read_body(provider_message_id)
    body["typing_indicator"] = {"type": "text"}
    return body


# -- errors ---------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _text_of(body: Any, limit: int = 200) -> str:
    if isinstance(body, bytes | bytearray):
        body = bytes(body).decode("utf-8", "replace")
    text = body if isinstance(body, str) else "" if body is None else repr(body)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def classify_error(http_status: int, body: Any, *, retry_after: float | None = None) -> SendError:
    """A SendError for a failed Graph call: kind by Meta code first (Meta asks callers to
    act on the code), then by HTTP status for codes not in `META_ERROR_CODES`.

    `body` is the decoded JSON (Meta's `{"error": {...}}`) or the raw text/bytes of a
    non-JSON answer. `retry_after` is a server hint in seconds (see
    `retry_after_from_headers`); it is kept for retryable kinds only.
    """
    raw_error = body.get("error") if isinstance(body, dict) else None
    error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
    code = _int(error.get("code"))
    message = error.get("title") or error.get("message") or ""
    title = _CODE_PREFIX.sub("", message) if isinstance(message, str) else ""
    error_data = error.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    details = details if isinstance(details, str) else ""

    known = kind_of(code)
    if known is not None:
        kind = known
    elif http_status == 401:
        kind = ErrorKind.AUTH_EXPIRED
    elif http_status == 429:
        kind = ErrorKind.RATE_LIMITED
    elif http_status >= 500 or http_status == 408:
        kind = ErrorKind.RETRYABLE
    else:
        kind = ErrorKind.PERMANENT

    if code is not None:
        text = f"Meta error {code}"
        if title:
            text += f": {title}"
        if details and details != title:
            text += f" ({details})"
        text += f" [HTTP {http_status}]"
    else:
        snippet = _text_of(body)
        text = f"Meta API answered HTTP {http_status}" + (f": {snippet}" if snippet else "")
    retryable = kind in (ErrorKind.RETRYABLE, ErrorKind.RATE_LIMITED)
    return SendError(
        kind,
        text,
        code=code or 0,
        title=title,
        details=details,
        http_status=http_status,
        retry_after=retry_after if retryable else None,
    )


def retry_after_from_headers(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date), else from Meta's
    `X-Business-Use-Case-Usage` `estimated_time_to_regain_access` (minutes)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get("retry-after", "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None and when.tzinfo is not None:
            return max(0.0, when.timestamp() - time.time())
    usage = lowered.get("x-business-use-case-usage")
    if usage:
        try:
            decoded = orjson.loads(usage)
        except orjson.JSONDecodeError:
            return None
        minutes = [
            float(m)
            for entries in (decoded.values() if isinstance(decoded, dict) else ())
            if isinstance(entries, list)
            for entry in entries
            if isinstance(entry, dict)
            and isinstance(m := entry.get("estimated_time_to_regain_access"), int | float)
            and not isinstance(m, bool)
        ]
        if minutes and max(minutes) > 0:
            return max(minutes) * 60.0
    return None


# -- HTTP ------------------------------------------------------------------------------


def _secret_values(access_token: str, headers: Mapping[str, str] | None) -> list[str]:
    secrets = [access_token] if access_token else []
    for name, value in (headers or {}).items():
        lowered = name.lower()
        if value and any(hint in lowered for hint in _SECRET_HEADER_HINTS):
            secrets.append(value.removeprefix("Bearer ").strip())
    return sorted((s for s in secrets if s), key=len, reverse=True)


def _mask(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _masked(err: SendError, secrets: list[str]) -> SendError:
    return SendError(
        err.kind,
        _mask(str(err), secrets),
        code=err.code,
        title=_mask(err.title, secrets),
        details=_mask(err.details, secrets),
        http_status=err.http_status,
        retry_after=err.retry_after,
    )


async def graph_post(
    http: aiohttp.ClientSession,
    url: str,
    access_token: str,
    body: dict[str, Any],
    *,
    timeout: float = 15.0,  # noqa: ASYNC109 -- a per-call aiohttp ClientTimeout
    headers: Mapping[str, str] | None = None,
) -> Any:
    """POST `body` as JSON with `Authorization: Bearer <access_token>`; the decoded
    answer on 2xx (JSON, else text, else None: what a 2xx must carry is the caller's
    rule), else a classified SendError (network failures: RETRYABLE).

    `headers` are added to (and may replace) the defaults, e.g. a proxy's API-key
    header; with an empty `access_token` no Authorization header is sent. Secret
    values (the token, key/token/secret/authorization headers) never appear in errors.
    """
    return await graph_request(
        http, "POST", url, access_token, body, timeout=timeout, headers=headers
    )


def auth_headers(access_token: str, headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """`Authorization: Bearer <access_token>` (none for an empty token), plus `headers`."""
    found = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    return found | dict(headers or {})


async def graph_request(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    access_token: str,
    body: dict[str, Any] | aiohttp.FormData | None = None,
    *,
    timeout: float = 15.0,  # noqa: ASYNC109 -- a per-call aiohttp ClientTimeout
    headers: Mapping[str, str] | None = None,
) -> Any:
    """`graph_post` for any method; a GET sends no body, a form goes as multipart."""
    request_headers = {"Accept": "application/json"}
    if isinstance(body, dict):
        request_headers["Content-Type"] = "application/json"
    request_headers |= auth_headers(access_token, headers)
    secrets = _secret_values(access_token, headers)
    try:
        async with http.request(
            method,
            url,
            data=orjson.dumps(body) if isinstance(body, dict) else body,
            headers=request_headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=False,
        ) as resp:
            status = resp.status
            raw = await resp.read()
            hint = retry_after_from_headers(resp.headers)
    except TimeoutError:
        raise SendError(
            ErrorKind.RETRYABLE, _mask(f"timed out after {timeout:g}s: {method} {url}", secrets)
        ) from None
    except aiohttp.ClientError as exc:
        detail = _mask(f"{type(exc).__name__}: {exc}", secrets)
        raise SendError(
            ErrorKind.RETRYABLE, _mask(f"network error: {method} {url}: ", secrets) + detail
        ) from None

    decoded: Any
    try:
        decoded = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        decoded = raw.decode("utf-8", "replace")
    if 200 <= status < 300:
        return decoded
    raise _masked(classify_error(status, decoded, retry_after=hint), secrets)


def upload_form(data: bytes, mime_type: str, filename: str) -> aiohttp.FormData:
    """The multipart body of `POST /{phone_number_id}/media`
    (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media)."""
    form = aiohttp.FormData()
    form.add_field("messaging_product", "whatsapp")
    form.add_field("type", mime_type)
    form.add_field("file", data, filename=filename or "file", content_type=mime_type)
    return form


def parse_send_response(body: Any) -> SendResult:
    """Meta's 2xx answer to a send -> SendResult: the new message's wamid
    (`messages[0].id`) and the recipient's `wa_id` / `user_id` (`contacts[0]`).

    An answer without a wamid fails the send for good (`accepted_without_id`).
    """
    body = body if isinstance(body, dict) else {}
    messages = body.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else None
    message_id = first.get("id") if isinstance(first, dict) else None
    if not isinstance(message_id, str) or not message_id:
        raise accepted_without_id("Meta API")
    contacts = body.get("contacts")
    contact = contacts[0] if isinstance(contacts, list) and contacts else None
    contact = contact if isinstance(contact, dict) else {}
    wa_id = contact.get("wa_id")
    user_id = contact.get("user_id")
    return SendResult(
        provider_message_id=message_id,
        recipient_id=wa_id if isinstance(wa_id, str) else "",
        recipient_user_id=user_id if isinstance(user_id, str) else "",
    )
