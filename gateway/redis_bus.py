"""The bus across processes: events on one Redis pub/sub channel.

Every process publishes its events (after their commit, from a bounded queue, so
that a slow Redis never holds up ingest) to the channel and listens to it, so
Socket.IO clients, gRPC event streams and typing timers on every replica get every
replica's events. Subscribers that must act once per
event (the bot host) get only their own process's events, from a local queue.
Pub/sub, not Streams: the event log in the database is already the durable,
ordered record that clients resume from (`after_event_id`), so the bus only
carries live events, and one a replica misses (Redis down, a reconnect) is
read from storage on the client's resume. Events from the channel reach the
subscribers in event-id order (gateway/live_order.py). See docs/scale-out.md.
Control messages (`Bus.announce`) go on a second channel of the same subscription.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from gateway.bus import Bus
from gateway.live_order import LiveOrder
from wagate.v1 import event_pb2

log = logging.getLogger("wagate.bus")

CHANNEL = "wagate:events"
TIMEOUT_S = 2.0
RESUBSCRIBE_S = 1.0
# Events waiting to go to Redis; past this (Redis slow or away) the oldest are dropped:
# they are stored, and clients read them from storage when they resume.
MAX_OUTGOING = 10_000
BATCH = 500


class RedisBus(Bus):
    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self._channel = channel
        self._control_channel = f"{channel}:control"
        self._redis = Redis.from_url(
            url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
        )
        # No read timeout: the subscription waits for events as long as it takes.
        self._listener = Redis.from_url(url, socket_connect_timeout=TIMEOUT_S)
        self._local: asyncio.Queue[event_pb2.Event] = asyncio.Queue()
        self._outgoing: deque[bytes] = deque(maxlen=MAX_OUTGOING)
        self._has_outgoing = asyncio.Event()
        self._sent = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._order = LiveOrder(self._everywhere)

    async def _everywhere(self, event: event_pb2.Event) -> None:
        await self._dispatch(event, everywhere=True)

    async def publish(self, event: event_pb2.Event) -> None:
        """Never waits on Redis: ingest and the outbox go on while it is slow or away."""
        self._local.put_nowait(event)
        self._outgoing.append(event.SerializeToString())
        self._sent.clear()
        self._has_outgoing.set()

    async def announce(self, data: bytes) -> None:
        """To every replica through Redis (this one hears it back); when Redis is away,
        to this process alone: the others catch up from storage."""
        try:
            await self._redis.publish(self._control_channel, data)
        except (RedisError, OSError) as exc:
            log.warning("control message not published", extra={"error": type(exc).__name__})
            await self._dispatch_control(data)

    async def _send(self) -> None:
        """Publish in order, many events a round trip (a pipeline)."""
        while True:
            await self._has_outgoing.wait()
            self._has_outgoing.clear()
            while self._outgoing:
                batch = [self._outgoing.popleft() for _ in range(min(BATCH, len(self._outgoing)))]
                try:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for data in batch:
                            pipe.publish(self._channel, data)
                        await pipe.execute()
                except (RedisError, OSError) as exc:
                    # Stored already: clients get them from storage when they resume.
                    log.warning(
                        "events not published to Redis",
                        extra={"events": len(batch), "error": type(exc).__name__},
                    )
            self._sent.set()

    async def start(self) -> None:
        pubsub = await self._subscribe()  # before start returns: /readyz means listening
        self._tasks = [
            asyncio.create_task(self._send(), name="bus-redis-publish"),
            asyncio.create_task(self._listen(pubsub), name="bus-redis-listen"),
            asyncio.create_task(self._run_local(), name="bus-local"),
        ]

    async def _subscribe(self) -> PubSub | None:
        pubsub = self._listener.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._channel, self._control_channel)
        except (RedisError, OSError) as exc:
            log.warning("Redis subscription failed; retrying", extra={"error": type(exc).__name__})
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            return None
        await self._order.restart()
        return pubsub

    async def _listen(self, pubsub: PubSub | None) -> None:
        while True:
            if pubsub is None:
                await asyncio.sleep(RESUBSCRIBE_S)
                pubsub = await self._subscribe()
                continue
            try:
                async for message in pubsub.listen():
                    if message["type"] != "message":
                        continue
                    if message["channel"] == self._control_channel.encode():
                        await self._dispatch_control(message["data"])
                    else:
                        event = event_pb2.Event.FromString(message["data"])
                        await self._order.offer(event)
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
        if self._outgoing:
            await self._sent.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._redis.aclose()
        await self._listener.aclose()
