"""Shared fixtures: real gateway processes, a real PostgreSQL, a fake Graph API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from providers.testing import FakeGraphAPI
from storage.db import close_database
from tests.support.databases import open_fresh
from tests.support.plugins import use_test_plugins
from tests.support.procs import (
    Gateway,
    Postgres,
    RedisServer,
    start_gateway,
    start_postgres,
    start_redis,
)
from tests.support.tenants import two_tenant_config

use_test_plugins()

# Fixtures that start processes: a test using one is an integration test whether or not
# its module says so, so the fast lane (`-m "not integration"`) cannot pick it up.
PROCESS_FIXTURES = frozenset({"gateways", "gateway", "postgres", "redis_server"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    pg = start_postgres()
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A Redis of the test's own (tests stop and start it)."""
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every migration applied, made once. In-process tests open a copy:
    migrating takes about a third of a second, copying a hundredth."""
    path = tmp_path_factory.mktemp("migrated") / "wagate.sqlite3"
    await open_fresh(f"sqlite://{path}")
    await close_database()
    return path


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
