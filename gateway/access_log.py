"""One log line per HTTP request: method, route, status, duration and tenant.

Handlers that know the tenant (an API key, a webhook's channel) put it on
`request.ctx.tenant_id`. Logged by `wagate.access` at info; off with
`access_log: false` / `WAGATE_ACCESS_LOG=false`.
"""

from __future__ import annotations

import logging
from typing import Any

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from gateway.http_metrics import elapsed

log = logging.getLogger("wagate.access")


def install(app: Sanic[Any, Any]) -> None:
    """Log each request answered by `app`, unless info is below the log level."""
    if not log.isEnabledFor(logging.INFO):
        return  # nothing would be written: spare every request the middleware
    app.register_middleware(_answered, "response")


async def _answered(request: Request, response: BaseHTTPResponse) -> None:
    seconds = elapsed(request)  # from the stamp Sanic takes when the headers are read
    duration_ms = None if seconds is None else round(seconds * 1000, 2)
    tenant = getattr(request.ctx, "tenant_id", None)
    took = "" if duration_ms is None else f" {duration_ms:.1f}ms"
    log.info(
        f"{request.method} {request.path} {response.status}{took}"
        + (f" tenant={tenant}" if tenant else ""),
        extra={
            "method": request.method,
            "route": request.uri_template,
            "path": request.path,
            "status": response.status,
            "duration_ms": duration_ms,
            "tenant": tenant,
            "_terse": True,  # the message says it all on a terminal
        },
    )
