"""The bus across processes: events on one Redis pub/sub channel.

Every process publishes its events (after their commit) to the channel and
listens to it, so Socket.IO clients, gRPC event streams and typing timers on
every replica get every replica's events. Subscribers that must act once per
event (the bot host) get only their own process's events, from a local queue.
Pub/sub, not Streams: the event log in the database is already the durable,
ordered record that clients resume from (`after_event_id`), so the bus only
carries live events, and one a replica misses (Redis down, a reconnect) is
read from storage on the client's resume. See docs/scale-out.md.
"""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from gateway.bus import Bus
from wagate.v1 import event_pb2

log = logging.getLogger("wagate.bus")

CHANNEL = "wagate:events"
# A Redis that does not answer must not hold up ingest's publishing for long.
TIMEOUT_S = 2.0
RESUBSCRIBE_S = 1.0


class RedisBus(Bus):
    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self._channel = channel
        self._redis = Redis.from_url(
            url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
        )
        # No read timeout: the subscription waits for events as long as it takes.
        self._listener = Redis.from_url(url, socket_connect_timeout=TIMEOUT_S)
        self._local: asyncio.Queue[event_pb2.Event] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def publish(self, event: event_pb2.Event) -> None:
        self._local.put_nowait(event)
        try:
            await self._redis.publish(self._channel, event.SerializeToString())
        except (RedisError, OSError) as exc:
            # Stored already: clients get it from storage when they resume.
            log.warning("event not published to Redis", extra={"error": type(exc).__name__})

    async def start(self) -> None:
        pubsub = await self._subscribe()  # before start returns: /readyz means listening
        self._tasks = [
            asyncio.create_task(self._listen(pubsub), name="bus-redis"),
            asyncio.create_task(self._run_local(), name="bus-local"),
        ]

    async def _subscribe(self) -> PubSub | None:
        pubsub = self._listener.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._channel)
        except (RedisError, OSError) as exc:
            log.warning("Redis subscription failed; retrying", extra={"error": type(exc).__name__})
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            return None
        return pubsub

    async def _listen(self, pubsub: PubSub | None) -> None:
        while True:
            if pubsub is None:
                await asyncio.sleep(RESUBSCRIBE_S)
                pubsub = await self._subscribe()
                continue
            try:
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        event = event_pb2.Event.FromString(message["data"])
                        await self._dispatch(event, everywhere=True)
            except (RedisError, OSError) as exc:
                log.warning("Redis subscription lost", extra={"error": type(exc).__name__})
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            pubsub = None

    async def _run_local(self) -> None:
        while True:
            event = await self._local.get()
            await self._dispatch(event, everywhere=False)
            self._local.task_done()

    async def ping(self) -> None:
        await self._redis.ping()

    async def stop(self) -> None:
        await self._local.join()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._redis.aclose()
        await self._listener.aclose()
