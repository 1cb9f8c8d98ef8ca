"""The event bus: one interface, engines that implement only publish and listen.

Shaped like python-socketio's pub/sub managers. The in-process engine is the
embedded default; the Redis engine (gateway/redis_bus.py) carries events across
processes. A subscriber says whether it wants every process's events (clients'
fan-out) or only its own process's (work that must run once, like bots).

Beside events, the bus carries control messages: small notes (bytes) that every
process hears, this one included, such as "the admin config changed"
(gateway/admin/live.py). They are best effort: whoever announces has committed the
change to storage first, and listeners also poll storage for what they missed.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

from wagate.v1 import event_pb2

log = logging.getLogger("wagate.bus")

Handler = Callable[[event_pb2.Event], Awaitable[None]]
ControlHandler = Callable[[bytes], Awaitable[None]]


class Bus(ABC):
    """Delivers every published event to every subscriber, in publish order."""

    def __init__(self) -> None:
        self._handlers: list[tuple[str, Handler, bool]] = []
        self._control: list[ControlHandler] = []

    def subscribe(self, name: str, handler: Handler, *, everywhere: bool = True) -> None:
        """`everywhere`: events published by any process (with a shared engine);
        False: only this process's own events."""
        self._handlers.append((name, handler, everywhere))

    async def _dispatch(self, event: event_pb2.Event, everywhere: bool | None = None) -> None:
        """To every subscriber, or to those whose `everywhere` is the one given."""
        for name, handler, scope in self._handlers:
            if everywhere is not None and scope != everywhere:
                continue
            try:
                await handler(event)
            except Exception:
                # One subscriber's failure must not starve the others.
                log.exception("bus subscriber failed", extra={"subscriber": name})

    def on_control(self, handler: ControlHandler) -> None:
        """Hear every process's control messages (see `announce`)."""
        self._control.append(handler)

    async def _dispatch_control(self, data: bytes) -> None:
        for handler in self._control:
            try:
                await handler(data)
            except Exception:
                log.exception("control message handler failed")

    async def announce(self, data: bytes) -> None:
        """A control message to every process, this one included. Default: this one only."""
        await self._dispatch_control(data)

    @abstractmethod
    async def publish(self, event: event_pb2.Event) -> None: ...

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ping(self) -> None:
        return None


class InProcessBus(Bus):
    """A queue drained by one task: publishers never wait on subscribers."""

    def __init__(self) -> None:
        super().__init__()
        self._queue: asyncio.Queue[event_pb2.Event] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def publish(self, event: event_pb2.Event) -> None:
        self._queue.put_nowait(event)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="bus")

    async def _run(self) -> None:
        while True:
            event = await self._queue.get()
            await self._dispatch(event)
            self._queue.task_done()

    async def drain(self) -> None:
        await self._queue.join()

    async def stop(self) -> None:
        if self._task:
            await self.drain()
            self._task.cancel()
            self._task = None
