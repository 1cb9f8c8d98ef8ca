"""Channel and bot secrets encrypted at rest with WAGATE_SECRET_KEY (docs/admin.md).

AES-256-GCM, an AEAD: a sealed value cannot be read without the key, and any change
to it (or to what it is bound to) fails its tag. Each value is bound through the
associated data to what it belongs to (say `channel:acme/meta:app_secret`), so a
sealed value copied into another row or key does not open there.

`WAGATE_SECRET_KEY` holds one key or several, comma separated: the first seals, all
open. Every sealed value names the id of the key that sealed it, so a key is rotated
by putting the new one first (`new,old`), re-saving the secrets, then dropping `old`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import ConfigError

__all__ = ["VERSION", "SecretBox"]

VERSION = "v1"
NONCE_BYTES = 12  # the GCM nonce size NIST SP 800-38D recommends; random per value
_INFO = b"wagate secret box v1"


def derive(key: str) -> bytes:
    """32 bytes from any key string: a passphrase and `openssl rand -base64 32` both work.

    HKDF-SHA256 (RFC 5869) with a fixed info string; no salt, so the same key
    string always derives the same key on every replica and after a restart.
    """
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key.encode())


def key_id_of(derived: bytes) -> str:
    """The id stored in each sealed value: 8 hex digits of the derived key's SHA-256."""
    return hashlib.sha256(derived).hexdigest()[:8]


class SecretBox:
    """AES-256-GCM (cryptography's AESGCM), 12-byte random nonce, AAD: what a value is for."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigError("WAGATE_SECRET_KEY: no key given")
        self._aeads: dict[str, AESGCM] = {}
        for key in keys:
            derived = derive(key)
            self._aeads.setdefault(key_id_of(derived), AESGCM(derived))
        self.key_id = key_id_of(derive(keys[0]))

    @classmethod
    def from_env(cls, value: str | None) -> SecretBox | None:
        """The box for WAGATE_SECRET_KEY ("k1[,k2...]"), or None when it is unset or blank."""
        keys = [k.strip() for k in (value or "").split(",") if k.strip()]
        return cls(keys) if keys else None

    @property
    def key_ids(self) -> list[str]:
        """Every key id this box opens, the sealing one first."""
        return list(self._aeads)

    def seal(self, plaintext: str, aad: str) -> str:
        """`v1.<key_id>.<urlsafe b64 nonce+ciphertext>` of `plaintext`, bound to `aad`."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aeads[self.key_id].encrypt(
            nonce, plaintext.encode(), self._associated(self.key_id, aad)
        )
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{VERSION}.{self.key_id}.{body}"

    def open(self, sealed: str, aad: str) -> str:
        """The plaintext of a value `seal` returned for the same `aad`; ConfigError otherwise.

        The message names what failed to open (`aad`) and the key id, never the value.
        """
        version, _, rest = sealed.partition(".")
        key_id, _, body = rest.partition(".")
        if version != VERSION or not key_id or not body:
            raise ConfigError(f"secret {aad}: not a sealed value of this gateway")
        aead = self._aeads.get(key_id)
        if aead is None:
            raise ConfigError(
                f"secret {aad}: sealed with key {key_id}, which WAGATE_SECRET_KEY does not hold "
                f"(it holds {', '.join(self.key_ids)})"
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._associated(key_id, aad)
            )
            return plain.decode()
        except (InvalidTag, ValueError, binascii.Error) as exc:
            raise ConfigError(
                f"secret {aad}: does not open with key {key_id} (altered, or sealed for another)"
            ) from exc

    @staticmethod
    def _associated(key_id: str, aad: str) -> bytes:
        """The header is authenticated too, so a value relabelled to another key id fails."""
        return f"{VERSION}.{key_id}.{aad}".encode()
