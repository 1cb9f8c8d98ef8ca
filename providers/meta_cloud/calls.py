"""Calls and user preferences: the conversation events that are not messages.

https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/calls
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/user_preferences

Pure: no I/O, no clock.
"""

from __future__ import annotations

from typing import Any

from providers.meta_cloud.waba import struct
from providers.readers import as_bool as _bool
from providers.readers import as_dict as _dict
from providers.readers import as_dicts as _dicts
from providers.readers import as_str as _str
from providers.readers import digits as _digits
from providers.readers import int32 as _int32
from providers.readers import timestamp as _timestamp
from wagate.v1 import event_pb2, message_pb2

MARKETING = "marketing_messages"


def _person(wa_id: Any, user_id: Any, contacts: list[dict[str, Any]]) -> message_pb2.Contact:
    """The user a call or preference is about, named from `contacts[]` when listed."""
    person = message_pb2.Contact(wa_id=_digits(wa_id), user_id=_str(user_id))
    for c in contacts:
        if (person.wa_id and _digits(c.get("wa_id")) == person.wa_id) or (
            person.user_id and _str(c.get("user_id")) == person.user_id
        ):
            person.name = _str(_dict(c.get("profile")).get("name"))
            person.user_id = person.user_id or _str(c.get("user_id"))
    return person


def preference_events(value: dict[str, Any], channel_id: str) -> list[event_pb2.Event]:
    """`user_preferences[]`: a user stopped or resumed a category of messages."""
    contacts = _dicts(value.get("contacts"))
    events = []
    for raw in _dicts(value.get("user_preferences")):
        ts = _timestamp(raw.get("timestamp"))
        person = _person(raw.get("wa_id"), raw.get("user_id"), contacts)
        category, choice = _str(raw.get("category")), _str(raw.get("value"))
        if category == MARKETING:
            person.marketing_messages = choice
            if ts is not None:
                person.marketing_messages_updated_at.CopyFrom(ts)
        update = event_pb2.ContactUpdate(
            contact=person, category=category, value=choice, detail=_str(raw.get("detail"))
        )
        events.append(
            event_pb2.Event(channel_id=channel_id, occurred_at=ts, contact_updated=update)
        )
    return events


def call_events(value: dict[str, Any], channel_id: str) -> list[event_pb2.Event]:
    """`calls[]` (connect, terminate) and call `statuses[]` (ringing, accepted ...)."""
    contacts = _dicts(value.get("contacts"))
    events = []
    for raw in _dicts(value.get("calls")):
        direction = _str(raw.get("direction"))
        outgoing = direction == "BUSINESS_INITIATED"
        user = raw.get("to") if outgoing else raw.get("from")
        user_id = raw.get("to_user_id") if outgoing else raw.get("from_user_id")
        call = event_pb2.CallEvent(
            call_id=_str(raw.get("id")),
            event=_str(raw.get("event")),
            status=_str(raw.get("status")),
            direction=direction,
            contact=_person(user, user_id, contacts),
            start_time=_timestamp(raw.get("start_time")),
            end_time=_timestamp(raw.get("end_time")),
            duration_seconds=_int32(raw.get("duration")),
            details=struct(raw),
        )
        events.append(_call_event(call, raw, channel_id))
    for raw in _dicts(value.get("statuses")):
        call = event_pb2.CallEvent(
            call_id=_str(raw.get("id")),
            event="status",
            status=_str(raw.get("status")),
            contact=_person(raw.get("recipient_id"), raw.get("recipient_user_id"), contacts),
            details=struct(raw),
        )
        events.append(_call_event(call, raw, channel_id))
    return events


def permission_reply(
    raw: dict[str, Any], sender: message_pb2.Contact, channel_id: str
) -> event_pb2.Event:
    """The user's answer to a call permission request (an interactive message)."""
    reply = _dict(_dict(raw.get("interactive")).get("call_permission_reply"))
    call = event_pb2.CallEvent(
        call_id=_str(raw.get("id")),
        event="permission_reply",
        direction="USER_INITIATED",
        contact=sender,
        permission_response=_str(reply.get("response")),
        permission_permanent=_bool(reply.get("is_permanent")),
        permission_expires_at=_timestamp(reply.get("expiration_timestamp")),
        details=struct(raw),
    )
    return _call_event(call, raw, channel_id)


def _call_event(call: event_pb2.CallEvent, raw: dict[str, Any], channel_id: str) -> event_pb2.Event:
    return event_pb2.Event(
        channel_id=channel_id, occurred_at=_timestamp(raw.get("timestamp")), call=call
    )
