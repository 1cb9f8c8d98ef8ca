"""Request durations into `wagate_http_request_duration_seconds`, by route pattern.

The route label is the pattern Sanic matched (`/api/v1/sessions/<session_id:str>`),
never the raw path, so ids do not multiply the series; a request that matched no
route counts as `unmatched`. The start stamp is also what the access log measures.
"""

from __future__ import annotations

import time
from typing import Any

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from core.metrics import HTTP_REQUEST_SECONDS

UNMATCHED = "unmatched"


def instrument(app: Sanic[Any, Any]) -> None:
    """Time every request `app` answers."""
    app.register_middleware(_started, "request")
    app.register_middleware(_answered, "response")


def elapsed(request: Request) -> float | None:
    """Seconds since `request` arrived; None if it was answered before any middleware ran."""
    started = getattr(request.ctx, "started_at", None)
    return None if started is None else time.perf_counter() - started


async def _started(request: Request) -> None:
    request.ctx.started_at = time.perf_counter()


async def _answered(request: Request, response: BaseHTTPResponse) -> None:
    seconds = elapsed(request)
    if seconds is not None:
        route = request.uri_template or UNMATCHED
        HTTP_REQUEST_SECONDS.labels(request.method, route, str(response.status)).observe(seconds)
