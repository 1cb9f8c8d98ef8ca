"""EventService: the tenant's event stream (filters, resume), and realtime tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from grpc import aio

from core.errors import NotFound
from gateway.grpc.auth import tenant
from gateway.tenants import Tenants
from realtime.hub import Hub, Subscriber, parse_event_id, replay
from realtime.server import Realtime
from storage import repo
from wagate.v1 import event_pb2, event_service_pb2_grpc
from wagate.v1 import event_service_pb2 as pb

Ctx = aio.ServicerContext[Any, Any]


class EventServicer(event_service_pb2_grpc.EventServiceServicer):
    def __init__(self, tenants: Tenants, streams: Hub, realtime: Realtime, buffer: int) -> None:
        self.tenants = tenants
        self.streams = streams
        self.realtime = realtime
        self.buffer = buffer

    async def StreamEvents(
        self, request: pb.StreamEventsRequest, context: Ctx
    ) -> AsyncIterator[event_pb2.Event]:
        tenant_id = tenant()
        for channel_id in request.channel_ids:
            self.tenants.tenant_channel(tenant_id, channel_id)
        for conversation_id in request.conversation_ids:
            if await repo.get_conversation(tenant_id, conversation_id) is None:
                raise NotFound(f"conversation '{conversation_id}' not found")
        after = parse_event_id(request.after_event_id)
        sub = Subscriber(
            tenant_id,
            limit=self.buffer,
            resuming=after is not None,
            channels=request.channel_ids,
            conversations=request.conversation_ids or None,
            kinds=request.kinds,
            name=f"grpc {context.peer()}",
        )
        self.streams.add(sub)
        try:
            # Subscribed: from here on nothing is missed. Initial metadata tells the client.
            await context.send_initial_metadata(())
            if after is not None:
                async for event in replay(sub, after):
                    yield event
                # go_live must follow the replay without an await in between.
                for event in sub.go_live(after):
                    yield event
            while True:
                for event in await sub.next_batch():
                    yield event
        finally:
            self.streams.remove(sub)

    async def CreateRealtimeToken(
        self, request: pb.CreateRealtimeTokenRequest, context: Ctx
    ) -> pb.CreateRealtimeTokenResponse:
        minted = await self.realtime.mint(
            tenant(), list(request.conversation_ids), request.ttl_seconds
        )
        response = pb.CreateRealtimeTokenResponse(
            token=minted.token, conversation_ids=minted.conversations
        )
        response.expires_at.FromSeconds(minted.expires_at)
        return response
