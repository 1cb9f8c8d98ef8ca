"""AdminService: the admin API over gRPC, the twin of the REST routes under /api/v1/admin.

Every call is authenticated here with the admin key of its `authorization: Bearer`
metadata (gateway/grpc/auth.py lets AdminService calls through untouched) and then
handed to `AdminService`, the same code the REST routes call, so both surfaces
validate, store, announce and audit alike. Channels and bot entries travel as
`google.protobuf.Struct`: a channel is exactly a channel of the config file.

With no admin key configured the calls answer UNIMPLEMENTED: REST answers 404 for
the absent API, and gRPC's own HTTP mapping turns a 404 into UNIMPLEMENTED
(https://github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md). NOT_FOUND
stays what it means everywhere else: no such tenant, channel or key.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp
from grpc import StatusCode, aio

from core.errors import ApiError, NotFound
from gateway.admin.service import AdminService
from gateway.grpc.auth import metadata_token
from gateway.paging import proto_page
from wagate.v1 import admin_service_pb2 as pb
from wagate.v1 import admin_service_pb2_grpc

Ctx = aio.ServicerContext[Any, Any]
Req = TypeVar("Req")
Resp = TypeVar("Resp")
Handler = Callable[["AdminServicer", str, Req], Awaitable[Resp]]

MANAGED_BY = {"config": pb.MANAGED_BY_CONFIG, "api": pb.MANAGED_BY_API}


def admin_call(
    handler: Handler[Req, Resp],
) -> Callable[[AdminServicer, Req, Ctx], Awaitable[Resp]]:
    """Authenticate the admin key, run the handler with its actor id, map domain errors."""

    @functools.wraps(handler)
    async def call(self: AdminServicer, request: Req, context: Ctx) -> Resp:
        try:
            try:
                actor = self.admin.authenticate(metadata_token(context.invocation_metadata()))
            except NotFound as exc:  # no admin key configured: the API is absent
                await context.abort(StatusCode.UNIMPLEMENTED, exc.message)
            return await handler(self, actor, request)
        except ApiError as exc:
            await context.abort(exc.grpc_code, exc.message)

    return call


def to_struct(value: dict[str, Any]) -> Struct:
    struct = Struct()
    struct.update(value)
    return struct


def from_struct(struct: Struct) -> dict[str, Any]:
    """The dict a JSON body would have given: Struct numbers are doubles, so 3.0 is 3 again."""
    return _ints(json_format.MessageToDict(struct))  # type: ignore[no-any-return]


def _ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def timestamp(value: str | datetime | None) -> Timestamp | None:
    """The REST body's ISO 8601 time as a Timestamp; None when there is none."""
    if not value:
        return None
    ts = Timestamp()
    ts.FromDatetime(datetime.fromisoformat(value) if isinstance(value, str) else value)
    return ts


def tenant_proto(body: dict[str, Any]) -> pb.Tenant:
    return pb.Tenant(
        id=body["id"],
        managed_by=MANAGED_BY.get(body.get("managedBy", ""), pb.MANAGED_BY_UNSPECIFIED),
        created_at=timestamp(body.get("createdAt")),
        channel_ids=body.get("channels", []),
        api_keys=[
            pb.ApiKeyInfo(id=k["id"], created_at=timestamp(k.get("createdAt")))
            for k in body.get("apiKeys", [])
        ],
    )


def audit_proto(entry: dict[str, Any]) -> pb.AuditEntry:
    return pb.AuditEntry(
        id=str(entry["id"]),
        at=timestamp(entry.get("at")),
        actor=entry.get("actor") or "",
        action=entry.get("action") or "",
        tenant_id=entry.get("tenantId") or "",
        target=entry.get("target") or "",
        details=to_struct(entry.get("details") or {}),
    )


class AdminServicer(admin_service_pb2_grpc.AdminServiceServicer):
    def __init__(self, admin: AdminService) -> None:
        self.admin = admin

    @admin_call
    async def ListTenants(
        self, actor: str, request: pb.ListTenantsRequest
    ) -> pb.ListTenantsResponse:
        tenants = await self.admin.list_tenants()
        return pb.ListTenantsResponse(tenants=[tenant_proto(t) for t in tenants])

    @admin_call
    async def CreateTenant(
        self, actor: str, request: pb.CreateTenantRequest
    ) -> pb.CreateTenantResponse:
        return pb.CreateTenantResponse(
            tenant=tenant_proto(await self.admin.create_tenant(actor, request.id))
        )

    @admin_call
    async def GetTenant(self, actor: str, request: pb.GetTenantRequest) -> pb.GetTenantResponse:
        return pb.GetTenantResponse(tenant=tenant_proto(await self.admin.get_tenant(request.id)))

    @admin_call
    async def DeleteTenant(
        self, actor: str, request: pb.DeleteTenantRequest
    ) -> pb.DeleteTenantResponse:
        await self.admin.delete_tenant(actor, request.id)
        return pb.DeleteTenantResponse()

    @admin_call
    async def CreateApiKey(
        self, actor: str, request: pb.CreateApiKeyRequest
    ) -> pb.CreateApiKeyResponse:
        created = await self.admin.create_api_key(actor, request.tenant_id)
        return pb.CreateApiKeyResponse(id=created["id"], key=created["key"])

    @admin_call
    async def RevokeApiKey(
        self, actor: str, request: pb.RevokeApiKeyRequest
    ) -> pb.RevokeApiKeyResponse:
        await self.admin.revoke_api_key(actor, request.tenant_id, request.key_id)
        return pb.RevokeApiKeyResponse()

    @admin_call
    async def ListChannels(
        self, actor: str, request: pb.ListChannelsRequest
    ) -> pb.ListChannelsResponse:
        channels = await self.admin.list_channels(request.tenant_id)
        return pb.ListChannelsResponse(channels=[to_struct(c) for c in channels])

    @admin_call
    async def CreateChannel(
        self, actor: str, request: pb.CreateChannelRequest
    ) -> pb.CreateChannelResponse:
        body = from_struct(request.channel)
        channel = await self.admin.create_channel(actor, request.tenant_id, body)
        return pb.CreateChannelResponse(channel=to_struct(channel))

    @admin_call
    async def GetChannel(self, actor: str, request: pb.GetChannelRequest) -> pb.GetChannelResponse:
        channel = await self.admin.get_channel(request.tenant_id, request.channel_id)
        return pb.GetChannelResponse(channel=to_struct(channel))

    @admin_call
    async def UpdateChannel(
        self, actor: str, request: pb.UpdateChannelRequest
    ) -> pb.UpdateChannelResponse:
        body = from_struct(request.channel)
        channel = await self.admin.patch_channel(actor, request.tenant_id, request.channel_id, body)
        return pb.UpdateChannelResponse(channel=to_struct(channel))

    @admin_call
    async def DeleteChannel(
        self, actor: str, request: pb.DeleteChannelRequest
    ) -> pb.DeleteChannelResponse:
        await self.admin.delete_channel(actor, request.tenant_id, request.channel_id)
        return pb.DeleteChannelResponse()

    @admin_call
    async def GetBots(self, actor: str, request: pb.GetBotsRequest) -> pb.GetBotsResponse:
        bots = await self.admin.get_bots(request.tenant_id)
        return pb.GetBotsResponse(bots=[to_struct(b) for b in bots])

    @admin_call
    async def SetBots(self, actor: str, request: pb.SetBotsRequest) -> pb.SetBotsResponse:
        chain = [from_struct(b) for b in request.bots]
        bots = await self.admin.put_bots(actor, request.tenant_id, chain)
        return pb.SetBotsResponse(bots=[to_struct(b) for b in bots])

    @admin_call
    async def ListAuditEntries(
        self, actor: str, request: pb.ListAuditEntriesRequest
    ) -> pb.ListAuditEntriesResponse:
        size, after = proto_page(request.page_size, request.page_token, int)
        entries = await self.admin.audit(
            request.tenant_id or None, None if after is None else str(after), size
        )
        last = str(entries[-1]["id"]) if len(entries) == size else ""
        return pb.ListAuditEntriesResponse(
            entries=[audit_proto(e) for e in entries], next_page_token=last
        )
