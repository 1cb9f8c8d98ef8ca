"""Meta's WhatsApp error codes, one entry each, and what the outbox does about them.

Meta documents every code on its error codes page (`ERROR_CODES_PAGE`) and asks
integrations to act on `code` (plus `error_data.details`), not on the message text or
the HTTP status. Each entry below is one code from that page: its title there, and
the `ErrorKind` that decides whether the outbox retries (retryable, rate-limited),
asks for new credentials (auth expired) or fails the send for good (permanent). A code
not listed falls back to the HTTP status (`providers.meta_cloud.send.classify_error`).
The layout follows pywa's `errors.py` (https://github.com/david-lev/pywa), which keeps
one class per Meta code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.errors import ErrorKind

ERROR_CODES_PAGE = (
    "https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes"
)
THROUGHPUT_PAGE = (
    "https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput"
)

AUTH = ErrorKind.AUTH_EXPIRED
RATE = ErrorKind.RATE_LIMITED
RETRY = ErrorKind.RETRYABLE
FAIL = ErrorKind.PERMANENT


@dataclass(frozen=True)
class MetaErrorCode:
    """One Meta error code: its title on Meta's page, and how a send that hits it ends."""

    code: int
    title: str
    kind: ErrorKind
    url: str = ERROR_CODES_PAGE


_ENTRIES = (
    # Authorization: the token is expired, revoked or lacks a permission.
    MetaErrorCode(0, "AuthException: the access token expired or was invalidated", AUTH),
    MetaErrorCode(190, "Access token has expired", AUTH),
    MetaErrorCode(3, "API Method: capability or permissions issue", FAIL),
    MetaErrorCode(10, "API Permission Denied: permission not granted or revoked", FAIL),
    *(
        MetaErrorCode(code, "API Permission: permission not granted or revoked", FAIL)
        for code in range(200, 300)
    ),
    # Throttling: back off and retry.
    MetaErrorCode(4, "API Too Many Calls: the app's call rate limit", RATE),
    MetaErrorCode(80007, "Rate limit issues: the WhatsApp Business Account's limit", RATE),
    MetaErrorCode(130429, "Rate limit hit: messages per second", RATE, THROUGHPUT_PAGE),
    MetaErrorCode(131048, "Spam rate limit hit", RATE),
    MetaErrorCode(131056, "Pair rate limit hit: too many messages to this user", RATE),
    # Meta's side is briefly unavailable: retry.
    MetaErrorCode(1, "API Unknown: possibly a temporary server error", RETRY),
    MetaErrorCode(2, "API Service: temporary downtime or overload", RETRY),
    MetaErrorCode(131000, "Something went wrong", RETRY),
    MetaErrorCode(131016, "Service unavailable", RETRY),
    MetaErrorCode(131057, "Account in maintenance mode", RETRY),
    # The request, the account or the recipient rule the send out: fail it.
    MetaErrorCode(100, "Invalid parameter", FAIL),
    MetaErrorCode(368, "Temporarily blocked for policy violations", FAIL),
    MetaErrorCode(131008, "Required parameter is missing", FAIL),
    MetaErrorCode(131009, "Parameter value is not valid", FAIL),
    MetaErrorCode(131021, "Recipient cannot be sender", FAIL),
    MetaErrorCode(131026, "Message undeliverable", FAIL),
    MetaErrorCode(131031, "Account has been locked", FAIL),
    MetaErrorCode(131047, "Re-engagement message: more than 24 hours since the user wrote", FAIL),
    MetaErrorCode(131049, "Not delivered, to maintain healthy ecosystem engagement", FAIL),
    MetaErrorCode(131050, "The user stopped marketing messages", FAIL),
    MetaErrorCode(131051, "Unsupported message type", FAIL),
    MetaErrorCode(131052, "Media download error", FAIL),
    MetaErrorCode(131053, "Media upload error", FAIL),
    MetaErrorCode(132000, "Template parameter count mismatch", FAIL),
    MetaErrorCode(132001, "Template does not exist", FAIL),
)

META_ERROR_CODES: Mapping[int, MetaErrorCode] = {entry.code: entry for entry in _ENTRIES}


def kind_of(code: int | None) -> ErrorKind | None:
    """The outbox's kind for a Meta error code, or None for a code not listed."""
    entry = META_ERROR_CODES.get(code) if code is not None else None
    return entry.kind if entry is not None else None
