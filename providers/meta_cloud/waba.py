"""WhatsApp Business Account level webhooks -> `wagate.v1` events.

Account and template webhooks carry the WABA id in `entry[].id` and no
`metadata.phone_number_id`, so they are routed by account, not by number:
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/account_update
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/message_template_status_update

A field without a parser here is recorded as a `provider_event` (its value
verbatim), so nothing a verified webhook carried is dropped. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Any

import orjson
from google.protobuf import struct_pb2

from providers.readers import as_dict as _dict
from providers.readers import as_dicts as _dicts
from providers.readers import as_str as _str
from providers.readers import timestamp as _timestamp
from wagate.v1 import event_pb2

Change = tuple[str, dict[str, Any], dict[str, Any]]  # (WABA id, entry, change)


def _phone_number_id(change: dict[str, Any]) -> str:
    return _str(_dict(_dict(change.get("value")).get("metadata")).get("phone_number_id"))


def account_changes(payload: Any) -> Iterator[Change]:
    """Every change without a phone number id: it is addressed to its entry's WABA."""
    for entry in _dicts(_dict(payload).get("entry")):
        for change in _dicts(entry.get("changes")):
            if not _phone_number_id(change):
                yield _str(entry.get("id")), entry, change


def account_keys(payload: Any) -> list[str]:
    """The distinct WABA ids of a payload's account-level changes, in order."""
    keys: list[str] = []
    for waba_id, _, _ in account_changes(payload):
        if waba_id not in keys:
            keys.append(waba_id)
    return keys


def struct(value: dict[str, Any]) -> struct_pb2.Struct:
    """A JSON object as a protobuf Struct (numbers become doubles, as JSON has them)."""
    out = struct_pb2.Struct()
    out.update(orjson.loads(orjson.dumps(value)))
    return out


def _account(waba_id: str, value: dict[str, Any]) -> event_pb2.Event:
    details = {k: v for k, v in value.items() if k != "event"}
    return event_pb2.Event(
        account_updated=event_pb2.AccountUpdate(
            waba_id=waba_id, event=_str(value.get("event")), details=struct(details)
        )
    )


def _template(source: str) -> Callable[[str, dict[str, Any]], event_pb2.Event]:
    """The four template webhooks share the id/name/language triple; each names its
    change in its own keys."""

    def parse(waba_id: str, value: dict[str, Any]) -> event_pb2.Event:
        update = event_pb2.TemplateUpdate(
            waba_id=waba_id,
            template_id=_str(value.get("message_template_id")),
            name=_str(value.get("message_template_name")),
            language=_str(value.get("message_template_language")),
            reason=_str(value.get("reason")),
            source=source,
            details=struct(value),
        )
        if source == "message_template_status_update":
            update.status = _str(value.get("event"))
            update.category = _str(value.get("message_template_category"))
            rejection = _dict(value.get("rejection_info"))
            if not update.reason or update.reason == "NONE":
                update.reason = _str(rejection.get("reason")) or update.reason
        elif source == "message_template_quality_update":
            update.quality = _str(value.get("new_quality_score"))
            update.previous_quality = _str(value.get("previous_quality_score"))
        elif source == "template_category_update":
            update.category = _str(value.get("new_category")) or _str(value.get("correct_category"))
            update.previous_category = _str(value.get("previous_category"))
        return event_pb2.Event(template_updated=update)

    return parse


_PARSERS: dict[str, Callable[[str, dict[str, Any]], event_pb2.Event]] = {
    "account_update": _account,
    "message_template_status_update": _template("message_template_status_update"),
    "message_template_quality_update": _template("message_template_quality_update"),
    "template_category_update": _template("template_category_update"),
    "message_template_components_update": _template("message_template_components_update"),
}


def provider_event(field: str, value: Any) -> event_pb2.Event:
    """A change of a field wagate does not model, kept verbatim."""
    return event_pb2.Event(
        provider_event=event_pb2.ProviderEvent(name=field, data_json=orjson.dumps(value).decode())
    )


def account_event(entry: dict[str, Any], change: dict[str, Any]) -> event_pb2.Event:
    """The event of one account-level change of `entry`."""
    waba_id = _str(entry.get("id"))
    field = _str(change.get("field"))
    parser = _PARSERS.get(field)
    value = change.get("value")
    event = parser(waba_id, _dict(value)) if parser else provider_event(field, value)
    ts = _timestamp(entry.get("time"))
    if ts is not None:
        event.occurred_at.CopyFrom(ts)
    return event


def parse_account_changes(
    payload: Any, *, channel_id: str, waba_ids: Collection[str] | None = None
) -> list[event_pb2.Event]:
    """The events of a payload's account-level changes (of `waba_ids` only, if given)."""
    events: list[event_pb2.Event] = []
    for waba_id, entry, change in account_changes(payload):
        if waba_ids is None or waba_id in waba_ids:
            event = account_event(entry, change)
            event.channel_id = channel_id
            events.append(event)
    return events
