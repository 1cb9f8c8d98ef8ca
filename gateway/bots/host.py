"""The bot host: per tenant, an ordered chain of plugins runs on each inbound message.

It subscribes to the bus (after the storage commit, so after the webhook's ack)
and never blocks it: each message goes onto its conversation's lane, a queue
drained by one task, so conversations run in parallel and each in order.
Before a run, the message ids are claimed in `bot_run` (unique): a replayed or
duplicated message never runs the chain twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from core.metrics import BOT_RUNS
from gateway.bots.base import Context, Outcome, Plugin, Setup, Turn
from gateway.bots.common import PluginConfig
from gateway.bots.registry import plugin_classes
from gateway.bots.remote import RemoteBots
from gateway.bus import Bus
from gateway.config import Settings
from gateway.outbox import Outbox
from storage import bots as store
from storage import repo, times
from storage.batching import GroupCommit
from storage.bots import HANDOFF, PAUSED, SessionRow
from storage.sql import Sql
from storage.writer import writer
from wagate.v1 import event_pb2, message_pb2

log = logging.getLogger("wagate.bots")

M = message_pb2
R = TypeVar("R")
Write = tuple[Callable[..., Awaitable[Any]], tuple[Any, ...]]


async def _each(sql: Sql, items: list[Write]) -> list[Any]:
    return [await fn(sql, *args) for fn, args in items]


async def _commit(items: list[Write]) -> list[Any]:
    results: list[Any] = await writer().run(_each, items)
    return results


class BotHost:
    def __init__(self, settings: Settings, outbox: Outbox, bus: Bus) -> None:
        self.outbox = outbox
        self.bus = bus
        self.chains: dict[str, list[Plugin]] = {}
        self.timezones: dict[str, str] = {}
        self.shared: dict[Any, Any] = {}
        # Plugins that join a chain at run time (remote bots, on any replica), per tenant.
        self.remote = RemoteBots(self, settings.redis_url)
        self.extra: dict[str, list[Plugin]] = self.remote.plugins
        self._retired: list[Plugin] = []
        for tenant in settings.tenants:
            self.set_chain(tenant.id, tenant.bots, tenant.timezone)
        self._lanes: dict[str, asyncio.Queue[message_pb2.Message]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        # Concurrent lanes share transactions (one commit for many claims and sessions).
        self._writes: GroupCommit[Write, Any] = GroupCommit("bots", _commit)

    def start(self) -> None:
        self._writes.start()
        self.remote.start()
        # Once per message: on the process that applied it, not on every replica.
        self.bus.subscribe("bots", self.on_event, everywhere=False)

    async def write(self, fn: Callable[..., Awaitable[R]], *args: Any) -> R:
        """Run `fn(sql, *args)` (a `storage.bots` function) in a shared transaction."""
        result: R = await self._writes.submit((fn, args))
        return result

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.remote.stop()
        await self._writes.stop()
        for plugin in [*self._retired, *(p for c in self.chains.values() for p in c)]:
            await plugin.close()

    # -- chains changed at run time (the admin API, gateway/admin/live.py) ---------------

    def set_chain(self, tenant_id: str, bots: Sequence[PluginConfig], timezone: str) -> None:
        """Build the tenant's chain and swap it in whole. A turn already running keeps
        the chain it started with; the old plugins are closed when the host stops."""
        classes = plugin_classes()
        setup = Setup(tenant_id, self.shared)
        old = self.chains.get(tenant_id, [])
        self.chains[tenant_id] = [classes[cfg.plugin](cfg, setup) for cfg in bots]
        self.timezones[tenant_id] = timezone
        self._retired.extend(old)

    def drop_tenant(self, tenant_id: str) -> None:
        """A deleted tenant: no chain, and its remote bots leave (their streams are ended
        by the gRPC layer)."""
        self._retired.extend(self.chains.pop(tenant_id, []))
        self.timezones.pop(tenant_id, None)
        self.extra.pop(tenant_id, None)

    def chain(self, tenant_id: str, channel_id: str) -> list[Plugin]:
        plugins = [*self.chains.get(tenant_id, ()), *self.extra.get(tenant_id, ())]
        return sorted(
            (p for p in plugins if p.serves(channel_id) and p.available()),
            key=lambda p: p.priority,
        )

    # -- intake: never blocks the bus --------------------------------------------------

    async def on_event(self, event: event_pb2.Event) -> None:
        if event.WhichOneof("payload") != "message_new":
            return
        msg = event.message_new
        if msg.direction != M.DIRECTION_INBOUND or not msg.conversation_id:
            return
        if not self.chains.get(msg.tenant_id) and not self.extra.get(msg.tenant_id):
            return
        lane = self._lanes.get(msg.conversation_id)
        if lane is None:
            lane = self._lanes[msg.conversation_id] = asyncio.Queue()
            task = asyncio.create_task(self._drain(msg.conversation_id, lane))
            self._tasks.add(task)
            self._idle.clear()
            task.add_done_callback(self._done)
        lane.put_nowait(msg)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()

    async def drain(self) -> None:
        await self._idle.wait()

    def _debounce(self, msg: message_pb2.Message) -> float:
        plugins = self.chain(msg.tenant_id, msg.channel_id)
        return max((p.debounce_ms for p in plugins), default=0) / 1000

    async def _drain(self, key: str, lane: asyncio.Queue[message_pb2.Message]) -> None:
        try:
            while not lane.empty():
                batch = [lane.get_nowait()]
                wait = self._debounce(batch[0])
                if wait:  # a burst becomes one turn
                    await asyncio.sleep(wait)
                    while not lane.empty():
                        batch.append(lane.get_nowait())
                try:
                    await self.run(batch)
                except Exception:
                    log.exception("bot run failed", extra={"conversation_id": key})
        finally:
            if self._lanes.get(key) is lane:
                del self._lanes[key]

    # -- one turn -----------------------------------------------------------------------

    async def run(self, messages: Sequence[message_pb2.Message]) -> None:
        first = messages[0]
        tenant_id, conversation_id = first.tenant_id, first.conversation_id
        claimed, sessions = await self.write(
            store.claim, tenant_id, conversation_id, [m.id for m in messages], times.now()
        )
        if not claimed:
            return
        turn = Turn(
            tenant_id,
            self.timezones.get(tenant_id, "UTC"),
            [m for m in messages if m.id in claimed],
            sessions,
        )
        held = sessions.get(HANDOFF)
        if held is not None and held.status == PAUSED:
            await self.write(store.finish, claimed, "handoff", "")
            return
        for plugin in self.chain(tenant_id, first.channel_id):
            ctx = Context(self, turn, plugin.name)
            try:
                outcome = await plugin.handle(ctx)
                BOT_RUNS.labels(plugin.name, outcome.value).inc()
            except Exception:
                BOT_RUNS.labels(plugin.name, "error").inc()
                log.exception("bot plugin failed", extra={"plugin": plugin.name})
                outcome = Outcome.PASS
            finally:
                await ctx.typing(False)
            if outcome is Outcome.PASS:
                continue
            if outcome is Outcome.HANDOFF:
                await self.save_session(turn, SessionRow(HANDOFF, plugin.name, PAUSED))
            await self.write(store.finish, claimed, "done", plugin.name)
            return
        await self.write(store.finish, claimed, "passed", "")

    async def save_session(self, turn: Turn, row: SessionRow) -> None:
        await self.write(store.save_session, turn.tenant_id, turn.conversation_id, row, times.now())

    async def release(self, tenant_id: str, conversation_id: str) -> int | None:
        """Give a handed-off conversation back to the bots; None if it is not the tenant's."""
        if await repo.get_conversation(tenant_id, conversation_id) is None:
            return None
        return await self.write(store.release, conversation_id, times.now())

    async def typing(self, turn: Turn, active: bool) -> None:
        """`typing:start`/`typing:stop` to subscribers, and the provider's indicator."""
        event = event_pb2.Event(
            channel_id=turn.channel_id,
            typing=event_pb2.Typing(conversation_id=turn.conversation_id, active=active),
        )
        stored = await repo.append_event(turn.tenant_id, event, turn.conversation_id)
        await self.bus.publish(stored)
        if active:
            try:
                await self.outbox.send_typing(turn.tenant_id, turn.conversation_id, turn.message.id)
            except Exception as exc:  # a typing indicator is a courtesy
                log.info("typing indicator not sent", extra={"reason": str(exc)})
