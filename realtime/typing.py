"""Typing indicators as events: `typing` with active=True, then active=False.

WhatsApp shows a typing indicator for about 25 seconds, or until the business
answers. So a start (from `SendTyping`, or a bot while it generates) arms a timer,
and the stop is published when it runs out, or as soon as an outbound message is
stored in that conversation, whichever comes first. A new start re-arms the timer.

Typing events are stored in the event log like every other event: each one gets an
`event_id` from the same monotonic sequence, and a resuming client sees them in place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from storage import repo
from wagate.v1 import event_pb2, message_pb2

Publish = Callable[[event_pb2.Event], Awaitable[None]]

TYPING_SECONDS = 25.0


class TypingTimers:
    def __init__(self, publish: Publish, seconds: float = TYPING_SECONDS) -> None:
        self._publish = publish
        self.seconds = seconds
        # (tenant, conversation) -> (channel, timer)
        self._active: dict[tuple[str, str], tuple[str, asyncio.Task[None]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def publish(
        self, tenant_id: str, channel_id: str, conversation_id: str, active: bool
    ) -> event_pb2.Event:
        event = event_pb2.Event(
            channel_id=channel_id,
            typing=event_pb2.Typing(conversation_id=conversation_id, active=active),
        )
        stored = await repo.append_event(tenant_id, event, conversation_id)
        await self._publish(stored)
        return stored

    async def start(self, tenant_id: str, channel_id: str, conversation_id: str) -> None:
        key = (tenant_id, conversation_id)
        previous = self._active.pop(key, None)
        if previous is not None:
            previous[1].cancel()
        timer = asyncio.create_task(self._expire(key), name="typing-timer")
        self._active[key] = (channel_id, timer)
        await self.publish(tenant_id, channel_id, conversation_id, True)

    async def stop(self, tenant_id: str, conversation_id: str) -> None:
        entry = self._active.pop((tenant_id, conversation_id), None)
        if entry is not None:
            entry[1].cancel()
            await self.publish(tenant_id, entry[0], conversation_id, False)

    async def _expire(self, key: tuple[str, str]) -> None:
        await asyncio.sleep(self.seconds)
        entry = self._active.get(key)
        if entry is not None and entry[1] is asyncio.current_task():
            del self._active[key]
            await self.publish(key[0], entry[0], key[1], False)

    async def on_event(self, event: event_pb2.Event) -> None:
        """Bus subscriber: an outbound message ends the typing indicator."""
        if event.WhichOneof("payload") != "message_new":
            return
        msg = event.message_new
        key = (event.tenant_id, msg.conversation_id)
        if msg.direction == message_pb2.DIRECTION_OUTBOUND and key in self._active:
            # Not inline: the bus handler must not wait on a database write.
            task = asyncio.create_task(self.stop(*key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        for _, timer in self._active.values():
            timer.cancel()
        self._active.clear()
