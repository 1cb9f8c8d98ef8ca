"""Keyed wake-ups for remote bots, within this process and, with Redis, across replicas.

A wake-up only says "look again": the rows in storage (storage/remote_bots.py) are
the truth, and whoever waits also polls them every `POLL_S`, so a wake-up lost
(Redis down, a reconnect) costs at most that delay, never a delivery. They go
on a Redis pub/sub channel of their own (`wagate:bots`), not on the event bus:
they are not events, and clients must not see them. Pub/sub for the reasons in
docs/scale-out.md ("Pub/sub, not Streams").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("wagate.bots.remote")

CHANNEL = "wagate:bots"
POLL_S = 1.0
TIMEOUT_S = 2.0


class Wakeups:
    def __init__(self, redis_url: str | None) -> None:
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self._url = redis_url
        self._redis: Redis | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._url:
            self._redis = Redis.from_url(
                self._url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
            )
            self._task = asyncio.create_task(self._listen(self._url), name="bots-wakeups")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._redis is not None:
            await self._redis.aclose()

    @contextlib.contextmanager
    def listen(self, key: str) -> Iterator[asyncio.Event]:
        """An event set by each `notify(key)` from here on, in any replica; clear it
        before looking at storage, then wait on it."""
        event = asyncio.Event()
        self._waiting.setdefault(key, set()).add(event)
        try:
            yield event
        finally:
            waiting = self._waiting.get(key)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._waiting[key]

    def _wake(self, key: str) -> None:
        for event in self._waiting.get(key, ()):
            event.set()

    async def notify(self, key: str) -> None:
        """Wake the listeners of `key` here now, and on the other replicas through Redis."""
        self._wake(key)
        if self._redis is not None:
            try:
                await self._redis.publish(CHANNEL, key)
            except (RedisError, OSError) as exc:  # they poll: a late look, not a lost one
                log.warning("bot wake-up not published", extra={"error": type(exc).__name__})

    async def _listen(self, url: str) -> None:
        """Resubscribe every `POLL_S` while Redis is away."""
        listener = Redis.from_url(url, socket_connect_timeout=TIMEOUT_S)
        try:
            while True:
                pubsub = listener.pubsub(ignore_subscribe_messages=True)
                try:
                    await pubsub.subscribe(CHANNEL)
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._wake(message["data"].decode())
                except (RedisError, OSError) as exc:
                    log.warning("bot wake-ups lost", extra={"error": type(exc).__name__})
                finally:
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                await asyncio.sleep(POLL_S)
        finally:
            await listener.aclose()


async def wait(event: asyncio.Event, seconds: float) -> None:
    """Until `event` is set or `seconds` pass, whichever comes first; then clear it."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
    event.clear()
