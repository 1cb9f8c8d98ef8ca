"""Realtime tokens: short-lived, HMAC-signed credentials for browsers' Socket.IO connections.

Format: `wrt1.<payload>.<signature>`, both parts base64url without padding.
The payload is JSON `{"t": tenant, "c": [conversation ids] (optional), "iat": s, "exp": s}`;
the signature is HMAC-SHA256 over `wrt1.<payload>` with the server's realtime secret.
A token names its tenant and, optionally, the only conversations it may see.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import InvalidArgument, Unauthenticated

PREFIX = "wrt1."
DEFAULT_TTL = 900
MAX_TTL = 3600
MAX_CONVERSATIONS = 100


@dataclass(frozen=True)
class Grant:
    """Who a connection is: a tenant, and the conversations it is limited to (None: all)."""

    tenant_id: str
    conversations: frozenset[str] | None = None

    def allows(self, conversation_id: str) -> bool:
        return self.conversations is None or conversation_id in self.conversations


@dataclass(frozen=True)
class Minted:
    token: str
    expires_at: int
    conversations: tuple[str, ...]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def ttl_seconds(requested: int | None) -> int:
    if not requested:
        return DEFAULT_TTL
    if not 1 <= requested <= MAX_TTL:
        raise InvalidArgument(f"ttl_seconds must be between 1 and {MAX_TTL}")
    return requested


class TokenSigner:
    def __init__(self, secret: str | None) -> None:
        # Without a configured secret, a random key per process: tokens then die with
        # the process, and replicas cannot verify each other's (set realtime_secret).
        self.ephemeral = not secret
        self._key = secret.encode() if secret else secrets.token_bytes(32)

    def _sign(self, signed_part: str) -> str:
        return _b64(hmac.new(self._key, signed_part.encode(), hashlib.sha256).digest())

    def mint(
        self,
        tenant_id: str,
        conversations: Sequence[str] = (),
        ttl: int | None = None,
        now: float | None = None,
    ) -> Minted:
        if len(conversations) > MAX_CONVERSATIONS:
            raise InvalidArgument(f"at most {MAX_CONVERSATIONS} conversation ids per token")
        issued = int(now if now is not None else time.time())
        expires = issued + ttl_seconds(ttl)
        claims: dict[str, object] = {"t": tenant_id, "iat": issued, "exp": expires}
        scope = tuple(dict.fromkeys(conversations))
        if scope:
            claims["c"] = list(scope)
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signed = PREFIX + payload
        return Minted(f"{signed}.{self._sign(signed)}", expires, scope)

    def verify(self, token: str, now: float | None = None) -> Grant:
        """The grant of a valid token; Unauthenticated (without detail) otherwise."""
        if not token.startswith(PREFIX) or token.count(".") != 2:
            raise Unauthenticated("invalid realtime token")
        signed, _, signature = token.rpartition(".")
        if not hmac.compare_digest(self._sign(signed), signature):
            raise Unauthenticated("invalid realtime token")
        try:
            claims = json.loads(_unb64(signed[len(PREFIX) :]))
            tenant_id = str(claims["t"])
            expires = int(claims["exp"])
            scope = claims.get("c")
        except (ValueError, KeyError, TypeError):
            raise Unauthenticated("invalid realtime token") from None
        if expires <= (now if now is not None else time.time()):
            raise Unauthenticated("realtime token expired")
        return Grant(tenant_id, frozenset(map(str, scope)) if scope else None)


def is_realtime_token(token: str) -> bool:
    return token.startswith(PREFIX)
