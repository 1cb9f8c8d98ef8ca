"""Open a database in the test process (storage tests drive the ORM directly)."""

from __future__ import annotations

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from storage.db import open_database


async def open_fresh(url: str) -> None:
    # tortoise caches each model's INSERT/DELETE SQL per connection *name*, across
    # re-inits: switching SQLite <-> PostgreSQL in one process must drop it. (The
    # gateway opens one database per process, so this only concerns tests.)
    EXECUTOR_CACHE.clear()
    await open_database(url)


# Storage tests run on both; PostgreSQL is a server process, so its runs are integration.
BOTH = ["sqlite", pytest.param("postgres", marks=pytest.mark.integration)]
