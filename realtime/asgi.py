"""Serve an ASGI app (python-socketio's `ASGIApp`) from a route of Sanic's own server.

python-socketio documents its ASGI integration as the supported way to run with
Sanic (its `async_mode="sanic"` driver is no longer maintained). `wagate serve`
keeps Sanic's server, so this adapter turns each request on the route into an
ASGI call: plain HTTP (the long-polling transport) becomes an `http` scope, and
a WebSocket upgrade is accepted by Sanic and bridged as a `websocket` scope.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from sanic import Request, Sanic
from sanic.compat import Header
from sanic.response import HTTPResponse

log = logging.getLogger("wagate.realtime")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def http_scope(
    kind: str,
    method: str,
    path: str,
    query_string: str,
    headers: Iterable[tuple[str, str]],
    *,
    http_version: str = "1.1",
    scheme: str = "http",
    client: tuple[str, int] | None = None,
) -> Scope:
    """An ASGI `http` or `websocket` scope (https://asgi.readthedocs.io/en/latest/specs/www.html)."""
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": http_version,
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string.encode(),
        "root_path": "",
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
        ],
        "client": client,
        "server": None,
    }


def _scope(request: Request, kind: str) -> Scope:
    return http_scope(
        kind,
        request.method,
        request.path,
        request.query_string,
        request.headers.items(),
        http_version=request.version,
        scheme=request.scheme,
        client=(request.ip, request.port),
    )


async def call_http(
    app: AsgiApp, scope: Scope, body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run one plain HTTP request through `app`: its status, headers and body."""
    body_sent = False
    status = 500
    headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Future()  # the client's disconnect surfaces as cancellation
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers.extend(
                (bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
                for k, v in message.get("headers", ())
            )
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body") or b""))

    await app(scope, receive, send)
    return status, headers, b"".join(chunks)


async def _http(app: AsgiApp, request: Request) -> HTTPResponse:
    status, headers, body = await call_http(app, _scope(request, "http"), request.body or b"")
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
    return HTTPResponse(
        body,
        status=status,
        headers=Header([(k, v) for k, v in headers if k.lower() != "content-type"]),
        content_type=content_type,
    )


async def _websocket(sanic: Sanic[Any, Any], app: AsgiApp, request: Request) -> None:
    # What Sanic's own WebSocket routes do (the server runs WebSocketProtocol once
    # enable_websocket() was called).
    protocol: Any = request.transport.get_protocol()
    ws = await protocol.websocket_handshake(request, None)
    connected = False

    async def receive() -> Message:
        nonlocal connected
        if not connected:
            connected = True
            return {"type": "websocket.connect"}
        try:
            data = await ws.recv()
        except Exception:
            data = None
        if data is None:
            return {"type": "websocket.disconnect", "code": 1006}
        if isinstance(data, bytes | bytearray):
            return {"type": "websocket.receive", "bytes": bytes(data)}
        return {"type": "websocket.receive", "text": str(data)}

    async def send(message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.send":
            data = message.get("bytes")
            await ws.send(data if data is not None else message.get("text") or "")
        elif kind == "websocket.close":
            await ws.close(int(message.get("code", 1000)), message.get("reason") or "")
        # websocket.accept: Sanic has completed the handshake already.

    # Registered like Sanic's own WebSocket handlers, so shutdown cancels it.
    task = asyncio.ensure_future(app(_scope(request, "websocket"), receive, send))
    sanic.websocket_tasks.add(task)
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:
        log.exception("websocket bridge failed")
    finally:
        sanic.websocket_tasks.discard(task)
        try:
            await ws.close()
        except Exception:  # the connection is gone already
            pass


def mount_asgi(
    sanic: Sanic[Any, Any], path: str, app_for: Callable[[Request], AsgiApp], name: str
) -> None:
    """Route GET/POST/OPTIONS on `path` (with and without the trailing slash) to an ASGI app."""

    async def handler(request: Request) -> HTTPResponse | None:
        app = app_for(request)
        if request.headers.get("upgrade", "").lower() == "websocket":
            await _websocket(request.app, app, request)
            return None
        return await _http(app, request)

    # Sanic expects no response object from a handler that took over the connection
    # as a WebSocket; it recognizes such handlers by this attribute.
    setattr(handler, "is_websocket", True)  # noqa: B010
    sanic.enable_websocket()
    sanic.add_route(
        handler, path, methods=["GET", "POST", "OPTIONS"], name=name, strict_slashes=False
    )
