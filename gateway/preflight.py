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


def bind_socket(host: str, port: int, *, shared: bool = False) -> socket.socket:
    """A TCP socket bound to host:port, not listening yet.

    SO_REUSEADDR always (a port in TIME_WAIT is free). SO_REUSEPORT only for `shared`:
    the workers of one gateway each bind the port with it and the kernel spreads
    connections over them (socket(7)); a lone server never sets it, so a port another
    process listens on is refused instead of silently shared.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


def port_in_use(host: str, port: int, what: str) -> str | None:
    """Why `what` cannot listen on host:port, or None.

    Binds the way a lone server does (`bind_socket`, not shared), so a port another
    process listens on, even one that allows sharing (grpc's default, or the workers
    of another gateway), is reported instead of silently shared.
    """
    try:
        probe = bind_socket(host, port)
    except socket.gaierror as exc:
        return f"{what} host {host} cannot be resolved ({exc.strerror or exc})"
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return f"{what} port {host}:{port} is not available ({reason})"
    with probe:
        try:
            probe.listen(1)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            return f"{what} port {host}:{port} is not available ({reason})"
    return None


def unsupported_workers(
    workers: int, database_url: str, redis_url: str | None, simulated: bool
) -> str | None:
    """Why `--workers N` cannot run with these settings, or None.

    Workers coordinate exactly like replicas, through PostgreSQL and Redis
    (docs/scale-out.md), so N > 1 needs both. SQLite is refused on its own ground: a
    single-writer file database that several processes would take turns locking.
    Simulated channels (and the demo) are refused too: their fake providers live in
    the memory of the process that started them.
    """
    if workers < 1:
        return f"--workers must be at least 1, got {workers}"
    if workers == 1:
        return None
    if urlsplit(database_url).scheme == "sqlite":
        return f"--workers {workers} needs PostgreSQL: SQLite takes one writer at a time"
    if not redis_url:
        return f"--workers {workers} needs WAGATE_REDIS_URL: workers share live events on Redis"
    if simulated:
        return (
            f"--workers {workers} cannot run the demo or simulated channels:"
            " their fake providers live in one process"
        )
    return None
