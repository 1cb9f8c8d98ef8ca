"""`Bearer <key>` credentials, the same for REST headers and gRPC metadata."""

from __future__ import annotations

_SCHEME = "bearer "


def bearer_token(value: str | bytes | None) -> str | None:
    """The key in an `Authorization: Bearer <key>` value; None when it is not one."""
    if isinstance(value, bytes):
        value = value.decode()
    if not value or not value.lower().startswith(_SCHEME):
        return None
    return value[len(_SCHEME) :].strip()
