"""`POST /api/v1/conversations/{id}/release`: hand a conversation back to the bots."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from core.errors import NotFound
from gateway.rest import authenticated
from gateway.runtime import Runtime

bp = Blueprint("bots", url_prefix="/api/v1")


@bp.post("/conversations/<conversation_id>/release")
@authenticated
async def release(
    request: Request, rt: Runtime, tenant_id: str, conversation_id: str
) -> HTTPResponse:
    released = await rt.bots.release(tenant_id, conversation_id)
    if released is None:
        raise NotFound(f"conversation '{conversation_id}' not found")
    return json({"released": released})
