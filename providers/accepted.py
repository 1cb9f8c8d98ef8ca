"""The one rule for a send the provider accepted without saying which message it made.

A 2xx answer means the provider took the request: Meta documents its success answer
as "accepted, not delivered" with the new message's id in `messages[0].id`
(https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages),
and WAHA answers with the created message
(https://waha.devlike.pro/docs/how-to/send-messages/). When that id is missing, the
message may well be on its way. Neither API takes an idempotency key, so a retry
could deliver it twice, and the outbox promises that one idempotency key sends at
most once. So the send is failed as PERMANENT, with a reason that says what happened,
for every provider: an operator can check the conversation and resend on purpose.
"""

from __future__ import annotations

from core.errors import ErrorKind, SendError


def accepted_without_id(who: str, http_status: int = 0) -> SendError:
    """The error for a 2xx send answer that names no message id (never retried).

    `who` names the provider in the message ("Meta API", "QR engine").
    """
    status = f" (HTTP {http_status})" if http_status else ""
    return SendError(
        ErrorKind.PERMANENT,
        f"{who} accepted the send{status} but returned no message id; not retried, "
        "since a retry could deliver the message twice",
        http_status=http_status,
    )
