"""Shared fixtures: real gateway processes, a real PostgreSQL, a fake Graph API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest

from providers.signing import hmac_hex
from providers.testing import FakeGraphAPI
from tests.support.procs import Gateway, Postgres, start_gateway, start_postgres

ACME_KEY = "acme-test-key"
GLOBEX_KEY = "globex-test-key"
ACME_SECRET = "test-app-secret"
GLOBEX_SECRET = "globex-app-secret"
ACME_PHONE_ID = "109876543210001"
GLOBEX_PHONE_ID = "209876543210002"
ACCESS_TOKEN = "acme-access-token"


def meta_sign(body: bytes, secret: str = ACME_SECRET) -> dict[str, str]:
    return {
        "X-Hub-Signature-256": "sha256=" + hmac_hex(secret, body),
        "Content-Type": "application/json",
    }


def two_tenant_config(graph_url: str, **channel_extra: Any) -> dict[str, Any]:
    """Tenant acme (channel acme-meta) and tenant globex (channel globex-meta)."""
    return {
        "tenants": [
            {
                "id": "acme",
                "api_keys": [ACME_KEY],
                "channels": [
                    {
                        "id": "acme-meta",
                        "provider": "meta_cloud",
                        "phone_number_id": ACME_PHONE_ID,
                        "app_secret": ACME_SECRET,
                        "verify_token": "acme-verify",
                        "access_token": ACCESS_TOKEN,
                        "api_base_url": graph_url,
                        **channel_extra,
                    }
                ],
            },
            {
                "id": "globex",
                "api_keys": [GLOBEX_KEY],
                "channels": [
                    {
                        "id": "globex-meta",
                        "provider": "meta_cloud",
                        "phone_number_id": GLOBEX_PHONE_ID,
                        "app_secret": GLOBEX_SECRET,
                        "verify_token": "globex-verify",
                        "access_token": "globex-access-token",
                        "api_base_url": graph_url,
                    }
                ],
            },
        ]
    }


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    pg = start_postgres()
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture
async def fake_graph() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI() as graph:
        yield graph


@pytest.fixture
def gateways() -> Iterator[Callable[..., Gateway]]:
    """Start gateways with `gateways(config, ...)`; all are stopped after the test."""
    started: list[Gateway] = []

    def start(config: dict[str, Any] | None, **kwargs: Any) -> Gateway:
        gw = start_gateway(config, **kwargs)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()


@pytest.fixture
async def gateway(gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI) -> Gateway:
    """A gateway with the two-tenant config, its Graph API faked."""
    return gateways(two_tenant_config(fake_graph.base_url))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
