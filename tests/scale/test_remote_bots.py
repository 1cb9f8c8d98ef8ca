"""Remote bots with two replicas on one PostgreSQL and one Redis (both real, throwaway):
a Python bot over a real gRPC channel, connected to one replica, answers what the
other one took; a bot that drops a delivery gets it again on the other replica, and
its answer is sent once."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import grpc
import pytest

from providers.testing import FakeGraphAPI
from tests.scale.conftest import Start
from tests.support import bots
from tests.support.metrics import samples, value
from tests.support.polling import eventually
from tests.support.procs import Gateway
from wagate.v1 import bot_service_pb2 as B
from wagate.v1 import bot_service_pb2_grpc as B_grpc
from wagate.v1 import message_pb2, messaging_service_pb2

pytestmark = pytest.mark.integration


class PyBot:
    """A remote bot on `BotService.Connect`: it answers each text with "py: <text>"
    unless told to keep quiet, and keeps every delivery it got."""

    def __init__(self, gw: Gateway, name: str, *, answer: bool = True) -> None:
        self.channel = grpc.aio.insecure_channel(gw.grpc_target)
        self.name = name
        self.answer = answer
        self.deliveries: list[B.BotDelivery] = []
        self.registered = asyncio.Event()
        self._out: asyncio.Queue[B.BotMessage | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _requests(self) -> AsyncIterator[B.BotMessage]:
        yield B.BotMessage(register=B.BotRegister(name=self.name, priority=500))
        while (message := await self._out.get()) is not None:
            yield message

    def reply(self, delivery: B.BotDelivery) -> None:
        text = delivery.event.message_new.text.body
        send = messaging_service_pb2.SendMessageRequest(
            text=message_pb2.TextContent(body=f"py: {text}")
        )
        action = B.BotAction(send=send)
        reply = B.BotReply(delivery_id=delivery.delivery_id, actions=[action])
        self._out.put_nowait(B.BotMessage(reply=reply))

    async def start(self) -> PyBot:
        stub = B_grpc.BotServiceStub(self.channel)
        call = stub.Connect(self._requests(), metadata=(("authorization", "Bearer t1-key"),))

        async def read() -> None:
            async for event in call:
                if event.HasField("registered"):
                    self.registered.set()
                else:
                    self.deliveries.append(event.delivery)
                    if self.answer:
                        self.reply(event.delivery)

        self._task = asyncio.create_task(read())
        await asyncio.wait_for(self.registered.wait(), 10)
        return self

    async def stop(self) -> None:
        """Drop the stream (and its channel) at once, answered or not."""
        if self._task is not None:
            self._task.cancel()
        await self.channel.close()


@pytest.fixture
async def pybots(http: aiohttp.ClientSession) -> AsyncIterator[Callable[..., Any]]:
    """`await pybots(gw, name, seen_by=other)`: a bot on `gw`, once `other`'s chains have it."""
    started: list[PyBot] = []

    async def start(gw: Gateway, name: str, seen_by: Gateway, **kwargs: Any) -> PyBot:
        bot = PyBot(gw, name, **kwargs)
        started.append(bot)
        await bot.start()
        await sees_remote_bots(http, seen_by, 1)
        return bot

    yield start
    for bot in started:
        await bot.stop()


@pytest.fixture
def pair(replicas: Start, fake_graph: FakeGraphAPI) -> tuple[Gateway, Gateway]:
    """Two replicas of tenant t1, no configured bots: only remote ones answer."""
    a, b = replicas({"tenants": [bots.tenant(1, fake_graph.base_url, [])]})
    return a, b


async def sees_remote_bots(http: aiohttp.ClientSession, gw: Gateway, n: int) -> None:
    """Until `gw`'s chains count `n` remote bots of t1 connected (on any replica)."""

    async def check() -> bool:
        return value(await samples(http, gw), "wagate_remote_bots", tenant="t1") == n

    await eventually(check, what=f"{n} remote bots seen by {gw.url}")


async def test_a_bot_on_one_replica_answers_a_webhook_taken_by_the_other_once(
    pair: tuple[Gateway, Gateway],
    fake_graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
    pybots: Callable[..., Any],
) -> None:
    a, b = pair
    bot = await pybots(b, "crm", seen_by=a)
    body = bots.text_webhook(1, "wamid.rb-1", "order 7?")
    assert await bots.post(http, a, 1, body) == 200
    assert await bots.wait_replies(fake_graph, 1) == ["py: order 7?"]
    assert [(d.attempt, d.event.message_new.text.body) for d in bot.deliveries] == [(1, "order 7?")]
    assert await bots.post(http, b, 1, body) == 200  # the provider's redelivery, to B
    await asyncio.sleep(1.0)  # a second run or a second send would have happened by now
    assert bots.replies(fake_graph) == ["py: order 7?"]
    assert len(bot.deliveries) == 1

    # The same bot moves to A, the webhook goes to B: whichever replica runs the chain,
    # one of the two turns crossed from one replica to the other.
    await bot.stop()
    moved = await pybots(a, "crm", seen_by=b)
    assert await bots.post(http, b, 1, bots.text_webhook(1, "wamid.rb-3", "and 8?")) == 200
    assert await bots.wait_replies(fake_graph, 2) == ["py: order 7?", "py: and 8?"]
    assert [d.attempt for d in moved.deliveries] == [1]


async def test_a_dropped_delivery_comes_again_on_the_other_replica_and_is_answered_once(
    pair: tuple[Gateway, Gateway],
    fake_graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
    pybots: Callable[..., Any],
) -> None:
    a, b = pair
    quiet = await pybots(a, "crm", seen_by=b, answer=False)
    assert await bots.post(http, b, 1, bots.text_webhook(1, "wamid.rb-2", "refund?")) == 200
    await eventually(lambda: quiet.deliveries, what="the first delivery, on A")
    await quiet.stop()  # gone without answering
    assert bots.replies(fake_graph) == []

    again = await pybots(b, "crm", seen_by=a, answer=False)
    await eventually(lambda: again.deliveries, what="the delivery again, on B")
    (first,), (second,) = quiet.deliveries, again.deliveries
    assert second.delivery_id == first.delivery_id
    assert (first.attempt, second.attempt) == (1, 2)
    assert second.event == first.event
    again.reply(second)
    again.reply(second)  # a bot that answers twice: the first stored reply counts
    assert await bots.wait_replies(fake_graph, 1) == ["py: refund?"]
    await asyncio.sleep(1.0)
    assert bots.replies(fake_graph) == ["py: refund?"]
    assert len(again.deliveries) == 1


async def test_a_reply_stored_after_the_chains_replica_died_is_sent_once(
    pair: tuple[Gateway, Gateway],
    fake_graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
    pybots: Callable[..., Any],
) -> None:
    a, b = pair
    bot = await pybots(b, "crm", seen_by=a, answer=False)
    assert await bots.post(http, a, 1, bots.text_webhook(1, "wamid.rb-4", "invoice?")) == 200
    await eventually(lambda: bot.deliveries, what="the delivery")

    async def chains_replica() -> Gateway | None:
        for gw in (a, b):
            if value(await samples(http, gw), "wagate_remote_bot_turns") == 1:
                return gw
        return None

    chain = await eventually(chains_replica, what="the replica whose chain waits on the bot")
    survivor = b if chain is a else a
    chain.stop(signal.SIGKILL)  # never comes back
    if chain is b:  # the bot's stream died with it: it reconnects to the survivor
        bot = await pybots(survivor, "crm", seen_by=survivor, answer=False)
        await eventually(lambda: bot.deliveries, what="the delivery again")
    bot.reply(bot.deliveries[-1])
    # The survivor acts on the reply once the dead replica's hold runs out (5 s).
    await eventually(lambda: bots.replies(fake_graph), within=30, what="the reply, by the survivor")
    await asyncio.sleep(1.5)
    assert bots.replies(fake_graph) == ["py: invoice?"]
    assert "remote bot reply acted on for another replica" in survivor.logs()
    assert survivor.proc.poll() is None
