"""Every send, from REST, gRPC or a bot, checked against WhatsApp's documented limits
before it is stored, so the caller gets one clear InvalidArgument naming the field
(REST 400, gRPC INVALID_ARGUMENT) instead of a provider's refusal after the fact.

Fields are named as in the JSON mapping of `SendMessageRequest` (`channelId`,
`interactive.list.sections[0].rows[2].title`), the names a REST caller writes.

Limits: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
(text, media, interactive and template objects).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.errors import InvalidArgument
from providers.base import Capabilities
from providers.limits import (
    BUTTON_ID,
    BUTTON_TITLE,
    CAPTION,
    INTERACTIVE_BODY,
    INTERACTIVE_FOOTER,
    INTERACTIVE_HEADER,
    LIST_BUTTON,
    MAX_BUTTONS,
    MAX_ROWS,
    MAX_SECTIONS,
    ROW_DESCRIPTION,
    ROW_ID,
    ROW_TITLE,
    SECTION_TITLE,
    TEMPLATE_HEADER_TEXT,
    TEXT_BODY,
)
from wagate.v1 import message_pb2, messaging_service_pb2

M = message_pb2


_MEDIA = ("image", "audio", "video", "document", "sticker")
_CAPTIONED = ("image", "video", "document")

# A phone number or wa_id: digits (E.164 has at most 15) with an optional leading +,
# and the separators people write ("+1 555 123-4567").
_PHONE = re.compile(r"\+?[0-9 ().\-]+")
_MIN_DIGITS, _MAX_DIGITS = 5, 15
# A business-scoped user id, as Meta sends it in `user_id` ("user.0f3c...").
_BSUID = re.compile(r"user\.[A-Za-z0-9]+")
# A WhatsApp Web chat id, which QR-session engines address: a person, a group, a
# linked-device id or a channel (`15551234567@c.us`, `1203...@g.us`, `1234@lid`).
_CHAT_ID = re.compile(r"[0-9A-Za-z._\-]+@(c\.us|g\.us|lid|s\.whatsapp\.net|newsletter)")


def check_request(request: messaging_service_pb2.SendMessageRequest) -> str:
    """The request's own fields, what any channel needs; returns the content kind.

    Raises InvalidArgument naming the first field at fault."""
    if not request.channel_id:
        raise InvalidArgument("channelId is required")
    if not request.to.strip():
        raise InvalidArgument("to is required")
    kind: str | None = request.WhichOneof("content")
    if kind is None:
        raise InvalidArgument("content is required: one of text, image, audio, video, ...")
    if kind == "text":
        _required(request.text.body, "text.body")
        _at_most(request.text.body, TEXT_BODY, "text.body")
    elif kind in _MEDIA:
        _media(getattr(request, kind), kind)
    elif kind == "interactive":
        _interactive(request.interactive)
    elif kind == "template":
        _template(request.template)
    elif kind == "reaction":
        _required(request.reaction.message_id, "reaction.messageId")
    elif kind == "location":
        _location(request.location)
    elif kind == "contacts":
        _contacts(request.contacts)
    return kind


def check_recipient(to: str, capabilities: Capabilities) -> None:
    """`to` is a phone number, a wa_id or a BSUID; a chat id where the channel takes one."""
    value = to.strip()
    if _PHONE.fullmatch(value):
        digits = sum(ch.isdigit() for ch in value)
        if _MIN_DIGITS <= digits <= _MAX_DIGITS:
            return
        raise InvalidArgument(
            f"to must have {_MIN_DIGITS} to {_MAX_DIGITS} digits, not {digits} ('{value[:40]}')"
        )
    if _BSUID.fullmatch(value) or (capabilities.chat_ids and _CHAT_ID.fullmatch(value)):
        return
    accepted = "a phone number or wa_id (digits, optional leading +) or a user id (user.…)"
    if capabilities.chat_ids:
        accepted += " or a chat id (…@c.us, …@g.us, …@lid)"
    raise InvalidArgument(f"to must be {accepted}, not '{value[:40]}'")


def _required(value: str, field: str) -> None:
    if not value:
        raise InvalidArgument(f"{field} is required")


def _at_most(value: str, limit: int, field: str) -> None:
    if len(value) > limit:
        raise InvalidArgument(f"{field} is longer than {limit} characters ({len(value)})")


def _count(items: Sequence[object], low: int, high: int, field: str) -> None:
    if not low <= len(items) <= high:
        raise InvalidArgument(f"{field} must have {low} to {high} items, not {len(items)}")


def _unique(values: list[str], field: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise InvalidArgument(f"{field.format(i=i)} '{value[:40]}' is used twice")
        seen.add(value)


def _media(media: message_pb2.MediaContent, field: str) -> None:
    if not media.id and not media.link:
        raise InvalidArgument(f"{field}.link or {field}.id is required")
    if field.rsplit(".", 1)[-1] in _CAPTIONED:
        _at_most(media.caption, CAPTION, f"{field}.caption")


def _interactive(ic: message_pb2.InteractiveContent) -> None:
    _required(ic.body, "interactive.body")
    _at_most(ic.body, INTERACTIVE_BODY, "interactive.body")
    _at_most(ic.footer, INTERACTIVE_FOOTER, "interactive.footer")
    header = ic.header.WhichOneof("kind") if ic.HasField("header") else None
    if header == "text":
        _at_most(ic.header.text, INTERACTIVE_HEADER, "interactive.header.text")
    elif header is not None:
        _media(getattr(ic.header, header), f"interactive.header.{header}")
    action = ic.WhichOneof("action")
    if action == "buttons":
        _buttons(list(ic.buttons.buttons))
    elif action == "list":
        _list(ic.list)
    else:
        raise InvalidArgument("interactive.buttons or interactive.list is required")


def _buttons(buttons: list[message_pb2.ReplyButton]) -> None:
    field = "interactive.buttons.buttons"
    _count(buttons, 1, MAX_BUTTONS, field)
    for i, button in enumerate(buttons):
        _required(button.id, f"{field}[{i}].id")
        _at_most(button.id, BUTTON_ID, f"{field}[{i}].id")
        _required(button.title, f"{field}[{i}].title")
        _at_most(button.title, BUTTON_TITLE, f"{field}[{i}].title")
    _unique([b.id for b in buttons], field + "[{i}].id")


def _list(action: message_pb2.ListAction) -> None:
    _required(action.button, "interactive.list.button")
    _at_most(action.button, LIST_BUTTON, "interactive.list.button")
    sections = list(action.sections)
    _count(sections, 1, MAX_SECTIONS, "interactive.list.sections")
    rows = [row for section in sections for row in section.rows]
    if len(rows) > MAX_ROWS:
        raise InvalidArgument(
            f"interactive.list.sections have {len(rows)} rows; WhatsApp allows {MAX_ROWS} in total"
        )
    for i, section in enumerate(sections):
        field = f"interactive.list.sections[{i}]"
        _at_most(section.title, SECTION_TITLE, f"{field}.title")
        if not section.rows:
            raise InvalidArgument(f"{field}.rows must have at least one row")
        for j, row in enumerate(section.rows):
            _required(row.id, f"{field}.rows[{j}].id")
            _at_most(row.id, ROW_ID, f"{field}.rows[{j}].id")
            _required(row.title, f"{field}.rows[{j}].title")
            _at_most(row.title, ROW_TITLE, f"{field}.rows[{j}].title")
            _at_most(row.description, ROW_DESCRIPTION, f"{field}.rows[{j}].description")
    _unique([row.id for row in rows], "interactive.list row id")


def _template(tpl: message_pb2.TemplateContent) -> None:
    _required(tpl.name, "template.name")
    _required(tpl.language_code, "template.languageCode")
    for i, component in enumerate(tpl.components):
        field = f"template.components[{i}]"
        _required(component.type, f"{field}.type")
        for j, param in enumerate(component.parameters):
            if component.type.lower() == "header":
                _at_most(param.text, TEMPLATE_HEADER_TEXT, f"{field}.parameters[{j}].text")


def _location(loc: message_pb2.LocationContent) -> None:
    if not -90 <= loc.latitude <= 90:
        raise InvalidArgument(f"location.latitude must be between -90 and 90, not {loc.latitude}")
    if not -180 <= loc.longitude <= 180:
        raise InvalidArgument(
            f"location.longitude must be between -180 and 180, not {loc.longitude}"
        )


def _contacts(contacts: message_pb2.ContactsContent) -> None:
    if not contacts.contacts:
        raise InvalidArgument("contacts.contacts must have at least one contact")
    for i, card in enumerate(contacts.contacts):
        _required(card.name.formatted_name, f"contacts.contacts[{i}].name.formattedName")
