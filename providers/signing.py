"""Shared webhook checks: HMAC signatures over raw bytes, and JSON decoding."""

from __future__ import annotations

import hmac
from typing import Any

import orjson

from core.errors import PayloadError, SignatureError


def hmac_hex(secret: str, body: bytes, algorithm: str = "sha256") -> str:
    return hmac.digest(secret.encode(), body, algorithm).hex()


def verify_hmac(
    secret: str, body: bytes, signature: str | None, *, algorithm: str = "sha256", prefix: str = ""
) -> None:
    """Constant-time check of `prefix + hex(HMAC(secret, body))`; raises SignatureError."""
    if not signature:
        raise SignatureError("missing signature")
    if prefix:
        if not signature.startswith(prefix):
            raise SignatureError(f"signature must start with '{prefix}'")
        signature = signature[len(prefix) :]
    expected = hmac_hex(secret, body, algorithm)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise SignatureError("signature mismatch")


def decode_json(body: bytes) -> Any:
    if not body:
        raise PayloadError("empty body")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"malformed JSON: {exc}") from None
