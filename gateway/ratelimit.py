"""Per-channel send rate limit (GCRA): a steady `rate`/s with bursts up to one second's worth."""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._interval = 1.0 / rate
        self._tolerance = self._interval * max(rate - 1.0, 0.0)
        self._tat = 0.0  # theoretical arrival time of the next request

    def reserve(self) -> float:
        """Claim a slot; return how long to wait before using it."""
        now = time.monotonic()
        tat = max(self._tat, now)
        self._tat = tat + self._interval
        return max(0.0, tat - now - self._tolerance)

    async def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)
