"""The session API: `GET /api/v1/sessions[/{session_id}]`, `POST .../{session_id}/
{start|stop|logout}`, and the lookups the gRPC SessionService shares. A tenant sees
and controls the sessions of its own channels only.

A configured session the engine has not reported on yet is listed as
`session_not_connected`; a session id the tenant has not configured is 404.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from core.errors import InvalidArgument, NotFound, SendError, Unavailable, UnsupportedContent
from gateway.rest import authenticated
from gateway.runtime import Runtime
from gateway.tenants import Tenants
from providers.base import SESSION_ACTIONS
from storage import sessions as store
from wagate.v1 import event_pb2, session_service_pb2

bp = Blueprint("sessions", url_prefix="/api/v1/sessions")


def configured(tenants: Tenants, tenant_id: str) -> dict[str, str]:
    """The tenant's session ids -> their channel ids."""
    found: dict[str, str] = {}
    for ch in tenants.channels.values():
        session_id = ch.provider.session_id()
        if ch.tenant_id == tenant_id and session_id:
            found[session_id] = ch.id
    return found


async def get_state(tenants: Tenants, tenant_id: str, session_id: str) -> event_pb2.SessionState:
    channels = configured(tenants, tenant_id)
    row = await store.get_session(tenant_id, session_id)
    if row is not None:
        return store.state_proto(row)
    if session_id in channels:
        return store.unseen_state(session_id, channels[session_id])
    raise NotFound(f"session '{session_id}' not found")


async def list_states(
    tenants: Tenants, tenant_id: str, status: int = 0
) -> tuple[list[event_pb2.SessionState], session_service_pb2.SessionSummary]:
    """Every session of the tenant (optionally of one status) and their summary."""
    channels = configured(tenants, tenant_id)
    rows = await store.list_sessions(tenant_id)
    states = {row.session_id: store.state_proto(row) for row in rows}
    for session_id, channel_id in channels.items():
        states.setdefault(session_id, store.unseen_state(session_id, channel_id))
    listed = [states[k] for k in sorted(states) if not status or states[k].status == status]
    return listed, store.summary(listed)


def _time(ts: Timestamp) -> str | None:
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return ts.ToJsonString()


def state_json(state: event_pb2.SessionState) -> dict[str, Any]:
    """The contract's field names: sessionId, status (lower snake), ..., updatedAt."""
    return {
        "sessionId": state.session_id,
        "channelId": state.channel_id,
        "status": store.status_name(state.status),
        "message": state.message,
        "qr": state.qr or None,
        "qrImage": state.qr_image or None,
        "isConnected": state.is_connected,
        "needsQR": state.needs_qr,
        "isLoading": state.is_loading,
        "hasError": state.has_error,
        "loadingPercent": state.loading_percent,
        "createdAt": _time(state.created_at),
        "updatedAt": _time(state.updated_at),
    }


def summary_json(summary: session_service_pb2.SessionSummary) -> dict[str, int]:
    return {
        "connected": summary.connected,
        "disconnected": summary.disconnected,
        "loading": summary.loading,
        "needsQR": summary.needs_qr,
        "error": summary.error,
        "total": summary.total,
    }


@bp.get("/")
@authenticated
async def list_sessions(request: Request, rt: Runtime, tenant_id: str) -> HTTPResponse:
    name = request.args.get("status", "")
    status = 0
    if name:
        parsed = store.parse_status(name)
        if parsed is None:
            raise InvalidArgument(f"unknown status '{name[:40]}'")
        status = parsed
    states, summary = await list_states(rt.tenants, tenant_id, status)
    return json({"items": [state_json(s) for s in states], "summary": summary_json(summary)})


@bp.get("/<session_id>")
@authenticated
async def get_session(
    request: Request, rt: Runtime, tenant_id: str, session_id: str
) -> HTTPResponse:
    return json(state_json(await get_state(rt.tenants, tenant_id, session_id)))


@bp.post("/<session_id>/<action>")
@authenticated
async def control_session(
    request: Request, rt: Runtime, tenant_id: str, session_id: str, action: str
) -> HTTPResponse:
    """Ask the engine to start, stop or log out; the states that follow arrive as
    `session:updated` events, as the engine reports them."""
    if action not in SESSION_ACTIONS:
        raise NotFound(f"no session action '{action[:20]}' (start, stop, logout)")
    channel_id = configured(rt.tenants, tenant_id).get(session_id)
    channel = rt.tenants.channel(channel_id) if channel_id else None
    if channel is None:
        raise NotFound(f"session '{session_id}' not found")
    try:
        await channel.provider.control_session(action)
    except UnsupportedContent as exc:
        raise InvalidArgument(str(exc)) from None
    except SendError as exc:
        raise Unavailable(f"the engine did not {action} the session: {exc}") from None
    return json({"sessionId": session_id, "action": action}, status=202)
