"""Meta WhatsApp Cloud API webhooks -> `wagate.v1` events (the `messages` webhook,
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages).

Pure: no I/O, no clock. Only the envelope is strict (PayloadError); inside it
everything is read defensively. A message whose inner shape is unexpected, or
whose type is new to us, becomes `unsupported` content and is never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from google.protobuf.message import Message as ProtoMessage

from providers.base import PayloadError
from providers.meta_cloud import calls, waba
from providers.readers import as_bool as _bool
from providers.readers import as_dict as _dict
from providers.readers import as_dicts as _dicts
from providers.readers import as_float as _float
from providers.readers import as_str as _str
from providers.readers import digits as _digits
from providers.readers import int32 as _int32
from providers.readers import provider_errors as _errors
from providers.readers import timestamp as _timestamp
from wagate.v1 import event_pb2, message_pb2

PROVIDER = "meta_cloud"
OBJECT = "whatsapp_business_account"

# A parsed content: the `Message.content` oneof field to set, and its value.
Content = tuple[str, ProtoMessage]
# Reads a message's type object (`message[type]`); None when its shape is wrong.
ContentParser = Callable[[Any], Content | None]

_STATUSES: dict[str, message_pb2.MessageStatus] = {
    "sent": message_pb2.MESSAGE_STATUS_SENT,
    "delivered": message_pb2.MESSAGE_STATUS_DELIVERED,
    "read": message_pb2.MESSAGE_STATUS_READ,
    "played": message_pb2.MESSAGE_STATUS_PLAYED,
    "failed": message_pb2.MESSAGE_STATUS_FAILED,
}

# -- envelope --------------------------------------------------------------------


def _changes(payload: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Every (entry, change) of entry[] x changes[] that is a dict."""
    for entry in _dicts(_dict(payload).get("entry")):
        for change in _dicts(entry.get("changes")):
            yield entry, change


def _phone_number_id(value: dict[str, Any]) -> str:
    return _str(_dict(value.get("metadata")).get("phone_number_id"))


def route_keys(payload: Any) -> list[str]:
    """Phone number ids the payload is addressed to; PayloadError for a bad envelope."""
    check_envelope(payload)
    return _route_keys(payload)


def _route_keys(payload: Any) -> list[str]:
    """The distinct `value.metadata.phone_number_id`s a payload addresses, in order."""
    keys: list[str] = []
    for entry in payload["entry"]:  # on every webhook before its ack: kept lean
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else ():
            value = change.get("value") if isinstance(change, dict) else None
            metadata = value.get("metadata") if isinstance(value, dict) else None
            if isinstance(metadata, dict):
                key = _str(metadata.get("phone_number_id"))
                if key and key not in keys:
                    keys.append(key)
    return keys


def check_envelope(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise PayloadError(f"payload must be a JSON object, got {type(payload).__name__}")
    if "object" in payload and payload["object"] != OBJECT:
        raise PayloadError(f"'object' must be '{OBJECT}', got {payload['object']!r:.60}")
    if not isinstance(payload.get("entry"), list):
        raise PayloadError("'entry' must be a list")


def parse_payload(
    payload: Any,
    *,
    channel_id: str,
    phone_number_id: str | None = None,
    provider: str = PROVIDER,
    with_accounts: bool = False,
) -> list[event_pb2.Event]:
    """Normalize one decoded webhook body into events, in payload order.

    With `phone_number_id`, only changes addressed to that number; changes
    addressed to the WABA (account, templates) only `with_accounts`, for a
    channel that owns the whole delivery (a channel URL). A field wagate does
    not model becomes a `provider_event`. `provider` is the slug stamped on
    messages (Meta-compatible providers reuse this parser).
    """
    check_envelope(payload)
    events: list[event_pb2.Event] = []
    for entry, change in _changes(payload):
        value = _dict(change.get("value"))
        number = _phone_number_id(value)
        if not number and not with_accounts:
            continue  # addressed to the WABA: parsed by providers.meta_cloud.waba
        if number and phone_number_id is not None and number != phone_number_id:
            continue
        field = change.get("field")
        if not number:
            events.append(waba.account_event(entry, change))
        elif field in (None, "messages"):
            events += _messages(value, channel_id, provider)
        elif field == "smb_message_echoes":
            events += [
                echo_event(raw, channel_id, provider) for raw in _dicts(value.get("message_echoes"))
            ]
        elif field == "user_preferences":
            events += calls.preference_events(value, channel_id)
        elif field == "calls":
            events += calls.call_events(value, channel_id)
        else:
            events.append(waba.provider_event(_str(field), change.get("value")))
    for event in events:
        event.channel_id = channel_id
    return events


def _messages(value: dict[str, Any], channel_id: str, provider: str) -> list[event_pb2.Event]:
    events: list[event_pb2.Event] = []
    contacts = _dicts(value.get("contacts"))
    for raw in _dicts(value.get("messages")):
        events.append(inbound_event(raw, contact(raw, contacts), channel_id, provider))
    for raw in _dicts(value.get("statuses")):
        if raw.get("type") == "call":  # a call's status, on the messages field
            events += calls.call_events({"statuses": [raw]}, channel_id)
            continue
        event = status_event(raw, channel_id)
        if event is not None:
            events.append(event)
    return events


def inbound_event(
    raw: dict[str, Any], sender: message_pb2.Contact, channel_id: str, provider: str = PROVIDER
) -> event_pb2.Event:
    """One `messages[]` item: a new message, an edit or revoke of an earlier one, or
    a call permission reply."""
    if _original_id(raw):
        return change_event(raw, sender, channel_id, provider, message_pb2.DIRECTION_INBOUND)
    interactive = _dict(raw.get("interactive"))
    if raw.get("type") == "interactive" and isinstance(
        interactive.get("call_permission_reply"), dict
    ):
        return calls.permission_reply(raw, sender, channel_id)
    return message_event(raw, sender, channel_id, provider)


def _original_id(raw: dict[str, Any]) -> str:
    """The message an edit or revoke refers to; "" for anything else (or a malformed
    edit, which is then kept as `unsupported`)."""
    mtype = raw.get("type")
    if mtype not in ("edit", "revoke"):
        return ""
    return _str(_dict(raw.get(mtype)).get("original_message_id"))


def echo_event(raw: dict[str, Any], channel_id: str, provider: str = PROVIDER) -> event_pb2.Event:
    """A message the business sent from the WhatsApp Business app (coexistence): an
    outbound message of the conversation with `to`, or its edit or revoke."""
    recipient = message_pb2.Contact(
        wa_id=_digits(raw.get("to")), user_id=_str(raw.get("to_user_id"))
    )
    if _original_id(raw):
        return change_event(raw, recipient, channel_id, provider, message_pb2.DIRECTION_OUTBOUND)
    event = message_event(raw, recipient, channel_id, provider)
    event.message_new.direction = message_pb2.DIRECTION_OUTBOUND
    event.message_new.status = message_pb2.MESSAGE_STATUS_SENT
    return event


def change_event(
    raw: dict[str, Any],
    who: message_pb2.Contact,
    channel_id: str,
    provider: str,
    direction: message_pb2.Direction,
) -> event_pb2.Event:
    """An edit (`message_updated`) or revoke (`message_deleted`) of an earlier message.

    Before storage, `message_updated` names the original by `provider_message_id`,
    carries the new content and `edited_at`, and one revision whose `edit_id` is
    the edit's own id; storage turns that into the stored message after the edit.
    """
    mtype = _str(raw.get("type"))
    ts = _timestamp(raw.get("timestamp"))
    body = _dict(raw.get(mtype))
    original = _original_id(raw)
    event = event_pb2.Event(channel_id=channel_id, occurred_at=ts)
    if mtype == "revoke":
        event.message_deleted.CopyFrom(
            event_pb2.MessageDeleted(
                provider_message_id=original,
                deleted_at=ts,
                revoke_id=_str(raw.get("id")),
                contact=who,
            )
        )
        return event
    edited = dict(_dict(body.get("message")))
    edited.setdefault("id", original)
    event.message_updated.CopyFrom(message_event(edited, who, channel_id, provider).message_new)
    update = event.message_updated
    update.direction = direction
    update.ClearField("timestamp")
    update.ClearField("status")
    if ts is not None:
        update.edited_at.CopyFrom(ts)
    update.revisions.add(edit_id=_str(raw.get("id")), replaced_at=ts)
    return event


# -- inbound messages ------------------------------------------------------------


def message_event(
    raw: dict[str, Any],
    sender: message_pb2.Contact,
    channel_id: str,
    provider: str = PROVIDER,
) -> event_pb2.Event:
    """A `message_new` event for one Meta-shaped inbound message object."""
    ts = _timestamp(raw.get("timestamp"))
    context = _context(raw)
    # Filled in place: a Message handed to Event(message_new=...) is copied whole.
    event = event_pb2.Event(channel_id=channel_id, occurred_at=ts)
    message = event.message_new
    message.SetInParent()
    message.channel_id = channel_id
    message.provider = provider
    message.provider_message_id = _str(raw.get("id"))
    message.contact.CopyFrom(sender)
    message.direction = message_pb2.DIRECTION_INBOUND
    message.status = message_pb2.MESSAGE_STATUS_RECEIVED
    if ts is not None:
        message.timestamp.CopyFrom(ts)
    if context is not None:
        message.context.CopyFrom(context)
    message.errors.extend(_errors(raw.get("errors")))
    message.group_id = _str(raw.get("group_id"))
    field, content = _content(raw)
    getattr(message, field).CopyFrom(content)
    return event


def contact(raw: dict[str, Any], contacts: list[dict[str, Any]]) -> message_pb2.Contact:
    """The sender, from the matching `contacts[]` item (by wa_id or BSUID) and `from`."""
    wa_id = _digits(raw.get("from"))
    user_id = _str(raw.get("from_user_id"))
    match = next(
        (
            c
            for c in contacts
            if (wa_id and _digits(c.get("wa_id")) == wa_id)
            or (user_id and _str(c.get("user_id")) == user_id)
        ),
        contacts[0] if len(contacts) == 1 else {},
    )
    profile = _dict(match.get("profile"))
    return message_pb2.Contact(
        wa_id=_digits(match.get("wa_id")) or wa_id,
        user_id=_str(match.get("user_id")) or user_id,
        name=_str(profile.get("name")),
        username=_str(profile.get("username")),
        country_code=_str(profile.get("country_code")),
    )


def _context(raw: dict[str, Any]) -> message_pb2.Context | None:
    """Reply/forward info from `context`, plus the message-level ad `referral`."""
    if not isinstance(raw.get("context"), dict) and not isinstance(raw.get("referral"), dict):
        return None
    ctx = _dict(raw.get("context"))
    context = message_pb2.Context(
        reply_to_id=_str(ctx.get("id")),
        reply_to_from=_str(ctx.get("from")),
        forwarded=_bool(ctx.get("forwarded")),
        frequently_forwarded=_bool(ctx.get("frequently_forwarded")),
    )
    if isinstance(ref := raw.get("referral"), dict):
        context.referral.CopyFrom(
            message_pb2.Referral(
                source_url=_str(ref.get("source_url")),
                source_id=_str(ref.get("source_id")),
                source_type=_str(ref.get("source_type")),
                body=_str(ref.get("body")),
                headline=_str(ref.get("headline")),
                media_type=_str(ref.get("media_type")),
                image_url=_str(ref.get("image_url")),
                video_url=_str(ref.get("video_url")),
                thumbnail_url=_str(ref.get("thumbnail_url")),
                ctwa_clid=_str(ref.get("ctwa_clid")),
                welcome_message_text=_str(_dict(ref.get("welcome_message")).get("text")),
            )
        )
    if isinstance(product := ctx.get("referred_product"), dict):
        context.referred_product.CopyFrom(
            message_pb2.ReferredProduct(
                catalog_id=_str(product.get("catalog_id")),
                product_retailer_id=_str(product.get("product_retailer_id")),
            )
        )
    return context


def _content(raw: dict[str, Any]) -> Content:
    """The content oneof; anything unknown or malformed becomes `unsupported`."""
    mtype = raw.get("type")
    if not isinstance(mtype, str):
        mtype = ""
    parser = _PARSERS.get(mtype)
    if parser is not None:
        try:
            parsed = parser(raw.get(mtype))
        except (TypeError, ValueError, OverflowError):
            parsed = None
        if parsed is not None:
            return parsed
    name = mtype or "unknown"
    if mtype in ("unsupported", "unknown"):
        name = _str(_dict(raw.get(mtype)).get("type")) or mtype
    return "unsupported", message_pb2.UnsupportedContent(type=name)


# One small parser per type object. Each returns None when the shape is wrong.


def _text(obj: Any) -> Content | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("body"), str):
        return None
    return "text", message_pb2.TextContent(body=obj["body"])


def _media(field: str) -> ContentParser:
    def parse(obj: Any) -> Content | None:
        if not isinstance(obj, dict):
            return None
        return field, message_pb2.MediaContent(
            id=_str(obj.get("id")),
            mime_type=_str(obj.get("mime_type")),
            sha256=_str(obj.get("sha256")),
            caption=_str(obj.get("caption")),
            filename=_str(obj.get("filename")),
            voice=_bool(obj.get("voice")),
            animated=_bool(obj.get("animated")),
            url=_str(obj.get("url")),
        )

    return parse


def _location(obj: Any) -> Content | None:
    if not isinstance(obj, dict):
        return None
    latitude, longitude = _float(obj.get("latitude")), _float(obj.get("longitude"))
    if latitude is None or longitude is None:
        return None
    return "location", message_pb2.LocationContent(
        latitude=latitude,
        longitude=longitude,
        name=_str(obj.get("name")),
        address=_str(obj.get("address")),
        url=_str(obj.get("url")),
    )


def _shared_contact(card: dict[str, Any]) -> message_pb2.SharedContact:
    shared = message_pb2.SharedContact(
        phones=[
            message_pb2.SharedContactPhone(
                phone=_str(p.get("phone")), wa_id=_digits(p.get("wa_id")), type=_str(p.get("type"))
            )
            for p in _dicts(card.get("phones"))
        ],
        emails=[
            message_pb2.SharedContactEmail(email=_str(e.get("email")), type=_str(e.get("type")))
            for e in _dicts(card.get("emails"))
        ],
        addresses=[
            message_pb2.SharedContactAddress(
                street=_str(a.get("street")),
                city=_str(a.get("city")),
                state=_str(a.get("state")),
                zip=_str(a.get("zip")),
                country=_str(a.get("country")),
                country_code=_str(a.get("country_code")),
                type=_str(a.get("type")),
            )
            for a in _dicts(card.get("addresses"))
        ],
        urls=[
            message_pb2.SharedContactUrl(url=_str(u.get("url")), type=_str(u.get("type")))
            for u in _dicts(card.get("urls"))
        ],
        birthday=_str(card.get("birthday")),
    )
    if isinstance(name := card.get("name"), dict):
        shared.name.CopyFrom(
            message_pb2.SharedContactName(
                formatted_name=_str(name.get("formatted_name")),
                first_name=_str(name.get("first_name")),
                last_name=_str(name.get("last_name")),
                middle_name=_str(name.get("middle_name")),
                suffix=_str(name.get("suffix")),
                prefix=_str(name.get("prefix")),
            )
        )
    if isinstance(org := card.get("org"), dict):
        shared.org.CopyFrom(
            message_pb2.SharedContactOrg(
                company=_str(org.get("company")),
                department=_str(org.get("department")),
                title=_str(org.get("title")),
            )
        )
    return shared


def _contacts(obj: Any) -> Content | None:
    if not isinstance(obj, list):
        return None
    cards = [_shared_contact(card) for card in _dicts(obj)]
    return "contacts", message_pb2.ContactsContent(contacts=cards)


def _interactive(obj: Any) -> Content | None:
    """Replies to our buttons, lists and Flows (`button_reply`/`list_reply`/`nfm_reply`)."""
    if not isinstance(obj, dict):
        return None
    kind = obj.get("type")
    reply = obj.get(kind) if isinstance(kind, str) else None
    if not isinstance(reply, dict):
        return None
    if kind == "button_reply":
        return "button_reply", message_pb2.ButtonReplyContent(
            id=_str(reply.get("id")), title=_str(reply.get("title"))
        )
    if kind == "list_reply":
        return "list_reply", message_pb2.ListReplyContent(
            id=_str(reply.get("id")),
            title=_str(reply.get("title")),
            description=_str(reply.get("description")),
        )
    if kind == "nfm_reply":
        return "flow_reply", message_pb2.FlowReplyContent(
            name=_str(reply.get("name")),
            body=_str(reply.get("body")),
            response_json=_str(reply.get("response_json")),
        )
    return None


def _button(obj: Any) -> Content | None:
    if not isinstance(obj, dict):
        return None
    return "template_button_reply", message_pb2.TemplateButtonReplyContent(
        payload=_str(obj.get("payload")), text=_str(obj.get("text"))
    )


def _reaction(obj: Any) -> Content | None:
    """A missing or empty `emoji` means the reaction was removed."""
    if not isinstance(obj, dict):
        return None
    return "reaction", message_pb2.ReactionContent(
        message_id=_str(obj.get("message_id")), emoji=_str(obj.get("emoji"))
    )


def _order(obj: Any) -> Content | None:
    if not isinstance(obj, dict):
        return None
    return "order", message_pb2.OrderContent(
        catalog_id=_str(obj.get("catalog_id")),
        text=_str(obj.get("text")),
        product_items=[
            message_pb2.ProductItem(
                product_retailer_id=_str(item.get("product_retailer_id")),
                quantity=_int32(item.get("quantity")),
                item_price=_float(item.get("item_price")) or 0.0,
                currency=_str(item.get("currency")),
            )
            for item in _dicts(obj.get("product_items"))
        ],
    )


def _system(obj: Any) -> Content | None:
    if not isinstance(obj, dict):
        return None
    return "system", message_pb2.SystemContent(
        type=_str(obj.get("type")),
        body=_str(obj.get("body")),
        wa_id=_digits(obj.get("wa_id")),
        user_id=_str(obj.get("user_id")),
    )


def _request_welcome(obj: Any) -> Content | None:
    return "system", message_pb2.SystemContent(type="request_welcome")


_PARSERS: dict[str, ContentParser] = {
    "text": _text,
    "image": _media("image"),
    "audio": _media("audio"),
    "video": _media("video"),
    "document": _media("document"),
    "sticker": _media("sticker"),
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
    "request_welcome": _request_welcome,
}


# -- statuses --------------------------------------------------------------------


def status_event(raw: dict[str, Any], channel_id: str) -> event_pb2.Event | None:
    """A status update; None for a status string we do not know."""
    status = _STATUSES.get(_str(raw.get("status")))
    if status is None:
        return None
    ts = _timestamp(raw.get("timestamp"))
    update = message_pb2.StatusUpdate(
        provider_message_id=_str(raw.get("id")),
        status=status,
        timestamp=ts,
        recipient_id=_str(raw.get("recipient_id")),
        recipient_user_id=_str(raw.get("recipient_user_id")),
        errors=_errors(raw.get("errors")),
        biz_opaque_callback_data=_str(raw.get("biz_opaque_callback_data")),
        provider_conversation_id=_str(_dict(raw.get("conversation")).get("id")),
    )
    if isinstance(pricing := raw.get("pricing"), dict):
        update.pricing.CopyFrom(
            message_pb2.Pricing(
                billable=_bool(pricing.get("billable")),
                pricing_model=_str(pricing.get("pricing_model")),
                type=_str(pricing.get("type")),
                category=_str(pricing.get("category")),
            )
        )
    if isinstance(conversation := raw.get("conversation"), dict) and update.HasField("pricing"):
        pricing_out = update.pricing
        pricing_out.provider_conversation_id = update.provider_conversation_id
        pricing_out.conversation_origin_type = _str(_dict(conversation.get("origin")).get("type"))
        expires = _timestamp(conversation.get("expiration_timestamp"))
        if expires is not None:
            pricing_out.conversation_expires_at.CopyFrom(expires)
    return event_pb2.Event(channel_id=channel_id, occurred_at=ts, message_status=update)
