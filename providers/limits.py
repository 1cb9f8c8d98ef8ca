"""WhatsApp's documented size limits for outbound messages, in one place.

The gateway checks every send against them before storing it
(`gateway/send_validation.py`), and a provider adapter may refuse what breaks them
before calling its API (`providers/meta_cloud/send.py`). Source: the send-messages
reference, https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
(text, media, interactive and template objects).
"""

from __future__ import annotations

TEXT_BODY = 4096
CAPTION = 1024
INTERACTIVE_BODY = 1024
INTERACTIVE_HEADER = 60
INTERACTIVE_FOOTER = 60
MAX_BUTTONS = 3
BUTTON_TITLE = 20
BUTTON_ID = 256
LIST_BUTTON = 20
MAX_SECTIONS = 10
MAX_ROWS = 10  # rows of all sections together
SECTION_TITLE = 24
ROW_ID = 200
ROW_TITLE = 24
ROW_DESCRIPTION = 72
# A template's header text parameter; body parameters are bounded by the body itself.
TEMPLATE_HEADER_TEXT = 60
