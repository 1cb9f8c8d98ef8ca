"""SessionService: QR-session status over gRPC (mirrors the REST session routes)."""

from __future__ import annotations

from typing import Any

from grpc import aio

from gateway import sessions
from gateway.grpc.auth import tenant
from gateway.tenants import Tenants
from wagate.v1 import session_service_pb2 as pb
from wagate.v1 import session_service_pb2_grpc

Ctx = aio.ServicerContext[Any, Any]


class SessionServicer(session_service_pb2_grpc.SessionServiceServicer):
    def __init__(self, tenants: Tenants) -> None:
        self.tenants = tenants

    async def GetSession(
        self, request: pb.GetSessionRequest, context: Ctx
    ) -> pb.GetSessionResponse:
        state = await sessions.get_state(self.tenants, tenant(), request.session_id)
        return pb.GetSessionResponse(session=state)

    async def ListSessions(
        self, request: pb.ListSessionsRequest, context: Ctx
    ) -> pb.ListSessionsResponse:
        states, summary = await sessions.list_states(self.tenants, tenant(), request.status)
        return pb.ListSessionsResponse(sessions=states, summary=summary)
