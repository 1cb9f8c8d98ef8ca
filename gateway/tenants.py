"""Tenants and channels at run time: API keys, provider instances, rate limiters.

A live registry: the config file's tenants from the start, and the admin API's
(gateway/admin) swapped in, changed and removed while traffic flows. Every lookup
reads one immutable `_View`; a change builds a new view and replaces the old one in a
single assignment. A webhook handler looks its channel up without an await between
the lookups, so it sees the old configuration or the new one, never half of each; a
channel object it holds keeps its provider (and secrets) for as long as it needs it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import aiohttp

from core.errors import NotFound, PermissionDenied, Unauthenticated
from gateway.config import ChannelConfig, Settings
from gateway.ratelimit import RateLimiter
from providers.base import Provider
from providers.registry import provider_class

log = logging.getLogger("wagate.tenants")


def key_digest(api_key: str) -> bytes:
    """How an API key is looked up (and how the admin API stores it): its SHA-256."""
    return hashlib.sha256(api_key.encode()).digest()


@dataclass
class ChannelRuntime:
    tenant_id: str
    config: ChannelConfig
    provider: Provider
    limiter: RateLimiter

    @property
    def id(self) -> str:
        return self.config.id


@dataclass(frozen=True)
class TenantSpec:
    """What a tenant brings to routing: the digests of its API keys, and its channels."""

    id: str
    key_digests: frozenset[bytes]
    channels: tuple[ChannelConfig, ...]


@dataclass(frozen=True)
class _View:
    tenants: Mapping[str, TenantSpec]
    channels: Mapping[str, ChannelRuntime]
    by_route: Mapping[tuple[str, str], ChannelRuntime]
    by_account: Mapping[tuple[str, str], list[ChannelRuntime]]
    keys: Mapping[bytes, str]


class Tenants:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._http: aiohttp.ClientSession | None = None
        specs = [
            TenantSpec(t.id, frozenset(key_digest(k) for k in t.api_keys), t.channels)
            for t in settings.tenants
        ]
        self._view = self._build({s.id: s for s in specs}, {})

    def _build(
        self, tenants: Mapping[str, TenantSpec], previous: Mapping[str, ChannelRuntime]
    ) -> _View:
        """A whole view. A channel whose configuration did not change keeps its runtime
        (provider, rate limiter); a changed one keeps its limiter if the rate is the same."""
        channels: dict[str, ChannelRuntime] = {}
        by_route: dict[tuple[str, str], ChannelRuntime] = {}
        by_account: dict[tuple[str, str], list[ChannelRuntime]] = {}
        keys: dict[bytes, str] = {}
        for tenant in tenants.values():
            for digest in tenant.key_digests:
                keys[digest] = tenant.id
            for cfg in tenant.channels:
                ch = self._runtime(tenant.id, cfg, previous.get(cfg.id))
                channels[cfg.id] = ch
                route = ch.provider.route_key()
                if route:
                    by_route[(ch.provider.kind, route)] = ch
                account = ch.provider.account_key()
                if account:
                    by_account.setdefault((ch.provider.kind, account), []).append(ch)
        return _View(dict(tenants), channels, by_route, by_account, keys)

    def _runtime(
        self, tenant_id: str, cfg: ChannelConfig, old: ChannelRuntime | None
    ) -> ChannelRuntime:
        if old is not None and old.tenant_id == tenant_id and old.config == cfg:
            return old
        provider = provider_class(cfg.provider).from_channel(cfg.id, cfg.settings)
        if self._http is not None:
            provider.bind_http(self._http)
        if old is not None and old.config.rate_limit == cfg.rate_limit:
            limiter = old.limiter
        else:
            limiter = RateLimiter(cfg.rate_limit)
        return ChannelRuntime(tenant_id, cfg, provider, limiter)

    # -- changes (the admin API, gateway/admin/live.py) -----------------------------------

    def put(self, specs: Iterable[TenantSpec], removed: Iterable[str] = ()) -> None:
        """Add or replace these tenants and drop `removed`, in one swap."""
        view = self._view
        tenants = dict(view.tenants)
        for tenant_id in removed:
            tenants.pop(tenant_id, None)
        for spec in specs:
            tenants[spec.id] = spec
        self._view = self._build(tenants, view.channels)

    def remove(self, tenant_id: str) -> None:
        self.put((), (tenant_id,))

    # -- lookups -------------------------------------------------------------------------

    @property
    def channels(self) -> Mapping[str, ChannelRuntime]:
        return self._view.channels

    def exists(self, tenant_id: str) -> bool:
        return tenant_id in self._view.tenants

    def tenant_ids(self) -> list[str]:
        return list(self._view.tenants)

    def bind_http(self, http: aiohttp.ClientSession) -> None:
        self._http = http
        for ch in self.channels.values():
            ch.provider.bind_http(http)

    def tenant_for_key(self, api_key: str) -> str:
        """The tenant an API key belongs to; Unauthenticated otherwise."""
        # Keyed by SHA-256: lookup timing says nothing about the key itself.
        tenant = self._view.keys.get(key_digest(api_key))
        if tenant is None:
            raise Unauthenticated("invalid API key")
        return tenant

    def by_route(self, kind: str, route_key: str) -> ChannelRuntime | None:
        return self._view.by_route.get((kind, route_key))

    def by_account(self, kind: str, account_key: str) -> list[ChannelRuntime]:
        """The channels that may receive a webhook addressed to a business account:
        those declaring it, else those of the kind that declare no account."""
        view = self._view
        declared = view.by_account.get((kind, account_key))
        if declared:
            return list(declared)
        return [
            ch
            for ch in view.channels.values()
            if ch.provider.kind == kind and not ch.provider.account_key()
        ]

    def channel(self, channel_id: str) -> ChannelRuntime | None:
        return self._view.channels.get(channel_id)

    def tenant_channel(self, tenant_id: str, channel_id: str) -> ChannelRuntime:
        """A channel the tenant may use: NotFound if unknown, PermissionDenied if another's."""
        ch = self._view.channels.get(channel_id)
        if ch is None:
            raise NotFound(f"channel '{channel_id}' not found")
        if ch.tenant_id != tenant_id:
            raise PermissionDenied(f"channel '{channel_id}' belongs to another tenant")
        return ch
