"""REST for the admin API (/api/v1/admin, CONTRACT "Admin API"): `AdminService` over HTTP.

Every route first authenticates the admin key, so without one configured every
route answers 404, as if it were not there.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json

from core.errors import ApiError, InvalidArgument
from gateway.admin.service import AdminService
from gateway.bearer import bearer_token
from gateway.paging import page
from gateway.rest import error_response
from gateway.runtime import Runtime

bp = Blueprint("admin", url_prefix="/api/v1/admin")

Handler = Callable[..., Awaitable[HTTPResponse]]


def admin(handler: Handler) -> Handler:
    """Authenticate the admin key; the handler gets the service and the actor id."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        rt: Runtime = request.app.ctx.runtime
        try:
            actor = rt.admin.authenticate(bearer_token(request.headers.get("authorization")))
            return await handler(request, rt.admin, actor, *args, **kwargs)
        except ApiError as exc:
            return error_response(exc)

    return wrapper


def body(request: Request) -> Any:
    try:
        return jsonlib.loads(request.body or b"null")
    except ValueError:
        raise InvalidArgument("body: expected JSON") from None


def body_object(request: Request, *allowed: str) -> dict[str, Any]:
    data = body(request)
    if not isinstance(data, dict):
        raise InvalidArgument("body: expected a JSON object")
    for key in data:
        if allowed and key not in allowed:
            raise InvalidArgument(f"body: unknown key '{key}'")
    return data


@bp.get("/tenants")
@admin
async def list_tenants(request: Request, svc: AdminService, actor: str) -> HTTPResponse:
    return json({"tenants": await svc.list_tenants()})


@bp.post("/tenants")
@admin
async def create_tenant(request: Request, svc: AdminService, actor: str) -> HTTPResponse:
    data = body_object(request, "id")
    return json(await svc.create_tenant(actor, data.get("id", "")), status=201)


@bp.get("/tenants/<tenant_id>")
@admin
async def get_tenant(
    request: Request, svc: AdminService, actor: str, tenant_id: str
) -> HTTPResponse:
    return json(await svc.get_tenant(tenant_id))


@bp.delete("/tenants/<tenant_id>")
@admin
async def delete_tenant(
    request: Request, svc: AdminService, actor: str, tenant_id: str
) -> HTTPResponse:
    await svc.delete_tenant(actor, tenant_id)
    return empty()


@bp.post("/tenants/<tenant_id>/api-keys")
@admin
async def create_api_key(
    request: Request, svc: AdminService, actor: str, tenant_id: str
) -> HTTPResponse:
    return json(await svc.create_api_key(actor, tenant_id), status=201)


@bp.delete("/tenants/<tenant_id>/api-keys/<key_id>")
@admin
async def revoke_api_key(
    request: Request, svc: AdminService, actor: str, tenant_id: str, key_id: str
) -> HTTPResponse:
    await svc.revoke_api_key(actor, tenant_id, key_id)
    return empty()


@bp.get("/tenants/<tenant_id>/channels")
@admin
async def list_channels(
    request: Request, svc: AdminService, actor: str, tenant_id: str
) -> HTTPResponse:
    return json({"channels": await svc.list_channels(tenant_id)})


@bp.post("/tenants/<tenant_id>/channels")
@admin
async def create_channel(
    request: Request, svc: AdminService, actor: str, tenant_id: str
) -> HTTPResponse:
    return json(await svc.create_channel(actor, tenant_id, body_object(request)), status=201)


@bp.get("/tenants/<tenant_id>/channels/<channel_id>")
@admin
async def get_channel(
    request: Request, svc: AdminService, actor: str, tenant_id: str, channel_id: str
) -> HTTPResponse:
    return json(await svc.get_channel(tenant_id, channel_id))


@bp.patch("/tenants/<tenant_id>/channels/<channel_id>")
@admin
async def patch_channel(
    request: Request, svc: AdminService, actor: str, tenant_id: str, channel_id: str
) -> HTTPResponse:
    return json(await svc.patch_channel(actor, tenant_id, channel_id, body_object(request)))


@bp.delete("/tenants/<tenant_id>/channels/<channel_id>")
@admin
async def delete_channel(
    request: Request, svc: AdminService, actor: str, tenant_id: str, channel_id: str
) -> HTTPResponse:
    await svc.delete_channel(actor, tenant_id, channel_id)
    return empty()


@bp.get("/tenants/<tenant_id>/bots")
@admin
async def get_bots(request: Request, svc: AdminService, actor: str, tenant_id: str) -> HTTPResponse:
    return json({"bots": await svc.get_bots(tenant_id)})


@bp.put("/tenants/<tenant_id>/bots")
@admin
async def put_bots(request: Request, svc: AdminService, actor: str, tenant_id: str) -> HTTPResponse:
    """The body is `{"bots": [...]}` or the list itself."""
    data = body(request)
    bots = data.get("bots") if isinstance(data, dict) else data
    if isinstance(data, dict) and set(data) - {"bots"}:
        raise InvalidArgument(f"body: unknown key '{sorted(set(data) - {'bots'})[0]}'")
    if not isinstance(bots, list):
        raise InvalidArgument("bots: expected a list of mappings")
    return json({"bots": await svc.put_bots(actor, tenant_id, bots)})


@bp.get("/audit")
@admin
async def audit(request: Request, svc: AdminService, actor: str) -> HTTPResponse:
    """`?tenant=`, `?after=<entry id>`, `?limit=` (default 50, at most 200)."""
    raw = request.args.get("limit")
    try:
        size = None if raw is None else int(raw)
    except ValueError:
        raise InvalidArgument("limit must be an integer") from None
    limit, _ = page(size, None, str, size_name="limit", token_name="after")
    entries = await svc.audit(request.args.get("tenant"), request.args.get("after"), limit)
    nxt = entries[-1]["id"] if len(entries) == limit else None
    return json({"entries": entries, "next": nxt})
