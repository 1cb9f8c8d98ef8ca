"""Fixtures of the realtime tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from providers.testing import FakeGraphAPI
from tests.support.procs import Gateway, Postgres, RedisServer
from tests.support.realtime import Client
from tests.support.replicas import start_replicas as replicas_on
from tests.support.tenants import two_tenant_config


@pytest.fixture
async def clients() -> AsyncIterator[Callable[[], Client]]:
    """Make Socket.IO clients with `clients()`; all are closed after the test."""
    made: list[Client] = []

    def make() -> Client:
        made.append(Client())
        return made[-1]

    yield make
    for client in made:
        await client.close()


@pytest.fixture
def start_replicas(
    postgres: Postgres, redis_server: RedisServer, gateways: Callable[..., Gateway]
) -> Callable[[dict[str, Any]], tuple[Gateway, Gateway]]:
    """Two replicas with `config` on one new database and the test's Redis."""

    def start(config: dict[str, Any]) -> tuple[Gateway, Gateway]:
        a, b = replicas_on(postgres, redis_server, gateways, config)
        return a, b

    return start


@pytest.fixture
def replicas(
    start_replicas: Callable[[dict[str, Any]], tuple[Gateway, Gateway]], fake_graph: FakeGraphAPI
) -> tuple[Gateway, Gateway]:
    return start_replicas(two_tenant_config(fake_graph.base_url))
