"""Live events from other replicas, handed on in event-id order.

Replicas publish each event after its commit, and event ids ascend in commit
order (storage.locks), but two replicas' publishes race to Redis: replica A's
event 99 may arrive after replica B's 100. A client that got 100 live and later
resumes after 100 would never see 99. So the bus's events are only a signal
here: on an event with an id above the last one handed on, every event stored
after that id is read from the event log, in id order, and handed on; events at
or below it were handed on already and are dropped. The log holds everything
committed before any of it was published, so nothing is skipped, and one read
serves every event that arrived meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from storage.events import events_since, last_event_id
from wagate.v1 import event_pb2

log = logging.getLogger("wagate.bus")

PAGE = 500


class LiveOrder:
    def __init__(self, deliver: Callable[[event_pb2.Event], Awaitable[None]]) -> None:
        self._deliver = deliver
        self._tail: int | None = None  # the last id handed on

    async def restart(self) -> None:
        """After (re)subscribing: events stored before now are the resume path's, not
        live (they may have been published while nobody listened)."""
        try:
            self._tail = await last_event_id()
        except Exception as exc:
            log.warning("reading the event log's end failed", extra={"error": str(exc)})
            self._tail = None

    async def offer(self, event: event_pb2.Event) -> None:
        if not event.id:  # not stored (nothing to order it against): as it comes
            await self._deliver(event)
            return
        event_id = int(event.id)
        if self._tail is not None and event_id <= self._tail:
            return  # handed on already, from the log
        if self._tail is None:
            self._tail = event_id - 1
        try:
            while events := await events_since(self._tail, PAGE):
                for stored in events:
                    self._tail = int(stored.id)
                    await self._deliver(stored)
                if len(events) < PAGE:
                    break
        except Exception as exc:  # the database is away: live as it comes, resume covers it
            log.warning("reading live events from the log failed", extra={"error": str(exc)})
        if self._tail < event_id:
            self._tail = event_id
            await self._deliver(event)
