"""Tenants and channels at run time: API keys, provider instances, rate limiters."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import aiohttp

from core.errors import NotFound, PermissionDenied, Unauthenticated
from gateway.config import ChannelConfig, Settings
from gateway.ratelimit import RateLimiter
from providers.base import Provider
from providers.registry import provider_class


@dataclass
class ChannelRuntime:
    tenant_id: str
    config: ChannelConfig
    provider: Provider
    limiter: RateLimiter

    @property
    def id(self) -> str:
        return self.config.id


class Tenants:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.channels: dict[str, ChannelRuntime] = {}
        self._by_route: dict[tuple[str, str], ChannelRuntime] = {}
        self._by_account: dict[tuple[str, str], list[ChannelRuntime]] = {}
        self._keys: dict[bytes, str] = {}
        for tenant in settings.tenants:
            for key in tenant.api_keys:
                self._keys[hashlib.sha256(key.encode()).digest()] = tenant.id
            for cfg in tenant.channels:
                provider = provider_class(cfg.provider).from_channel(cfg.id, cfg.settings)
                ch = ChannelRuntime(tenant.id, cfg, provider, RateLimiter(cfg.rate_limit))
                self.channels[cfg.id] = ch
                route = provider.route_key()
                if route:
                    self._by_route[(provider.kind, route)] = ch
                account = provider.account_key()
                if account:
                    self._by_account.setdefault((provider.kind, account), []).append(ch)

    def bind_http(self, http: aiohttp.ClientSession) -> None:
        for ch in self.channels.values():
            ch.provider.bind_http(http)

    def tenant_for_key(self, api_key: str) -> str:
        """The tenant an API key belongs to; Unauthenticated otherwise."""
        # Keyed by SHA-256: lookup timing says nothing about the key itself.
        tenant = self._keys.get(hashlib.sha256(api_key.encode()).digest())
        if tenant is None:
            raise Unauthenticated("invalid API key")
        return tenant

    def by_route(self, kind: str, route_key: str) -> ChannelRuntime | None:
        return self._by_route.get((kind, route_key))

    def by_account(self, kind: str, account_key: str) -> list[ChannelRuntime]:
        """The channels that may receive a webhook addressed to a business account:
        those declaring it, else those of the kind that declare no account."""
        declared = self._by_account.get((kind, account_key))
        if declared:
            return list(declared)
        return [
            ch
            for ch in self.channels.values()
            if ch.provider.kind == kind and not ch.provider.account_key()
        ]

    def channel(self, channel_id: str) -> ChannelRuntime | None:
        return self.channels.get(channel_id)

    def tenant_channel(self, tenant_id: str, channel_id: str) -> ChannelRuntime:
        """A channel the tenant may use: NotFound if unknown, PermissionDenied if another's."""
        ch = self.channels.get(channel_id)
        if ch is None:
            raise NotFound(f"channel '{channel_id}' not found")
        if ch.tenant_id != tenant_id:
            raise PermissionDenied(f"channel '{channel_id}' belongs to another tenant")
        return ch
