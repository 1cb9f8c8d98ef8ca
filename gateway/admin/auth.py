"""Who may call the admin API: bearer admin keys (WAGATE_ADMIN_KEY, `admin_keys:`).

No admin key configured: the admin API is absent (NotFound, as for any unknown route).
A key is compared with every admin key in constant time (hmac.compare_digest over
their SHA-256 digests, so neither the content nor the length of a key shows in the
timing). A tenant's API key is told it is the wrong kind of key (PermissionDenied).
The actor an audit entry names is the admin key's id, a prefix of its digest: never
the key itself.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

from core.errors import ApiError, NotFound, PermissionDenied, Unauthenticated

ADMIN_ID_HEX = 12


def admin_key_id(key: str) -> str:
    """`admin:<12 hex of SHA-256>`: names an admin key in the audit log."""
    return "admin:" + hashlib.sha256(key.encode()).hexdigest()[:ADMIN_ID_HEX]


class AdminAuth:
    def __init__(self, keys: Sequence[str], tenant_for_key: Callable[[str], str]) -> None:
        self._keys = [(hashlib.sha256(k.encode()).digest(), admin_key_id(k)) for k in keys]
        self._tenant_for_key = tenant_for_key

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def authenticate(self, token: str | None) -> str:
        """The actor id of an admin key; NotFound when the admin API is off,
        PermissionDenied for a tenant key, Unauthenticated otherwise."""
        if not self._keys:
            raise NotFound("not found")
        if not token:
            raise Unauthenticated("missing 'Authorization: Bearer <admin key>'")
        digest = hashlib.sha256(token.encode()).digest()
        actor = ""
        for known, key_id in self._keys:  # every key compared, whichever matches
            if hmac.compare_digest(digest, known):
                actor = key_id
        if actor:
            return actor
        try:
            self._tenant_for_key(token)
        except ApiError:
            raise Unauthenticated("invalid admin key") from None
        raise PermissionDenied("a tenant API key cannot use the admin API; use an admin key")
