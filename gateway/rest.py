"""REST for frontends (/api/v1) plus health and metrics. Tenant-scoped by API key."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message as ProtoMessage
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw

from core.errors import (
    ApiError,
    InvalidArgument,
    NotFound,
    Unauthenticated,
    envelope,
)
from core.metrics import REGISTRY
from gateway.bearer import bearer_token
from gateway.paging import page
from gateway.proto_json import parse_json
from gateway.runtime import Runtime
from storage import backlog, repo
from storage.db import ping
from wagate.v1 import event_service_pb2, messaging_service_pb2

log = logging.getLogger("wagate.rest")

api = Blueprint("api", url_prefix="/api/v1")
health = Blueprint("health")

Handler = Callable[..., Awaitable[HTTPResponse]]
P = TypeVar("P", bound=ProtoMessage)
T = TypeVar("T")


def to_json(msg: ProtoMessage) -> dict[str, Any]:
    """The proto3 JSON mapping (lowerCamelCase names, enum names)."""
    return json_format.MessageToDict(msg)


# Codes for the statuses Sanic answers by itself (unknown route, wrong method, ...).
_HTTP_CODES = {
    400: "invalid_argument",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    429: "resource_exhausted",
    503: "unavailable",
}


def error_json(status: int, code: str, message: str) -> HTTPResponse:
    """An error answer: `status` and the error envelope."""
    return json(envelope(code, message), status=status)


def error_response(exc: ApiError) -> HTTPResponse:
    return error_json(exc.http_status, exc.code, exc.message)


def http_error_response(status: int, message: str) -> HTTPResponse:
    """An error Sanic raised (no route, body too large): its status, a code for it."""
    code = _HTTP_CODES.get(status, "internal" if status >= 500 else "invalid_request")
    return error_json(status, code, message)


def authenticated(handler: Handler) -> Handler:
    """Resolve the tenant from the bearer key; map ApiError to its JSON error."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        rt: Runtime = request.app.ctx.runtime
        try:
            key = bearer_token(request.headers.get("authorization"))
            if key is None:
                raise Unauthenticated("missing 'Authorization: Bearer <api key>'")
            tenant_id = rt.tenants.tenant_for_key(key)
            request.ctx.tenant_id = tenant_id
            return await handler(request, rt, tenant_id, *args, **kwargs)
        except ApiError as exc:
            return error_response(exc)

    return wrapper


def page_args(request: Request, parse: Callable[[str], T]) -> tuple[int, T | None]:
    """`?limit=` and `?cursor=` (decoded by `parse`), under the shared paging rule."""
    raw = request.args.get("limit")
    try:
        limit = None if raw is None else int(raw)
    except ValueError:
        raise InvalidArgument("limit must be an integer") from None
    return page(limit, request.args.get("cursor"), parse, size_name="limit", token_name="cursor")


@api.get("/conversations")
@authenticated
async def list_conversations(request: Request, rt: Runtime, tenant_id: str) -> HTTPResponse:
    limit, cursor = page_args(request, repo.parse_conversation_cursor)
    rows, nxt = await repo.list_conversations(
        tenant_id, request.args.get("channel_id", ""), limit, cursor
    )
    items = [to_json(await repo.conversation_proto(r)) for r in rows]
    return json({"items": items, "next_cursor": nxt})


@api.get("/conversations/<conversation_id>/messages")
@authenticated
async def list_messages(
    request: Request, rt: Runtime, tenant_id: str, conversation_id: str
) -> HTTPResponse:
    if await repo.get_conversation(tenant_id, conversation_id) is None:
        raise NotFound(f"conversation '{conversation_id}' not found")
    limit, cursor = page_args(request, int)
    rows, nxt = await repo.list_messages(tenant_id, conversation_id, limit, cursor)
    items = [to_json(repo.message_proto(r)) for r in rows]
    return json({"items": items, "next_cursor": str(nxt) if nxt is not None else None})


def parse_body(request: Request, message: P, default: bytes = b"") -> P:
    """The JSON body in the proto3 JSON mapping; InvalidArgument if it isn't one."""
    return parse_json(request.body or default, message)


@api.post("/messages")
@authenticated
async def send_message(request: Request, rt: Runtime, tenant_id: str) -> HTTPResponse:
    req = parse_body(request, messaging_service_pb2.SendMessageRequest())
    msg = await rt.outbox.send(tenant_id, req)
    return json({"message": to_json(msg)})


@api.post("/realtime-tokens")
@authenticated
async def create_realtime_token(request: Request, rt: Runtime, tenant_id: str) -> HTTPResponse:
    """Body (optional): `{"conversationIds": [...], "ttlSeconds": 900}`, as in the gRPC twin."""
    req = parse_body(request, event_service_pb2.CreateRealtimeTokenRequest(), b"{}")
    minted = await rt.realtime.mint(tenant_id, list(req.conversation_ids), req.ttl_seconds)
    answer = event_service_pb2.CreateRealtimeTokenResponse(
        token=minted.token, conversation_ids=minted.conversations
    )
    answer.expires_at.FromSeconds(minted.expires_at)
    return json(to_json(answer), status=201)


@health.get("/healthz")
async def healthz(request: Request) -> HTTPResponse:
    return json({"status": "ok"})


@health.get("/readyz")
async def readyz(request: Request) -> HTTPResponse:
    rt: Runtime = request.app.ctx.runtime
    checks: dict[str, str] = {}
    for name, check in (("database", ping), ("bus", rt.bus.ping)):
        try:
            await check()
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return json(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


@health.get("/metrics")
async def metrics(request: Request) -> HTTPResponse:
    try:
        await backlog.refresh_gauges()
    except Exception as exc:  # the database is down: the other metrics still tell
        log.warning("backlog gauges not read", extra={"error": type(exc).__name__})
    return raw(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
