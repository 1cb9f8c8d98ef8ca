"""Per-stream subscribers on the bus, and the replay that lets a stream resume without a gap.

A `Subscriber` (a gRPC stream, or a Socket.IO client while it catches up) is fed
synchronously from the bus handler, so feeding it never waits: its buffer is bounded.

Resuming after an event id (`replay`, then `go_live`):
1. The subscriber is registered first, in catch-up mode: live events pile up in
   `pending` (keyed by id) instead of being delivered.
2. Stored events after the id are read page by page and delivered; each one is
   dropped from `pending` as it is delivered, so nothing is sent twice.
3. When storage has nothing newer, `go_live` hands over what is left in
   `pending` (published after the last read) and switches to the live queue.
   Both happen in one synchronous step, so no event slips between them.
Events are published only after their transaction commits, so whatever the bus
dropped from a full `pending` buffer is in storage, and step 2 simply reads on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Collection

from core import kinds
from core.errors import ApiError, InvalidArgument, ResourceExhausted, Unavailable
from storage import events as event_log
from wagate.v1 import event_pb2

log = logging.getLogger("wagate.realtime")

REPLAY_PAGE = 500
# How long replay waits for a row whose payload append_event has not written yet.
INCOMPLETE_ROW_WAIT = 2.0


def parse_event_id(value: object, what: str = "after_event_id") -> int | None:
    """None for "no resume"; a non-negative int otherwise. InvalidArgument if malformed."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidArgument(f"{what} must be a decimal event id")
    text = str(value).strip()
    if not text.isdigit() or len(text) > 19:
        raise InvalidArgument(f"{what} must be a decimal event id")
    return int(text)


class Subscriber:
    def __init__(
        self,
        tenant_id: str,
        *,
        limit: int,
        resuming: bool,
        channels: Collection[str] = (),
        conversations: Collection[str] | None = None,
        kinds: Collection[int] = (),
        name: str = "stream",
    ) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.limit = max(1, limit)
        self.channels = frozenset(channels)
        # None: every conversation (and events that have none, like sessions).
        self.conversations = frozenset(conversations) if conversations is not None else None
        self.kinds = frozenset(kinds)
        self.pending: dict[int, event_pb2.Event] | None = {} if resuming else None
        self.lost = False
        self.failed: ApiError | None = None
        self._queue: deque[event_pb2.Event] = deque()
        self._wake = asyncio.Event()
        self._unstored = 0
        self.replayed = 0  # the last id `replay` delivered

    def matches(self, event: event_pb2.Event) -> bool:
        if self.channels and event.channel_id not in self.channels:
            return False
        if self.kinds and kinds.enum_of(event) not in self.kinds:
            return False
        return self.conversations is None or kinds.conversation_of(event) in self.conversations

    def offer(self, event: event_pb2.Event) -> None:
        """Called from the bus handler: never waits, never grows past `limit`."""
        if self.failed is not None:
            return
        if self.pending is not None:
            if len(self.pending) >= self.limit:
                # Everything dropped here is in storage; replay reads it again.
                self.pending.clear()
                self.lost = True
            if event.id:
                self.pending[int(event.id)] = event
            else:  # not stored, so not replayable: keep it for the hand-over
                self._unstored -= 1
                self.pending[self._unstored] = event
            return
        if self.replayed and event.id and int(event.id) <= self.replayed:
            return  # replay read it from storage before its live copy came
        if len(self._queue) >= self.limit:
            self.fail(
                ResourceExhausted(
                    f"consumer fell more than {self.limit} events behind and was cut off; "
                    "resume with after_event_id set to the last event id you handled"
                )
            )
            return
        self._queue.append(event)
        self._wake.set()

    def fail(self, error: ApiError) -> None:
        if self.failed is None:
            self.failed = error
            self._queue.clear()
            if self.pending:
                self.pending.clear()
            self._wake.set()

    def go_live(self, after_id: int) -> list[event_pb2.Event]:
        """End catch-up: the buffered events not replayed, in publish order; then live.

        Not replayed means above the last id replayed: an event's live copy may arrive
        after replay read it from storage (it is published after its commit, and maybe
        by another replica), and it must not be delivered again, out of order."""
        pending, self.pending = self.pending or {}, None
        last = max(after_id, self.replayed)
        return [e for key, e in pending.items() if key > last or key < 0]

    async def next_batch(self) -> list[event_pb2.Event]:
        """Wait for live events; raises the error the subscriber failed with."""
        while not self._queue:
            if self.failed is not None:
                raise self.failed
            self._wake.clear()
            await self._wake.wait()
        if self.failed is not None:
            raise self.failed
        batch = list(self._queue)
        self._queue.clear()
        return batch


class Hub:
    """The bus side: dispatches each event to the matching subscribers of its tenant."""

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscriber]] = {}
        self.closed = False

    def add(self, sub: Subscriber) -> None:
        if self.closed:
            sub.fail(Unavailable("the gateway is shutting down"))
            return
        self._subs.setdefault(sub.tenant_id, set()).add(sub)

    def remove(self, sub: Subscriber) -> None:
        subs = self._subs.get(sub.tenant_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.tenant_id]

    def count(self) -> int:
        return sum(len(s) for s in self._subs.values())

    async def on_event(self, event: event_pb2.Event) -> None:
        """Bus subscriber."""
        self.dispatch(event)

    def dispatch(self, event: event_pb2.Event) -> None:
        for sub in tuple(self._subs.get(event.tenant_id, ())):
            if sub.matches(event):
                sub.offer(event)
                if sub.failed is not None and isinstance(sub.failed, ResourceExhausted):
                    self.remove(sub)
                    log.warning(
                        "slow consumer cut off",
                        extra={"tenant": sub.tenant_id, "subscriber": sub.name},
                    )

    def close(self) -> None:
        """Shutdown: every subscriber ends with UNAVAILABLE."""
        self.closed = True
        for subs in list(self._subs.values()):
            for sub in subs:
                sub.fail(Unavailable("the gateway is shutting down"))
        self._subs.clear()


async def replay(sub: Subscriber, after_id: int) -> AsyncIterator[event_pb2.Event]:
    """Stored events after `after_id` matching `sub`, oldest first, until storage is drained.

    `sub` must be registered (in catch-up mode) before this starts. Afterwards call
    `sub.go_live(after_id)` without awaiting in between.
    """
    cursor = after_id
    blocked: tuple[int, float] | None = None
    while True:
        sub.lost = False
        page = await event_log.events_after(
            sub.tenant_id,
            cursor,
            channel_ids=sub.channels,
            conversation_ids=sub.conversations or (),
            kinds=sub.kinds,
            limit=REPLAY_PAGE,
        )
        for event in page.events:
            event_id = int(event.id)
            if sub.pending is not None:
                sub.pending.pop(event_id, None)
            yield event
            cursor = sub.replayed = event_id
        if sub.failed is not None:
            raise sub.failed
        if page.blocked_id:
            # A row being written right now (or one a crash left empty): wait a moment.
            if blocked is None or blocked[0] != page.blocked_id:
                blocked = (page.blocked_id, time.monotonic())
            elif time.monotonic() - blocked[1] > INCOMPLETE_ROW_WAIT:
                log.warning("event log row without payload; skipped", extra={"id": page.blocked_id})
                cursor = page.blocked_id
                blocked = None
            await asyncio.sleep(0.005)
            continue
        if len(page.events) < REPLAY_PAGE and not sub.lost:
            return
