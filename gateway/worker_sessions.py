"""Socket.IO long-polling with several workers: each request reaches the worker holding its
session.

Engine.IO's long-polling transport is a series of HTTP requests naming their session
(`?sid=...`), and the session lives in the memory of the worker that opened it, while
the kernel hands each new connection to any worker (docs/scale-out.md, "Workers").
Behind a load balancer that is what sticky sessions are for
(https://socket.io/docs/v4/using-multiple-nodes/); on one machine the workers do it
themselves: each worker's session ids start with its number, and a request for
another worker's session is forwarded to that worker over its private Unix socket.
A WebSocket upgrade of such a session is refused instead (closed at once): Engine.IO
clients treat the upgrade as a probe and keep polling when it fails. WebSocket-only
clients carry no session id and stay on the worker they connected to.
"""

from __future__ import annotations

import contextlib
import os

import aiohttp
from aiohttp import web

from realtime.asgi import AsgiApp, Message, Receive, Scope, Send, call_http, http_scope

# Policy violation: the session is held by another worker (RFC 6455, section 7.4.1).
_ELSEWHERE = 1008
_HOP_BY_HOP = {
    b"connection",
    b"content-length",
    b"host",
    b"keep-alive",
    b"transfer-encoding",
    b"upgrade",
}
# A long-poll GET is held until there is something to say, up to Engine.IO's ping
# interval (25 s by default); give it room.
_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=120)


def socket_path(directory: str, number: int) -> str:
    """Where worker `number` listens for requests forwarded by the others."""
    return os.path.join(directory, f"{number}.sock")


class WorkerSessions:
    """This worker's session-id prefix, and forwarders to the other workers."""

    def __init__(self, directory: str, number: int, count: int) -> None:
        self.directory = directory
        self.number = number
        self.count = count
        self._forwarders: dict[int, _Forwarder] = {}
        self._listener: web.AppRunner | None = None

    async def listen(self, sockets: AsgiApp) -> None:
        """Serve the requests the other workers forward, on this worker's Unix socket.

        A server of its own (aiohttp's), not a second one of the Sanic app: that would
        run the app's start and stop listeners twice, and Sanic's stop then never ends.
        """

        async def forwarded(request: web.Request) -> web.Response:
            scope = http_scope(
                "http", request.method, request.path, request.query_string, request.headers.items()
            )
            status, headers, body = await call_http(sockets, scope, await request.read())
            return web.Response(status=status, body=body, headers=headers)

        app = web.Application()
        app.router.add_route("*", "/{path:.*}", forwarded)
        self._listener = web.AppRunner(app, access_log=None)
        await self._listener.setup()
        path = socket_path(self.directory, self.number)
        with contextlib.suppress(FileNotFoundError):  # left by a predecessor, killed
            os.unlink(path)
        await web.UnixSite(self._listener, path).start()

    @property
    def prefix(self) -> str:
        return f"{self.number}."

    def owner(self, sid: str | None) -> AsgiApp | None:
        """A forwarder to the worker holding session `sid`, or None when it is this one's
        (or names no worker: then this one answers, with Engine.IO's own error)."""
        number, dot, _ = (sid or "").partition(".")
        if not dot or not number.isdigit():
            return None
        owner = int(number)
        if owner == self.number or not 1 <= owner <= self.count:
            return None
        if owner not in self._forwarders:
            self._forwarders[owner] = _Forwarder(socket_path(self.directory, owner))
        return self._forwarders[owner]

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.cleanup()
        for forwarder in self._forwarders.values():
            await forwarder.close()


class _Forwarder:
    """An ASGI app that replays each HTTP request on another worker's Unix socket."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._http: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": _ELSEWHERE})
            return
        body = await _body(receive)
        if self._http is None:
            connector = aiohttp.UnixConnector(path=self.path)
            self._http = aiohttp.ClientSession(connector=connector, timeout=_TIMEOUT)
        query = scope["query_string"].decode("latin-1")
        url = f"http://worker{scope['path']}" + (f"?{query}" if query else "")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.lower() not in _HOP_BY_HOP
        ]
        try:
            async with self._http.request(scope["method"], url, data=body, headers=headers) as resp:
                answer = await resp.read()
                status = resp.status
                out = [
                    (k.lower(), v)
                    for k, v in resp.raw_headers
                    if k.lower() not in _HOP_BY_HOP | {b"date", b"server"}
                ]
        except aiohttp.ClientError:  # it is restarting: its sessions are gone anyway
            status, answer = 400, b'"Invalid session"'
            out = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": answer})

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message: Message = await receive()
        chunks.append(bytes(message.get("body") or b""))
        if not message.get("more_body"):
            return b"".join(chunks)
