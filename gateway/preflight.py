"""Checks `wagate serve` runs before it starts anything, so that a missing dependency is
one line naming it (`database 10.0.0.5:5432 is unreachable`), not a traceback."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

_NETWORK_DATABASES = {"postgres": 5432, "postgresql": 5432, "asyncpg": 5432}


def database_unreachable(url: str, timeout: float = 5.0) -> str | None:
    """Why the database at `url` cannot be reached, or None (also for a file database)."""
    parts = urlsplit(url)
    default_port = _NETWORK_DATABASES.get(parts.scheme)
    if default_port is None:
        return None
    host = parts.hostname or "localhost"
    try:
        port = parts.port or default_port
    except ValueError:
        return f"database URL has an invalid port: {parts.netloc.rsplit('@', 1)[-1]}"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        return f"database {host}:{port} is unreachable ({reason})"
