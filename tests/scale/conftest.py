"""Replicas on one real PostgreSQL and one real redis-server, and reads of their
shared database (tests/support/replicas.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest

from tests.support.procs import Gateway, Postgres, RedisServer
from tests.support.replicas import start_replicas

Start = Callable[..., list[Gateway]]


@pytest.fixture
def replicas(
    postgres: Postgres, redis_server: RedisServer, gateways: Callable[..., Gateway]
) -> Start:
    """`replicas(config, count=2, env=None)`: replicas on a new database."""

    def start(config: dict[str, Any], count: int = 2, env: dict[str, str] | None = None) -> Any:
        return start_replicas(postgres, redis_server, gateways, config, count, env)

    return start


async def query(url: str, sql: str, *args: Any) -> list[Any]:
    """Rows of one read of the replicas' database, straight through asyncpg."""
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()
