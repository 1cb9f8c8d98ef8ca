"""Storage tests run in-process on both SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import close_database
from tests.support.databases import BOTH, open_fresh


@pytest.fixture(params=BOTH)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path}/wagate.sqlite3"
    pg = request.getfixturevalue("postgres")
    return str(pg.create_database(f"st_{uuid.uuid4().hex[:16]}"))


@pytest.fixture
async def db(db_url: str, migrated_sqlite: Path) -> AsyncIterator[str]:
    """`db_url` opened and migrated (on SQLite, a copy of the migrated file)."""
    if db_url.startswith("sqlite://"):
        shutil.copyfile(migrated_sqlite, db_url.removeprefix("sqlite://"))
    await open_fresh(db_url)
    try:
        yield db_url
    finally:
        await close_database()
