"""CPU seconds used during a measured window, by who: the gateway's processes,
PostgreSQL, Redis, the load generator (bench/scale.py; bench/extrapolate.py turns
them into per-request costs)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

from bench.servers import Server, cpu_seconds
from bench.stores import Stores


@dataclass
class Window:
    """CPU seconds used during one measured window, by who."""

    seconds: float = 0.0
    gateway: float = 0.0
    postgres: float = 0.0
    redis: float = 0.0
    generator: float = 0.0
    fake: float = 0.0  # the fake Graph API (send row)
    # Transactions PostgreSQL committed (pg_stat_database; its counters are flushed
    # about once a second, so this is approximate over a 10 s window).
    commits: int = 0

    def pct(self, cpu: float) -> float:
        return 100 * cpu / self.seconds if self.seconds else 0.0


class Meter:
    """Reads CPU seconds of the gateway processes and of PostgreSQL and Redis."""

    def __init__(self, stores: Stores, gateways: list[Server]) -> None:
        self.stores = stores
        self.gateways = gateways

    def read(self) -> tuple[float, float, float, float, int]:
        redis = self.stores.redis.proc
        return (
            time.monotonic(),
            sum(cpu_seconds(g.pid) for g in self.gateways),
            cpu_seconds(self.stores.postmaster_pid()),
            cpu_seconds(redis.pid) if redis else 0.0,
            self.stores.commits(),
        )

    @contextlib.contextmanager
    def window(self, out: Window) -> Iterator[None]:
        t0, g0, p0, r0, c0 = self.read()
        yield
        t1, g1, p1, r1, c1 = self.read()
        out.seconds, out.gateway, out.postgres, out.redis = t1 - t0, g1 - g0, p1 - p0, r1 - r0
        out.commits = c1 - c0
