"""Every error wagate raises on purpose, and what each one means on the wire.

The bottom of the import graph: this module imports nothing of ours, so any layer
(providers, storage, realtime, gateway) may raise these without importing upward.
One class per meaning, each mapped once to its HTTP status, gRPC status code and
the `code` string of the JSON error envelope (see docs/architecture.md).
"""

from __future__ import annotations

import enum

from grpc import StatusCode

__all__ = [
    "ApiError",
    "ConfigError",
    "Conflict",
    "ErrorKind",
    "FailedPrecondition",
    "InvalidArgument",
    "NotFound",
    "PayloadError",
    "PermissionDenied",
    "ResourceExhausted",
    "SendError",
    "SignatureError",
    "Unauthenticated",
    "Unavailable",
    "UnsupportedContent",
    "WagateError",
    "envelope",
]


class WagateError(Exception):
    """Base of every error below: something wagate reports rather than a bug."""


# -- errors a client of the REST, gRPC or Socket.IO API is answered with -------


def envelope(code: str, message: str) -> dict[str, dict[str, str]]:
    """The JSON error body of REST and Socket.IO: `{"error": {"code", "message"}}`."""
    return {"error": {"code": code, "message": message}}


class ApiError(WagateError):
    """A request failed; `code`, `http_status` and `grpc_code` say how it is answered."""

    code: str = "internal"
    http_status: int = 500
    grpc_code: StatusCode = StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(ApiError):
    """The request itself is malformed or names something impossible."""

    code, http_status, grpc_code = "invalid_argument", 400, StatusCode.INVALID_ARGUMENT


class Unauthenticated(ApiError):
    """No credentials, or credentials that match nothing."""

    code, http_status, grpc_code = "unauthenticated", 401, StatusCode.UNAUTHENTICATED


class PermissionDenied(ApiError):
    """Valid credentials that do not reach the resource asked for."""

    code, http_status, grpc_code = "permission_denied", 403, StatusCode.PERMISSION_DENIED


class NotFound(ApiError):
    """The resource (tenant, channel, message, session, bot) does not exist."""

    code, http_status, grpc_code = "not_found", 404, StatusCode.NOT_FOUND


class Conflict(ApiError):
    """The resource already exists, or is not this API's to change (admin API: 409)."""

    code, http_status, grpc_code = "conflict", 409, StatusCode.ALREADY_EXISTS


class FailedPrecondition(ApiError):
    """The request is well formed but the channel or state cannot honour it."""

    code, http_status, grpc_code = "failed_precondition", 422, StatusCode.FAILED_PRECONDITION


class ResourceExhausted(ApiError):
    """A stream consumer fell too far behind and was cut off."""

    code, http_status, grpc_code = "resource_exhausted", 429, StatusCode.RESOURCE_EXHAUSTED


class Unavailable(ApiError):
    """A dependency (database, provider, event log) cannot answer right now."""

    code, http_status, grpc_code = "unavailable", 503, StatusCode.UNAVAILABLE


# -- errors of configuration ---------------------------------------------------


class ConfigError(WagateError):
    """The configuration is wrong; the message names the key."""


# -- errors a provider adapter raises (providers.base re-exports them) ----------


class SignatureError(WagateError):
    """The webhook's signature is missing or wrong."""

    code = "invalid_signature"
    http_status = 401


class PayloadError(WagateError):
    """The webhook body is not what the provider documents."""

    code = "invalid_payload"
    http_status = 400


class ErrorKind(enum.StrEnum):
    """How the outbox treats a failed send: retry, back off, or give up."""

    RETRYABLE = "retryable"
    RATE_LIMITED = "rate_limited"
    PERMANENT = "permanent"
    AUTH_EXPIRED = "auth_expired"


class SendError(WagateError):
    """A provider refused or failed a send; `kind` drives the retry policy."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        code: int = 0,
        title: str = "",
        details: str = "",
        http_status: int = 0,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.title = title
        self.details = details
        self.http_status = http_status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in (ErrorKind.RETRYABLE, ErrorKind.RATE_LIMITED)


class UnsupportedContent(WagateError):
    """The channel cannot carry this content and no fallback exists."""
