"""Capability fallback: what a channel cannot carry is degraded, or refused clearly.

`degrade` is pure and runs in the outbox before a message is stored:

- reply buttons or a list on a channel without them become a numbered text menu;
  the menu (option ids and titles) is kept on the message (`fallback_menu`);
- location and contact cards without support become text;
- anything with no fallback (a template on a QR engine, a reaction where there are
  none, ...) raises UnsupportedContent, and the caller gets a clear error.

`map_numeric_reply` runs on the inbound path before a message is stored: a
customer's "2" after a numbered menu becomes the button or list reply with the
id of the second option, as if the channel had buttons. Nothing is dropped.
"""

from __future__ import annotations

import re

from core.errors import FailedPrecondition, UnsupportedContent
from providers.base import Capabilities
from storage import menus
from wagate.v1 import message_pb2

M = message_pb2
# A menu answer: the option number alone, optionally with a dot or parenthesis.
_ANSWER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def degrade(msg: message_pb2.Message, caps: Capabilities) -> message_pb2.Message:
    """`msg` as this channel can carry it (the same object if unchanged)."""
    kind = msg.WhichOneof("content")
    if kind == "interactive":
        action = msg.interactive.WhichOneof("action")
        if (action == "buttons" and not caps.buttons) or (action == "list" and not caps.lists):
            return _as_menu(msg)
    elif kind == "template" and not caps.templates:
        raise UnsupportedContent(
            "this channel cannot send templates and there is no fallback; send text instead"
        )
    elif kind == "reaction" and not caps.reactions:
        raise UnsupportedContent("this channel cannot send reactions")
    elif kind == "location" and not caps.location:
        loc = msg.location
        lines = [
            loc.name,
            loc.address,
            f"https://maps.google.com/?q={loc.latitude},{loc.longitude}",
        ]
        return _as_text(msg, "\n".join(line for line in lines if line))
    elif kind == "contacts" and not caps.contacts:
        cards = [
            " ".join([c.name.formatted_name, *(p.phone for p in c.phones)]).strip()
            for c in msg.contacts.contacts
        ]
        return _as_text(msg, "\n".join(card for card in cards if card))
    elif kind in ("image", "video", "audio", "document", "sticker") and not caps.media:
        media: message_pb2.MediaContent = getattr(msg, kind)
        if not media.link:
            raise UnsupportedContent(f"this channel cannot send {kind} media")
        return _as_text(msg, "\n".join(p for p in (media.caption, media.link) if p))
    return msg


def degrade_or_refuse(msg: message_pb2.Message, caps: Capabilities) -> message_pb2.Message:
    """`degrade` for API callers: no fallback is a FailedPrecondition (REST 422)."""
    try:
        return degrade(msg, caps)
    except UnsupportedContent as exc:
        raise FailedPrecondition(str(exc)) from None


def _as_text(msg: message_pb2.Message, body: str) -> message_pb2.Message:
    if not body:
        raise UnsupportedContent("nothing left to send after the text fallback")
    out = M.Message()
    out.CopyFrom(msg)
    out.text.CopyFrom(M.TextContent(body=body))  # replaces the content oneof
    return out


def _as_menu(msg: message_pb2.Message) -> message_pb2.Message:
    ic = msg.interactive
    menu = M.FallbackMenu(is_list=ic.WhichOneof("action") == "list")
    lines: list[str] = []
    if ic.header.WhichOneof("kind") == "text" and ic.header.text:
        lines.append(f"*{ic.header.text}*")
    if ic.body:
        lines.append(ic.body)
    lines.append("")
    if menu.is_list:
        for section in ic.list.sections:
            if section.title:
                lines.append(f"_{section.title}_")
            for row in section.rows:
                menu.options.append(
                    M.FallbackOption(id=row.id, title=row.title, description=row.description)
                )
                detail = f" - {row.description}" if row.description else ""
                lines.append(f"{len(menu.options)}. {row.title}{detail}")
    else:
        for button in ic.buttons.buttons:
            menu.options.append(M.FallbackOption(id=button.id, title=button.title))
            lines.append(f"{len(menu.options)}. {button.title}")
    if not menu.options:
        raise UnsupportedContent("interactive message has no options to number")
    lines.append("")
    lines.append(ic.footer or "Reply with the number of your choice.")
    out = _as_text(msg, "\n".join(lines).strip())
    out.fallback_menu.CopyFrom(menu)
    return out


def answer_number(msg: message_pb2.Message) -> int | None:
    """The option number a text message answers with, if it is only a number."""
    if msg.WhichOneof("content") != "text":
        return None
    match = _ANSWER.match(msg.text.body)
    return int(match.group(1)) if match else None


async def map_numeric_reply(msg: message_pb2.Message) -> None:
    """Turn an inbound "2" that answers our last numbered menu into the reply it
    stands for (in place). Any other message is left as it is."""
    number = answer_number(msg)
    if number is None or msg.direction != M.DIRECTION_INBOUND:
        return
    found = await menus.last_menu(msg.channel_id, msg.contact)
    if found is None:
        return
    menu_message_id, menu = found
    if not 1 <= number <= len(menu.options):
        return
    option = menu.options[number - 1]
    if menu.is_list:
        msg.list_reply.CopyFrom(
            M.ListReplyContent(id=option.id, title=option.title, description=option.description)
        )
    else:
        msg.button_reply.CopyFrom(M.ButtonReplyContent(id=option.id, title=option.title))
    if menu_message_id and not msg.context.reply_to_id:
        msg.context.reply_to_id = menu_message_id
