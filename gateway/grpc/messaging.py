"""MessagingService: sending and history over gRPC."""

from __future__ import annotations

from typing import Any

from grpc import aio

from core.errors import NotFound
from gateway.grpc.auth import tenant
from gateway.outbox import Outbox
from gateway.paging import proto_page
from realtime.typing import TypingTimers
from storage import repo
from wagate.v1 import messaging_service_pb2 as pb
from wagate.v1 import messaging_service_pb2_grpc

Ctx = aio.ServicerContext[Any, Any]


class MessagingServicer(messaging_service_pb2_grpc.MessagingServiceServicer):
    def __init__(self, outbox: Outbox, typing: TypingTimers) -> None:
        self.outbox = outbox
        self.typing = typing

    async def SendMessage(
        self, request: pb.SendMessageRequest, context: Ctx
    ) -> pb.SendMessageResponse:
        return pb.SendMessageResponse(message=await self.outbox.send(tenant(), request))

    async def GetMessage(
        self, request: pb.GetMessageRequest, context: Ctx
    ) -> pb.GetMessageResponse:
        row = await repo.get_message(tenant(), request.id) if request.id else None
        if row is None:
            raise NotFound(f"message '{request.id}' not found")
        return pb.GetMessageResponse(message=repo.message_proto(row))

    async def ListMessages(
        self, request: pb.ListMessagesRequest, context: Ctx
    ) -> pb.ListMessagesResponse:
        if await repo.get_conversation(tenant(), request.conversation_id) is None:
            raise NotFound(f"conversation '{request.conversation_id}' not found")
        size, cursor = proto_page(request.page_size, request.page_token, int)
        rows, nxt = await repo.list_messages(tenant(), request.conversation_id, size, cursor)
        return pb.ListMessagesResponse(
            messages=[repo.message_proto(r) for r in rows],
            next_page_token=str(nxt) if nxt is not None else "",
        )

    async def ListConversations(
        self, request: pb.ListConversationsRequest, context: Ctx
    ) -> pb.ListConversationsResponse:
        size, cursor = proto_page(
            request.page_size, request.page_token, repo.parse_conversation_cursor
        )
        rows, nxt = await repo.list_conversations(tenant(), request.channel_id, size, cursor)
        return pb.ListConversationsResponse(
            conversations=[await repo.conversation_proto(r) for r in rows],
            next_page_token=nxt or "",
        )

    async def MarkRead(self, request: pb.MarkReadRequest, context: Ctx) -> pb.MarkReadResponse:
        await self.outbox.mark_read(tenant(), request.message_id)
        return pb.MarkReadResponse()

    async def SendTyping(
        self, request: pb.SendTypingRequest, context: Ctx
    ) -> pb.SendTypingResponse:
        channel_id = await self.outbox.send_typing(
            tenant(), request.conversation_id, request.message_id
        )
        await self.typing.start(tenant(), channel_id, request.conversation_id)
        return pb.SendTypingResponse()
