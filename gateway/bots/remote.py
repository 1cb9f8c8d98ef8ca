"""Remote bot plugins over `BotService.Connect` (proto/wagate/v1/bot_service.proto).

A remote bot joins its tenant's chain when it registers, at its priority. Each
turn is a `BotDelivery`, answered by a `BotReply` (the ack). A delivery not
answered when the stream drops stays pending and is sent again when the bot
reconnects under the same name; its turn waits up to `REPLY_TIMEOUT` for that,
then passes. While no stream is connected, new turns skip the bot. Pending
deliveries live in memory: a gateway restart drops them (the turn's claim is
kept, so nothing is answered twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
from grpc import aio

from gateway.bots.base import Context, Outcome, Plugin
from gateway.grpc.auth import tenant
from wagate.v1 import bot_service_pb2, event_pb2, message_pb2

log = logging.getLogger("wagate.bots.remote")

B = bot_service_pb2
REPLY_TIMEOUT = 30.0


@dataclass
class _Pending:
    delivery: bot_service_pb2.BotDelivery
    reply: asyncio.Future[bot_service_pb2.BotReply]


class RemotePlugin(Plugin):
    def __init__(self, name: str, priority: int, channels: tuple[str, ...]) -> None:
        self.name = name
        self.priority = priority
        self.channels = channels
        self.out: asyncio.Queue[bot_service_pb2.BotEvent] | None = None
        self.pending: dict[str, _Pending] = {}

    def available(self) -> bool:
        return self.out is not None

    def attach(self, out: asyncio.Queue[bot_service_pb2.BotEvent]) -> None:
        self.out = out
        for pending in self.pending.values():  # redeliver what was never acknowledged
            pending.delivery.attempt += 1
            out.put_nowait(B.BotEvent(delivery=pending.delivery))

    def detach(self, out: asyncio.Queue[bot_service_pb2.BotEvent]) -> None:
        if self.out is out:
            self.out = None

    def on_reply(self, reply: bot_service_pb2.BotReply) -> None:
        pending = self.pending.get(reply.delivery_id)
        if pending is not None and not pending.reply.done():
            pending.reply.set_result(reply)

    async def handle(self, ctx: Context) -> Outcome:
        turn = ctx.turn
        delivery_id = turn.message.id
        event = event_pb2.Event(
            tenant_id=turn.tenant_id, channel_id=turn.channel_id, message_new=turn.message
        )
        delivery = B.BotDelivery(delivery_id=delivery_id, event=event, attempt=1)
        pending = _Pending(delivery, asyncio.get_running_loop().create_future())
        self.pending[delivery_id] = pending
        if self.out is not None:
            self.out.put_nowait(B.BotEvent(delivery=delivery))
        await ctx.typing(True)
        try:
            reply = await asyncio.wait_for(pending.reply, REPLY_TIMEOUT)
        except TimeoutError:
            log.warning("remote bot did not answer", extra={"bot": self.name})
            return Outcome.PASS
        finally:
            self.pending.pop(delivery_id, None)
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


class RemoteChains(Protocol):
    """Where a registered remote bot joins its tenant's chain (gateway/bots/host.py)."""

    def remote_plugin(
        self, tenant_id: str, name: str, priority: int, channels: tuple[str, ...]
    ) -> RemotePlugin: ...


class BotServicer:
    def __init__(self, host: RemoteChains) -> None:
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
        plugin = self.host.remote_plugin(tenant_id, reg.name, reg.priority, tuple(reg.channel_ids))
        out: asyncio.Queue[bot_service_pb2.BotEvent] = asyncio.Queue()
        yield B.BotEvent(registered=B.BotRegistered(tenant_id=tenant_id, name=reg.name))
        plugin.attach(out)
        log.info("remote bot connected", extra={"tenant": tenant_id, "bot": reg.name})

        async def read() -> None:
            async for message in requests:
                if message.WhichOneof("kind") == "reply":
                    plugin.on_reply(message.reply)

        reader = asyncio.create_task(read())
        try:
            while True:
                getter = asyncio.create_task(out.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                yield getter.result()
        finally:
            plugin.detach(out)
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
            log.info("remote bot disconnected", extra={"tenant": tenant_id, "bot": reg.name})
