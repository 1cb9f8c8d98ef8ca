"""Lookup for numbered-menu answers (gateway.fallback): the last message we sent a
contact on a channel, if it was a degraded menu."""

from __future__ import annotations

from storage import models
from storage.contacts import contact_key
from wagate.v1 import message_pb2

M = message_pb2


async def last_menu(
    channel_id: str, contact: message_pb2.Contact
) -> tuple[str, message_pb2.FallbackMenu] | None:
    """(provider message id, menu) of the contact's last outbound message on the
    channel when that message was a numbered menu; None otherwise."""
    key = contact_key(contact)
    if not key:
        return None
    row = await models.Contact.get_or_none(channel_id=channel_id, key=key)
    if row is None:
        return None
    conversation = await models.Conversation.get_or_none(channel_id=channel_id, contact_id=row.id)
    if conversation is None:
        return None
    last = (
        await models.Message.filter(conversation_id=conversation.id, direction=M.DIRECTION_OUTBOUND)
        .order_by("-seq")
        .first()
    )
    if last is None:
        return None
    msg = M.Message.FromString(last.payload)
    if not msg.HasField("fallback_menu"):
        return None
    return last.provider_message_id or "", msg.fallback_menu
