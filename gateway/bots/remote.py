"""Remote bot plugins over `BotService.Connect` (proto/wagate/v1/bot_service.proto),
on any replica.

A remote bot joins its tenant's chain when it registers, at its priority, on every
replica: its stream is a row in `bot_stream` (a lease the holding replica renews),
and each replica's chains read who is connected from there. A turn for it is a
row in `bot_delivery` (storage/remote_bots.py) written by the replica running the
chain; the replica holding the bot's stream sends it, stores the bot's reply
(`BotReply`, the ack; the first one wins), and the chain's replica acts on that
reply once and marks the row done. The turn waits up to `REPLY_TIMEOUT` for a
reply, the bot's reconnects included, then passes. Both sides learn of changes
through `Wakeups` (Redis when configured) and poll storage besides. Delivery to
the bot is at least once: a delivery not answered when its stream drops is sent
again, with the same id, on the bot's next stream, on any replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any, Protocol

import grpc
from grpc import aio

from core.metrics import REMOTE_BOT_TURNS, REMOTE_BOTS
from gateway.bots.base import Context, Host, Outcome, Plugin, Turn
from gateway.bots.wakeups import POLL_S, Wakeups, wait
from gateway.grpc.auth import tenant
from storage import bots as runs
from storage import remote_bots as store
from storage import times
from storage.bots import HANDOFF, PAUSED, SessionRow
from storage.remote_bots import Connected, NewDelivery, Orphan
from storage.writer import writer
from wagate.v1 import bot_service_pb2, event_pb2, message_pb2

log = logging.getLogger("wagate.bots.remote")

B = bot_service_pb2
REPLY_TIMEOUT = 30.0
# A stream's row lives this long unless its replica renews it (every LEASE_S / 4):
# a replica killed without closing its streams stops counting after this.
LEASE_S = 20.0
# The chain's replica holds each delivery it waits on for this long, renewed every
# POLL_S; an answered delivery nobody holds (that replica died) is acted on by another.
HOLD_S = 5.0
STREAMS = "streams"  # the wake-up key of "a remote bot connected or left"


def _bot_key(tenant_id: str, name: str) -> str:
    return f"bot:{tenant_id}:{name}"


def _reply_key(tenant_id: str, name: str, delivery_id: str) -> str:
    return f"reply:{tenant_id}:{name}:{delivery_id}"


class RemotePlugin(Plugin):
    """A remote bot in its tenant's chain on this replica, wherever it is connected."""

    def __init__(self, bots: RemoteBots, tenant_id: str, bot: Connected) -> None:
        self.bots = bots
        self.tenant_id = tenant_id
        self.name = bot.name
        self.priority = bot.priority
        self.channels = bot.channels
        self.connected = True

    def available(self) -> bool:
        return self.connected

    async def handle(self, ctx: Context) -> Outcome:
        turn = ctx.turn
        delivery_id = turn.message.id
        event = event_pb2.Event(
            tenant_id=turn.tenant_id, channel_id=turn.channel_id, message_new=turn.message
        )
        payload = B.BotDelivery(delivery_id=delivery_id, event=event).SerializeToString()
        new = NewDelivery(self.tenant_id, self.name, delivery_id, turn.conversation_id, payload)
        at = times.now()
        expires = at + timedelta(seconds=REPLY_TIMEOUT)
        wakeups = self.bots.wakeups
        with wakeups.listen(_reply_key(self.tenant_id, self.name, delivery_id)) as answered:
            row = await ctx.host.write(
                store.add_delivery, new, at, expires, at + timedelta(seconds=HOLD_S)
            )
            with self.bots.holding(row):
                await wakeups.notify(_bot_key(self.tenant_id, self.name))
                await ctx.typing(True)
                reply = await self._reply(row, answered)
                if reply is None:
                    log.warning("remote bot did not answer", extra={"bot": self.name})
                    return Outcome.PASS
                try:  # a reply that fails to act (the chain counts it as `pass`) is not retried
                    return await _act(ctx, reply)
                finally:
                    await ctx.host.write(store.settle, row)

    async def _reply(self, row: int, answered: asyncio.Event) -> B.BotReply | None:
        """The bot's stored reply, or None when none came within `REPLY_TIMEOUT`."""
        deadline = asyncio.get_running_loop().time() + REPLY_TIMEOUT
        while True:
            stored = await writer().read(store.reply_of, row)
            if stored is not None:
                return B.BotReply.FromString(stored)
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            await wait(answered, min(left, POLL_S))
        stored = await writer().run(store.expire, row)  # a reply stored just now still wins
        return None if stored is None else B.BotReply.FromString(stored)


async def _act(ctx: Context, reply: bot_service_pb2.BotReply) -> Outcome:
    """The reply's actions, in order. Each send has the turn's idempotency key
    (`bot:<message>:<plugin>:<n>`), so acting again after a crash sends nothing twice."""
    outcome = Outcome.HANDLED
    for action in reply.actions:
        kind = action.WhichOneof("action")
        if kind == "send":
            await ctx.typing(False)
            await ctx.send(_content(action.send))
        elif kind == "pass":
            outcome = Outcome.PASS
        elif kind == "handoff":
            outcome = Outcome.HANDOFF
    return outcome


def _content(request: Any) -> message_pb2.Message:
    msg = message_pb2.Message()
    kind = request.WhichOneof("content")
    if kind is not None:
        getattr(msg, kind).CopyFrom(getattr(request, kind))
    return msg


class RemoteBots:
    """Every tenant's remote bots as this replica's chains see them (`plugins`, the
    host's run-time chain entries), and the bot streams this replica holds."""

    def __init__(self, host: Host, redis_url: str | None) -> None:
        self.host = host
        self.wakeups = Wakeups(redis_url)
        self.plugins: dict[str, list[Plugin]] = {}
        self._streams: set[str] = set()
        self._held: set[int] = set()  # deliveries this replica's chains wait on or act on
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.wakeups.start()
        self._task = asyncio.create_task(self._follow(), name="bots-remote")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.wakeups.stop()

    @contextlib.contextmanager
    def holding(self, row: int) -> Iterator[None]:
        """While the chain waits on the delivery `row` and acts on its reply."""
        self._held.add(row)
        REMOTE_BOT_TURNS.inc()
        try:
            yield
        finally:
            self._held.discard(row)
            REMOTE_BOT_TURNS.dec()

    async def _follow(self) -> None:
        """Keep `plugins` current, this replica's leases (streams, held deliveries) alive,
        and act on the replies other replicas' chains can no longer act on."""
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        with self.wakeups.listen(STREAMS) as changed:
            while True:
                try:
                    now = times.now()
                    held = now + timedelta(seconds=HOLD_S)
                    await writer().run(store.hold, sorted(self._held), held)
                    if loop.time() - renewed >= LEASE_S / 4:
                        renewed = loop.time()
                        expires = now + timedelta(seconds=LEASE_S)
                        await writer().run(store.renew_streams, sorted(self._streams), expires)
                    await self.refresh()
                    for orphan in await writer().run(store.orphans, now, held):
                        await self._act_for_the_dead(orphan)
                except Exception:  # the database is away: try again on the next round
                    log.exception("remote bots not refreshed")
                await wait(changed, POLL_S)

    async def _act_for_the_dead(self, orphan: Orphan) -> None:
        """Act on a reply the chain's replica stored no outcome for (it stopped holding the
        delivery: it died). Its sends keep the turn's idempotency keys, so what that
        replica sent already is not sent again. A `pass` ends the turn here: the plugins
        after the bot do not run."""
        msg = B.BotDelivery.FromString(orphan.payload).event.message_new
        turn = Turn(orphan.tenant_id, "UTC", [msg])  # the timezone: only plugins read it
        ctx = Context(self.host, turn, orphan.bot)
        try:
            outcome = await _act(ctx, B.BotReply.FromString(orphan.reply))
            if outcome is Outcome.HANDOFF:
                await self.host.save_session(turn, SessionRow(HANDOFF, orphan.bot, PAUSED))
            state, plugin = ("passed", "") if outcome is Outcome.PASS else ("done", orphan.bot)
            await self.host.write(runs.finish, [msg.id], state, plugin)
        except Exception:  # as in the chain: a reply that fails to act is not retried
            log.exception("remote bot reply failed", extra={"bot": orphan.bot})
            return
        finally:
            await writer().run(store.settle, orphan.row_id)
        log.info(
            "remote bot reply acted on for another replica",
            extra={"tenant": orphan.tenant_id, "bot": orphan.bot, "outcome": outcome.value},
        )

    async def refresh(self) -> None:
        """Read who is connected, on any replica, into the chains."""
        live = {(c.tenant_id, c.name): c for c in await writer().read(store.connected, times.now())}
        for tenant_id, plugins in self.plugins.items():
            for plugin in plugins:
                assert isinstance(plugin, RemotePlugin)
                bot = live.pop((tenant_id, plugin.name), None)
                plugin.connected = bot is not None
                if bot is not None:
                    plugin.priority, plugin.channels = bot.priority, bot.channels
        for (tenant_id, _), bot in live.items():
            self.plugins.setdefault(tenant_id, []).append(RemotePlugin(self, tenant_id, bot))
        for tenant_id, plugins in self.plugins.items():
            REMOTE_BOTS.labels(tenant_id).set(sum(p.available() for p in plugins))

    # -- a stream held by this replica ---------------------------------------------------

    async def open(self, bot: Connected) -> str:
        stream_id = uuid.uuid4().hex
        at = times.now()
        expires = at + timedelta(seconds=LEASE_S)
        await writer().run(store.open_stream, stream_id, bot, at, expires)
        self._streams.add(stream_id)
        await self.refresh()  # in this replica's chains before the bot hears `registered`
        await self.wakeups.notify(STREAMS)
        return stream_id

    async def close(self, stream_id: str) -> None:
        self._streams.discard(stream_id)
        await writer().run(store.close_stream, stream_id, times.now())
        await self.refresh()
        await self.wakeups.notify(STREAMS)

    async def deliveries(
        self, bot: Connected, until: asyncio.Future[None]
    ) -> AsyncIterator[bot_service_pb2.BotDelivery]:
        """The bot's pending deliveries, each once on this stream, oldest first, as they
        come, until `until` is done (the bot's side of the stream ended)."""
        sent: set[int] = set()
        with self.wakeups.listen(_bot_key(bot.tenant_id, bot.name)) as added:
            while not until.done():
                pending = await writer().read(
                    store.pending_ids, bot.tenant_id, bot.name, times.now()
                )
                sent &= pending
                for out in await writer().run(store.take, sorted(pending - sent)):
                    sent.add(out.row_id)
                    delivery = B.BotDelivery.FromString(out.payload)
                    delivery.attempt = out.attempt
                    yield delivery
                waiter = asyncio.ensure_future(wait(added, POLL_S))
                await asyncio.wait({waiter, until}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()

    async def answer(self, bot: Connected, reply: bot_service_pb2.BotReply) -> None:
        """Store the bot's reply (the first one per delivery counts) and wake the chain."""
        stored = await writer().run(
            store.answer,
            *(bot.tenant_id, bot.name, reply.delivery_id),
            *(reply.SerializeToString(), times.now()),
        )
        if stored is not None:
            await self.wakeups.notify(_reply_key(bot.tenant_id, bot.name, reply.delivery_id))


class RemoteHost(Protocol):
    """Where registered remote bots are kept (gateway/bots/host.py)."""

    @property
    def remote(self) -> RemoteBots: ...


class BotServicer:
    def __init__(self, host: RemoteHost) -> None:
        self.host = host

    async def Connect(
        self,
        requests: AsyncIterator[bot_service_pb2.BotMessage],
        context: aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[bot_service_pb2.BotEvent]:
        tenant_id = tenant()
        first = await anext(requests, None)
        if first is None or first.WhichOneof("kind") != "register" or not first.register.name:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "send BotRegister with a name")
            return
        reg = first.register
        bot = Connected(tenant_id, reg.name, reg.priority, tuple(reg.channel_ids))
        bots = self.host.remote
        stream_id = await bots.open(bot)
        log.info("remote bot connected", extra={"tenant": tenant_id, "bot": reg.name})

        async def read() -> None:
            async for message in requests:
                if message.WhichOneof("kind") == "reply":
                    await bots.answer(bot, message.reply)

        reader: asyncio.Task[None] = asyncio.create_task(read())
        try:
            yield B.BotEvent(registered=B.BotRegistered(tenant_id=tenant_id, name=reg.name))
            async for delivery in bots.deliveries(bot, reader):
                yield B.BotEvent(delivery=delivery)
        finally:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
            try:
                await bots.close(stream_id)
            except Exception:  # its lease runs out instead
                log.exception("remote bot stream not closed in storage")
            log.info("remote bot disconnected", extra={"tenant": tenant_id, "bot": reg.name})
