"""Marketing templates are not sent to a contact who stopped marketing messages.

WhatsApp lets a user stop a business's marketing messages (Meta's
user_preferences webhook); Meta then refuses such sends anyway, after charging
nothing but a round trip. The gateway refuses them first, with an error that
says why, before anything is stored or sent. Only MARKETING templates are
refused: utility and authentication templates and free-form messages go through.
"""

from __future__ import annotations

from core.errors import FailedPrecondition
from gateway.tenants import ChannelRuntime
from storage import contact_events, templates
from storage.contacts import contact_key, outbound_contact
from storage.writer import writer
from wagate.v1 import message_pb2

MARKETING = "MARKETING"
STOPPED = "stop"


async def check_marketing(
    tenant_id: str, rt: ChannelRuntime, to: str, msg: message_pb2.Message
) -> None:
    """FailedPrecondition for a marketing template to a contact who stopped them."""
    if msg.WhichOneof("content") != "template":
        return
    template = msg.template
    category = template.category or await writer().read(
        templates.template_category, tenant_id, template.name, template.language_code
    )
    if category.upper() != MARKETING:
        return
    key = contact_key(outbound_contact(to))
    if await writer().read(contact_events.marketing_choice, rt.id, key) == STOPPED:
        raise FailedPrecondition(
            f"{to} stopped marketing messages on channel '{rt.id}': marketing template"
            f" '{template.name}' not sent (utility and authentication templates, and"
            " messages inside the customer service window, are still allowed)"
        )
