"""gRPC EventService against a real `wagate serve`: filters, resume, slow consumers, isolation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import grpc
import pytest

from providers.testing import FakeGraphAPI
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.realtime import GLOBEX, Client, api, post, send_text, text_webhook
from tests.support.tenants import ACME_KEY, GLOBEX_KEY, two_tenant_config
from wagate.v1 import event_pb2
from wagate.v1 import event_service_pb2 as pb
from wagate.v1 import event_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration

ALEX = "15551230001"
BEA = "15551230002"


def auth(key: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {key}"),)


class Stream:
    """One StreamEvents call, read in the background into `events`."""

    def __init__(self, stub: pb_grpc.EventServiceStub, key: str, **request: Any) -> None:
        self.call = stub.StreamEvents(pb.StreamEventsRequest(**request), metadata=auth(key))
        self.events: list[event_pb2.Event] = []
        self.error: grpc.aio.AioRpcError | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self, read: bool = True) -> Stream:
        await self.call.initial_metadata()  # the server has subscribed the stream
        if read:
            self.start_reading()
        return self

    def start_reading(self) -> None:
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for event in self.call:
                self.events.append(event)
        except grpc.aio.AioRpcError as exc:
            self.error = exc

    async def wait(self, count: int, within: float = 10.0) -> list[event_pb2.Event]:
        await eventually(lambda: len(self.events) >= count or self.error, within, f"{count} events")
        assert self.error is None or len(self.events) >= count, self.error
        return self.events

    async def ended(self, within: float = 10.0) -> grpc.aio.AioRpcError:
        await eventually(lambda: self.error is not None, within, "the stream to end")
        assert self.error is not None
        return self.error

    def wamids(self) -> list[str]:
        return [e.message_new.provider_message_id for e in self.events if e.HasField("message_new")]

    def close(self) -> None:
        self.call.cancel()
        if self._task is not None:
            self._task.cancel()


@pytest.fixture
async def stub(gateway: Gateway) -> AsyncIterator[pb_grpc.EventServiceStub]:
    async with grpc.aio.insecure_channel(gateway.grpc_target) as channel:
        yield pb_grpc.EventServiceStub(channel)


@pytest.fixture
async def streams() -> AsyncIterator[list[Stream]]:
    opened: list[Stream] = []
    yield opened
    for stream in opened:
        stream.close()


async def conversation_ids(http: aiohttp.ClientSession, gw: Gateway, key: str) -> dict[str, str]:
    status, data = await api(http, gw, "GET", "/conversations?limit=200", key)
    assert status == 200, data
    return {c["contact"]["waId"]: c["id"] for c in data["items"]}


async def test_filters_by_channel_conversation_and_kind(
    gateway: Gateway,
    stub: pb_grpc.EventServiceStub,
    streams: list[Stream],
    http: aiohttp.ClientSession,
    fake_graph: FakeGraphAPI,
) -> None:
    await post(http, gateway, text_webhook([("wamid.f-0", "hi", ALEX), ("wamid.f-1", "yo", BEA)]))
    convs = await eventually(
        lambda: _two(conversation_ids(http, gateway, ACME_KEY)), what="two conversations"
    )

    def open_stream(key: str = ACME_KEY, **request: Any) -> Stream:
        streams.append(Stream(stub, key, **request))
        return streams[-1]

    every = await open_stream().open()
    by_channel = await open_stream(channel_ids=["acme-meta"]).open()
    alex_only = await open_stream(conversation_ids=[convs[ALEX]]).open()
    statuses = await open_stream(kinds=[event_pb2.EVENT_KIND_MESSAGE_STATUS]).open()
    new_or_status = await open_stream(
        kinds=[event_pb2.EVENT_KIND_MESSAGE_NEW, event_pb2.EVENT_KIND_MESSAGE_STATUS],
        conversation_ids=[convs[BEA]],
    ).open()
    globex = await open_stream(GLOBEX_KEY).open()

    await post(http, gateway, text_webhook([("wamid.f-2", "a", ALEX), ("wamid.f-3", "b", BEA)]))
    sent = await send_text(http, gateway, BEA, "answer")
    await every.wait(4)
    await asyncio.sleep(0.3)

    assert sorted(every.wamids()) == ["", "wamid.f-2", "wamid.f-3"]  # outbound: no wamid yet
    assert [e.WhichOneof("payload") for e in every.events].count("message_status") == 1
    assert [e.id for e in by_channel.events] == [e.id for e in every.events]
    assert alex_only.wamids() == ["wamid.f-2"] and len(alex_only.events) == 1
    [st] = statuses.events
    assert st.message_status.status == 2  # MESSAGE_STATUS_SENT
    assert st.message_status.message_id == sent["id"]
    assert [e.WhichOneof("payload") for e in new_or_status.events] == [
        "message_new",
        "message_new",
        "message_status",
    ]
    assert globex.events == []
    for event in every.events:
        assert event.tenant_id == "acme" and event.channel_id == "acme-meta"
    ids = [int(e.id) for e in every.events]
    assert ids == sorted(ids)


async def _two(pending: Any) -> dict[str, str] | None:
    convs: dict[str, str] = await pending
    return convs if len(convs) == 2 else None


async def test_resume_after_event_id(
    gateway: Gateway,
    stub: pb_grpc.EventServiceStub,
    streams: list[Stream],
    http: aiohttp.ClientSession,
) -> None:
    head = Stream(stub, ACME_KEY)
    streams.append(head)
    await head.open()
    for i in range(5):
        await post(http, gateway, text_webhook([(f"wamid.g-{i}", f"m{i}", ALEX)]))
    await head.wait(5)
    resume_from = head.events[1].id

    # Resume while new events keep arriving: replay, then live, no gap, no duplicate.
    async def traffic() -> None:
        for i in range(5, 30):
            await post(http, gateway, text_webhook([(f"wamid.g-{i}", f"m{i}", ALEX)]))

    running = asyncio.create_task(traffic())
    resumed = Stream(stub, ACME_KEY, after_event_id=resume_from)
    streams.append(resumed)
    await resumed.open()
    await running
    await resumed.wait(28)
    await asyncio.sleep(0.3)
    assert resumed.wamids() == [f"wamid.g-{i}" for i in range(2, 30)]
    ids = [int(e.id) for e in resumed.events]
    assert ids == sorted(set(ids)) and ids[0] > int(resume_from)

    everything = Stream(stub, ACME_KEY, after_event_id="0")
    streams.append(everything)
    await everything.open()
    await everything.wait(30)
    assert everything.wamids() == [f"wamid.g-{i}" for i in range(30)]


async def test_slow_consumer_is_cut_off_and_others_keep_going(
    gateways: Callable[..., Gateway],
    fake_graph: FakeGraphAPI,
    streams: list[Stream],
    http: aiohttp.ClientSession,
) -> None:
    # The buffer must hold a burst (ingest publishes a webhook's events back to back).
    gw = gateways({**two_tenant_config(fake_graph.base_url), "realtime_buffer": 150})
    total = 600
    # Without BDP probing the client's flow-control window stays at 64 KiB, so a client
    # that stops reading makes the server's writes wait after a few dozen events.
    options = [("grpc.http2.bdp_probe", 0)]
    async with grpc.aio.insecure_channel(gw.grpc_target, options=options) as channel:
        stub = pb_grpc.EventServiceStub(channel)
        slow = Stream(stub, ACME_KEY)
        fast = Stream(stub, ACME_KEY)
        streams.extend([slow, fast])
        await slow.open(read=False)  # subscribed, but never reads for now
        await fast.open()
        socket = await Client().connect(gw, ACME_KEY, "websocket")
        try:
            big = "x" * 2000  # larger events fill the flow-control window sooner
            for start in range(0, total, 50):
                batch = [(f"wamid.h-{i}", f"{i} {big}", ALEX) for i in range(start, start + 50)]
                await post(http, gw, text_webhook(batch))
            # Neither the gateway nor the other subscribers wait for the slow one.
            await fast.wait(total, within=30)
            await socket.wait("message:new", count=total, within=30)
        finally:
            await socket.close()
        assert "slow consumer cut off" in gw.logs()

        slow.start_reading()
        error = await slow.ended()
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error.details() == (
            "consumer fell more than 150 events behind and was cut off; "
            "resume with after_event_id set to the last event id you handled"
        )
        got = slow.wamids()
        assert 0 < len(got) < total and got == [f"wamid.h-{i}" for i in range(len(got))]

        # It resumes where it stopped.
        again = Stream(stub, ACME_KEY, after_event_id=slow.events[-1].id)
        streams.append(again)
        await again.open()
        await again.wait(total - len(got))
        assert got + again.wamids() == [f"wamid.h-{i}" for i in range(total)]


async def test_errors_and_isolation(
    gateway: Gateway, stub: pb_grpc.EventServiceStub, http: aiohttp.ClientSession
) -> None:
    await post(http, gateway, text_webhook([("wamid.i-0", "hi", ALEX)]))
    await post(http, gateway, text_webhook([("wamid.i-1", "hi", BEA)], GLOBEX[0]), GLOBEX)
    acme_conv = (await eventually(lambda: conversation_ids(http, gateway, ACME_KEY)))[ALEX]

    async def failure(key: str, **request: Any) -> grpc.aio.AioRpcError:
        call = stub.StreamEvents(pb.StreamEventsRequest(**request), metadata=auth(key))
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call.read()
        return info.value

    err = await failure(GLOBEX_KEY, channel_ids=["acme-meta"])
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    foreign = await failure(GLOBEX_KEY, conversation_ids=[acme_conv])
    unknown = await failure(GLOBEX_KEY, conversation_ids=["cv_unknown"])
    assert foreign.code() == unknown.code() == grpc.StatusCode.NOT_FOUND
    assert foreign.details() == f"conversation '{acme_conv}' not found"
    err = await failure(ACME_KEY, after_event_id="latest")
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    err = await failure("wrong-key")
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED

    # Replay from the very start shows a tenant only its own events.
    expected = ((ACME_KEY, "acme", "wamid.i-0"), (GLOBEX_KEY, "globex", "wamid.i-1"))
    for key, tenant, wamid in expected:
        stream = Stream(stub, key, after_event_id="0")
        try:
            await stream.open()
            await stream.wait(1)
            await asyncio.sleep(0.3)
            assert [e.tenant_id for e in stream.events] == [tenant]
            assert stream.wamids() == [wamid]
        finally:
            stream.close()


async def test_create_realtime_token(
    gateway: Gateway, stub: pb_grpc.EventServiceStub, http: aiohttp.ClientSession
) -> None:
    await post(http, gateway, text_webhook([("wamid.t-0", "hi", ALEX)]))
    conv = (await eventually(lambda: conversation_ids(http, gateway, ACME_KEY)))[ALEX]
    answer = await stub.CreateRealtimeToken(
        pb.CreateRealtimeTokenRequest(conversation_ids=[conv], ttl_seconds=120),
        metadata=auth(ACME_KEY),
    )
    assert answer.token.startswith("wrt1.") and list(answer.conversation_ids) == [conv]
    assert 110 < answer.expires_at.seconds - time.time() <= 120
    client = await Client().connect(gateway, answer.token, "websocket")
    try:
        assert await client.call("join:conversation", conv) == {"ok": True, "conversationId": conv}
    finally:
        await client.close()
    for request, code in (
        (pb.CreateRealtimeTokenRequest(conversation_ids=["cv_x"]), grpc.StatusCode.NOT_FOUND),
        (pb.CreateRealtimeTokenRequest(ttl_seconds=7200), grpc.StatusCode.INVALID_ARGUMENT),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.CreateRealtimeToken(request, metadata=auth(ACME_KEY))
        assert info.value.code() == code
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateRealtimeToken(
            pb.CreateRealtimeTokenRequest(conversation_ids=[conv]), metadata=auth(GLOBEX_KEY)
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
