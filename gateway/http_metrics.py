"""Request durations into `wagate_http_request_duration_seconds`, by route pattern.

The route label is the pattern Sanic matched (`/api/v1/sessions/<session_id:str>`),
never the raw path, so ids do not multiply the series; a request that matched no
route counts as `unmatched`. The start is the stamp Sanic's HTTP/1 connection takes
when a request's headers are read (`Http.perft0`, sanic==25.12.1 as pinned), so one
response middleware does the work (each Sanic middleware is one more coroutine per
request: dropping the request middleware gave the redelivery path +6 % req/s and
-13 % p99, medians of `python -m bench.compare REV --kind dedup`). The access log
measures from the same stamp.
"""

from __future__ import annotations

import time
from typing import Any

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from core.metrics import HTTP_REQUEST_SECONDS

UNMATCHED = "unmatched"
# The histogram child of each (method, route, status) seen, so a request skips
# prometheus_client's locked label lookup.
_series: dict[tuple[str, str, int], Any] = {}


def instrument(app: Sanic[Any, Any]) -> None:
    """Time every request `app` answers."""
    app.register_middleware(_answered, "response")


def elapsed(request: Request) -> float | None:
    """Seconds since `request`'s headers were read; None where the transport keeps no stamp."""
    started = getattr(request.stream, "perft0", None)
    return None if started is None else time.perf_counter() - started


async def _answered(request: Request, response: BaseHTTPResponse) -> None:
    seconds = elapsed(request)
    if seconds is None:
        return
    key = (request.method, request.uri_template or UNMATCHED, response.status)
    series = _series.get(key)
    if series is None:
        series = _series[key] = HTTP_REQUEST_SECONDS.labels(key[0], key[1], str(key[2]))
    series.observe(seconds)
