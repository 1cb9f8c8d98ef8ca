"""Database set-up: URL → tortoise config, migrations, and shutdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tortoise import Tortoise, connections
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

from storage import writer
from storage.writer import DEFAULT

APP = "wagate"
# SQLite: WAL for concurrent readers; synchronous=FULL so an acknowledged
# webhook survives a power cut, not just a crash.
SQLITE_PRAGMAS = "journal_mode=WAL&synchronous=FULL&busy_timeout=5000"


def tortoise_config(url: str) -> dict[str, Any]:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite://") :].split("?", 1)[0]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        if "?" not in url:
            url = f"{url}?{SQLITE_PRAGMAS}"
    elif scheme in ("postgres", "postgresql"):
        url = "postgres://" + url.split("://", 1)[1]
    else:
        raise ValueError(f"unsupported database URL scheme '{scheme}'")
    return {
        "connections": {DEFAULT: url},
        "apps": {
            APP: {
                "models": ["storage.models"],
                "migrations": "storage.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def apply_migrations(url: str) -> dict[str, Any]:
    """Bring the schema at `url` up to date; returns the tortoise config used."""
    config = tortoise_config(url)
    async with TortoiseContext():
        await migrate(config=config)
    return config


async def open_database(url: str) -> None:
    """Apply pending migrations, then open connections for the whole process.

    The global fallback makes the ORM usable from every task (Sanic handlers,
    gRPC calls), not only from the task that opened it.
    """
    config = await apply_migrations(url)
    await Tortoise.init(config=config, _enable_global_fallback=True)
    db_url = config["connections"][DEFAULT]
    if db_url.startswith("sqlite://") and ":memory:" not in db_url:
        path, _, query = db_url[len("sqlite://") :].partition("?")
        pragmas = dict(pair.split("=", 1) for pair in query.split("&") if "=" in pair)
        writer.install(writer.SqliteWriter(path, pragmas))
    else:
        writer.install(writer.TortoiseWriter())
    # Open the ORM's connection now, once: left to the first query, tasks that start
    # together (the outbox sweep, /readyz) raced to open it, and with a config that
    # writes nothing at start /readyz could wait on it for good.
    await ping()


async def close_database() -> None:
    await writer.writer().close()
    writer.install(writer.TortoiseWriter())
    await Tortoise.close_connections()


async def ping() -> None:
    await connections.get(DEFAULT).execute_query("SELECT 1")
