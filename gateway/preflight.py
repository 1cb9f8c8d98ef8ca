"""Checks `wagate serve` runs before it starts anything, so that a missing dependency, a
port in use or an unsupported combination is one line naming it (`database
10.0.0.5:5432 is unreachable`), not a traceback."""

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


def port_in_use(host: str, port: int, what: str) -> str | None:
    """Why `what` cannot listen on host:port, or None.

    Binds the way a lone server does: SO_REUSEADDR (a port in TIME_WAIT is free) but
    never SO_REUSEPORT, so a port another process listens on, even one that allows
    sharing (grpc's default), is reported instead of silently shared.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        return f"{what} host {host} cannot be resolved ({exc.strerror or exc})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
            probe.listen(1)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            return f"{what} port {host}:{port} is not available ({reason})"
    return None


def unsupported_workers(workers: int, database_url: str) -> str | None:
    """Why `--workers N` cannot run with these settings, or None.

    Only one worker runs today; replicas on ports of their own, sharing PostgreSQL
    and Redis, are the way to several processes (docs/scale-out.md). SQLite is
    refused on its own ground: a single-writer file database that several processes
    would take turns locking.
    """
    if workers < 1:
        return f"--workers must be at least 1, got {workers}"
    if workers == 1:
        return None
    if urlsplit(database_url).scheme == "sqlite":
        return f"--workers {workers} needs PostgreSQL: SQLite takes one writer at a time"
    return (
        f"--workers {workers} is not supported yet: run {workers} replicas on ports of"
        " their own with WAGATE_REDIS_URL (see docs/scale-out.md)"
    )
