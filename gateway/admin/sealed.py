"""Channel objects and bot chains as the database keeps them: secrets sealed.

A channel object is stored as written (`id`, `provider`, the provider's keys), each
value of a key its provider declares secret (`secret_settings`) sealed on its own and
bound to the tenant, channel and key; a bot chain is sealed whole, bound to its
tenant (gateway/admin/secrets.py). Reads of the admin API show a secret as `"***"`.
"""

from __future__ import annotations

import json
from typing import Any

from core.errors import ConfigError
from gateway.admin.secrets import SecretBox
from gateway.config import BOT_SECRET_KEYS
from providers.registry import provider_class

MASK = "***"


def channel_secrets(provider: str) -> frozenset[str]:
    try:
        return provider_class(provider).secret_settings
    except ConfigError:
        return frozenset()


def _aad(tenant_id: str, channel_id: str, key: str) -> str:
    return f"channel:{tenant_id}/{channel_id}:{key}"


def seal_channel(box: SecretBox, tenant_id: str, channel: dict[str, Any]) -> dict[str, Any]:
    secret = channel_secrets(str(channel.get("provider")))
    cid = str(channel["id"])
    return {
        k: box.seal(str(v), _aad(tenant_id, cid, k)) if k in secret and v is not None else v
        for k, v in channel.items()
    }


def open_channel(box: SecretBox | None, tenant_id: str, stored: dict[str, Any]) -> dict[str, Any]:
    """The plaintext channel object; ConfigError when a secret cannot be opened."""
    secret = channel_secrets(str(stored.get("provider")))
    cid = str(stored["id"])
    out = {}
    for k, v in stored.items():
        if k in secret and v is not None:
            if box is None:
                raise ConfigError(f"channel {cid}: WAGATE_SECRET_KEY is not set")
            v = box.open(str(v), _aad(tenant_id, cid, k))
        out[k] = v
    return out


def mask_channel(channel: dict[str, Any]) -> dict[str, Any]:
    secret = channel_secrets(str(channel.get("provider")))
    return {k: MASK if k in secret and v is not None else v for k, v in channel.items()}


def seal_bots(box: SecretBox, tenant_id: str, bots: list[Any]) -> str:
    return box.seal(json.dumps(bots), f"bots:{tenant_id}") if bots else ""


def open_bots(box: SecretBox | None, tenant_id: str, sealed: str) -> list[Any]:
    if not sealed:
        return []
    if box is None:
        raise ConfigError(f"tenant {tenant_id}: bots: WAGATE_SECRET_KEY is not set")
    bots = json.loads(box.open(sealed, f"bots:{tenant_id}"))
    return bots if isinstance(bots, list) else []


def mask_bots(bots: list[Any]) -> list[Any]:
    return [
        {k: MASK if k in BOT_SECRET_KEYS and v else v for k, v in b.items()}
        if isinstance(b, dict)
        else b
        for b in bots
    ]
