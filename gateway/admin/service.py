"""The admin API, transport-neutral: REST (gateway/admin/rest.py) and gRPC
(gateway/admin/grpc.py) call the same methods with the same dicts.

A tenant, key, channel or bot chain made here behaves exactly like one from the config
file: a channel is validated by the config file's own functions (the provider's settings
declarations, the same one-line messages, here as InvalidArgument naming the key), and
applied through the same registry. Each change is one transaction (storage/admin.py),
then applied on this process before the method returns, then announced to the others
(gateway/admin/live.py). Tenants of the config file are read-only here (Conflict).
Secrets are sealed at rest (gateway/admin/secrets.py), masked in every read and in the
audit log; an API key is shown once and stored as its SHA-256.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from core.errors import ConfigError, Conflict, FailedPrecondition, InvalidArgument, NotFound
from gateway.admin.auth import AdminAuth
from gateway.admin.live import LiveConfig
from gateway.admin.sealed import (
    MASK,
    mask_bots,
    mask_channel,
    open_bots,
    open_channel,
    seal_bots,
    seal_channel,
)
from gateway.admin.secrets import SecretBox
from gateway.config import (
    DEFAULT_RATE_LIMIT,
    ChannelConfig,
    TenantConfig,
    bots_config,
    channel_config,
    check_tenant_id,
)
from gateway.tenants import key_digest
from providers.registry import provider_class
from storage import admin as store
from storage.times import now
from storage.writer import writer

R = TypeVar("R")
log = logging.getLogger("wagate.admin")

KEY_PREFIX = "wag_"
MANAGED_BY_CONFIG, MANAGED_BY_API = "config", "api"
# What a channel object must keep: the rest of the body may change.
_FIXED_KEYS = ("id", "provider")


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


def _invalid(exc: ConfigError) -> InvalidArgument:
    return InvalidArgument(str(exc))


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidArgument(f"{what}: expected a JSON object")
    return body


def config_channel(cfg: ChannelConfig) -> dict[str, Any]:
    """A config-file channel as its object in the file (secrets still in)."""
    out: dict[str, Any] = {"id": cfg.id, "provider": cfg.provider, **cfg.settings}
    if cfg.rate_limit != DEFAULT_RATE_LIMIT:
        out["rate_limit"] = cfg.rate_limit
    if cfg.simulator:
        out["simulator"] = True
    return out


class AdminService:
    def __init__(
        self,
        auth: AdminAuth,
        live: LiveConfig,
        box: SecretBox | None,
        config_tenants: tuple[TenantConfig, ...],
    ) -> None:
        self.auth = auth
        self.live = live
        self.box = box
        self._config = {t.id: t for t in config_tenants}
        self._config_channels = {c.id for t in config_tenants for c in t.channels}
        self._config_routes = {
            (c.provider, _route(c)) for t in config_tenants for c in t.channels if _route(c)
        }

    def authenticate(self, token: str | None) -> str:
        """The actor id of an admin key; NotFound when no admin key is configured,
        PermissionDenied for a tenant key, Unauthenticated otherwise."""
        return self.auth.authenticate(token)

    # -- helpers --------------------------------------------------------------------------

    async def _read(self, fn: Callable[..., Awaitable[R]], *args: Any) -> R:
        return await writer().read(fn, *args)

    async def _change(self, fn: Callable[..., Awaitable[R]], *args: Any) -> R:
        """Commit, apply here (so the change is live when the caller hears back), announce."""
        result = await writer().run(fn, *args)
        try:
            version = await self.live.catch_up()
        except Exception as exc:  # committed: the next poll applies it here too
            log.warning("admin change not applied yet", extra={"error": type(exc).__name__})
            version = self.live.version + 1
        await self.live.announce(version)
        return result

    def _writable(self, tenant_id: str) -> None:
        if tenant_id in self._config:
            raise Conflict(f"tenant '{tenant_id}' is managed by the config file; change it there")

    def _sealing_box(self) -> SecretBox:
        if self.box is None:
            raise FailedPrecondition(
                "WAGATE_SECRET_KEY is not set: the admin API stores secrets only encrypted;"
                " set it on every replica and restart"
            )
        return self.box

    # -- tenants --------------------------------------------------------------------------

    async def list_tenants(self) -> list[dict[str, Any]]:
        out = [self._config_tenant(t) for t in self._config.values()]
        for row in await self._read(store.tenants):
            out.append(await self._api_tenant(row))
        return out

    def _config_tenant(self, t: TenantConfig) -> dict[str, Any]:
        return {
            "id": t.id,
            "managedBy": MANAGED_BY_CONFIG,
            "createdAt": None,
            "channels": [c.id for c in t.channels],
            "apiKeys": [{"id": key_digest(k).hex()[:12], "createdAt": None} for k in t.api_keys],
        }

    async def _api_tenant(self, row: store.TenantRow) -> dict[str, Any]:
        keys = await self._read(store.keys, row.id)
        channels = await self._read(store.channels, row.id)
        return {
            "id": row.id,
            "managedBy": MANAGED_BY_API,
            "createdAt": _iso(row.created_at),
            "channels": [c.id for c in channels],
            "apiKeys": [{"id": k.id, "createdAt": _iso(k.created_at)} for k in keys],
        }

    async def create_tenant(self, actor: str, tenant_id: str) -> dict[str, Any]:
        try:
            tenant_id = check_tenant_id(tenant_id, "id")
        except ConfigError as exc:
            raise _invalid(exc) from None
        if tenant_id in self._config:
            raise Conflict(f"tenant '{tenant_id}' already exists")
        self._sealing_box()
        change = store.Change(actor, "tenant.create", tenant_id, now(), tenant_id)
        row = await self._change(store.create_tenant, change)
        return await self._api_tenant(row)

    async def get_tenant(self, tenant_id: str) -> dict[str, Any]:
        if tenant_id in self._config:
            return self._config_tenant(self._config[tenant_id])
        return await self._api_tenant(await self._read(store.live_tenant, tenant_id))

    async def delete_tenant(self, actor: str, tenant_id: str) -> None:
        self._writable(tenant_id)
        change = store.Change(actor, "tenant.delete", tenant_id, now(), tenant_id)
        await self._change(store.delete_tenant, change)

    # -- API keys -------------------------------------------------------------------------

    async def create_api_key(self, actor: str, tenant_id: str) -> dict[str, Any]:
        """`{"id", "key"}`: the key is shown this once; only its SHA-256 is stored."""
        self._writable(tenant_id)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        key_id = "key_" + secrets.token_hex(8)
        change = store.Change(actor, "api_key.create", tenant_id, now(), key_id)
        await self._change(store.create_key, change, key_id, key_digest(key).hex())
        return {"id": key_id, "key": key}

    async def revoke_api_key(self, actor: str, tenant_id: str, key_id: str) -> None:
        self._writable(tenant_id)
        change = store.Change(actor, "api_key.revoke", tenant_id, now(), key_id)
        await self._change(store.revoke_key, change, key_id)

    # -- channels -------------------------------------------------------------------------

    async def list_channels(self, tenant_id: str) -> list[dict[str, Any]]:
        if tenant_id in self._config:
            return [mask_channel(config_channel(c)) for c in self._config[tenant_id].channels]
        await self._read(store.live_tenant, tenant_id)
        return [mask_channel(r.config) for r in await self._read(store.channels, tenant_id)]

    async def get_channel(self, tenant_id: str, channel_id: str) -> dict[str, Any]:
        if tenant_id in self._config:
            for c in self._config[tenant_id].channels:
                if c.id == channel_id:
                    return mask_channel(config_channel(c))
            raise NotFound(f"channel '{channel_id}' not found")
        await self._read(store.live_tenant, tenant_id)
        return mask_channel((await self._read(store.channel, tenant_id, channel_id)).config)

    def _validated(self, tenant_id: str, body: dict[str, Any]) -> store.ChannelRow:
        """The channel as storage keeps it (secrets sealed), validated like the file's;
        Conflict when the config file uses its id or its provider route."""
        if body.get("simulator"):
            raise InvalidArgument("simulator: simulated channels come from the config file")
        try:
            cfg = channel_config(body, "", set())
        except ConfigError as exc:
            raise _invalid(exc) from None
        route = _route(cfg)
        if cfg.id in self._config_channels:
            raise Conflict(f"channel id '{cfg.id}' is already in use")
        if (cfg.provider, route) in self._config_routes:
            raise Conflict(f"{cfg.provider} route '{route}' is already in use by another channel")
        sealed = seal_channel(self._sealing_box(), tenant_id, body)
        return store.ChannelRow(cfg.id, tenant_id, cfg.provider, route, sealed)

    async def create_channel(
        self, actor: str, tenant_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        self._writable(tenant_id)
        body = _object(body, "channel")
        row = self._validated(tenant_id, body)
        change = store.Change(
            actor, "channel.create", tenant_id, now(), row.id, {"channel": mask_channel(body)}
        )
        await self._change(store.create_channel, change, row)
        return mask_channel(body)

    async def patch_channel(
        self, actor: str, tenant_id: str, channel_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Merges keys (JSON merge patch, RFC 7396: null removes a key; a secret sent as
        "***" keeps the stored one). `id` and `provider` cannot change."""
        self._writable(tenant_id)
        body = _object(body, "channel")
        box = self._sealing_box()

        def merge(old: store.ChannelRow) -> store.ChannelRow:
            current = open_channel(box, tenant_id, old.config)
            for key in _FIXED_KEYS:
                if key in body and body[key] != current[key]:
                    raise InvalidArgument(f"{key}: cannot be changed (delete the channel instead)")
            merged = dict(current)
            for key, value in body.items():
                if value is None:
                    merged.pop(key, None)
                elif value != MASK or key not in current:
                    merged[key] = value
            return self._validated(tenant_id, merged)

        provider = await self._provider_of(tenant_id, channel_id)
        masked = mask_channel({**body, "provider": provider})
        changes = {k: v for k, v in masked.items() if k in body}
        change = store.Change(
            actor, "channel.update", tenant_id, now(), channel_id, {"changes": changes}
        )
        new = await self._change(store.update_channel, change, channel_id, merge)
        return mask_channel(new.config)

    async def _provider_of(self, tenant_id: str, channel_id: str) -> str:
        await self._read(store.live_tenant, tenant_id)
        return (await self._read(store.channel, tenant_id, channel_id)).provider

    async def delete_channel(self, actor: str, tenant_id: str, channel_id: str) -> None:
        self._writable(tenant_id)
        change = store.Change(actor, "channel.delete", tenant_id, now(), channel_id)
        await self._change(store.delete_channel, change, channel_id)

    # -- bots -----------------------------------------------------------------------------

    async def get_bots(self, tenant_id: str) -> list[dict[str, Any]]:
        if tenant_id in self._config:
            raise Conflict(
                f"tenant '{tenant_id}' is managed by the config file; its bots are there"
            )
        row = await self._read(store.live_tenant, tenant_id)
        return mask_bots(open_bots(self.box, tenant_id, row.bots))

    async def put_bots(self, actor: str, tenant_id: str, bots: list[Any]) -> list[dict[str, Any]]:
        """The whole chain, exactly as the config file's `bots:` list."""
        self._writable(tenant_id)
        try:
            bots_config(bots, "bots", set())
        except ConfigError as exc:
            raise _invalid(exc) from None
        sealed = seal_bots(self._sealing_box(), tenant_id, bots)
        change = store.Change(
            actor, "bots.put", tenant_id, now(), "bots", {"bots": mask_bots(bots)}
        )
        await self._change(store.set_bots, change, sealed)
        return mask_bots(bots)

    # -- audit ----------------------------------------------------------------------------

    async def audit(
        self, tenant_id: str | None, after: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Entries oldest first, after the entry id `after` (secrets were masked when
        they were written)."""
        try:
            after_id = int(after) if after else None
        except ValueError:
            raise InvalidArgument("after: expected an audit entry id") from None
        rows = await self._read(store.audit, tenant_id, after_id, limit)
        return [{**r, "at": _iso(r["at"])} for r in rows]


def _route(cfg: ChannelConfig) -> str | None:
    """The provider route a channel takes webhooks on (phone number id, session id)."""
    return provider_class(cfg.provider).from_channel(cfg.id, cfg.settings).route_key() or None
