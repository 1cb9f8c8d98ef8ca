"""`GET /console`: the web console, a single-page app served by the gateway itself.

Its files live in `static/` inside the package (no CDN, no build step): the page,
its script and styles, and the Socket.IO browser client, copied from the npm package
`socket.io-client` at the version tests/node/package.json pins
(tests/gateway/test_console.py checks the copy).
"""

from __future__ import annotations

import mimetypes
from functools import cache
from pathlib import Path

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from core.errors import NotFound

bp = Blueprint("console")

STATIC = Path(__file__).parent / "static"
# The files the page loads; nothing else is served.
ASSETS = frozenset({"console.js", "console.css", "socket.io.min.js"})
# The page builds every element itself and loads nothing from elsewhere.
_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
)


@cache
def _read(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def _file(name: str) -> HTTPResponse:
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if name == "index.html":
        headers["Content-Security-Policy"] = _POLICY
        headers["Referrer-Policy"] = "no-referrer"
    return raw(_read(name), content_type=f"{content_type}; charset=utf-8", headers=headers)


@bp.get("/console")
async def console(request: Request) -> HTTPResponse:
    return _file("index.html")


@bp.get("/console/<asset>")
async def console_asset(request: Request, asset: str) -> HTTPResponse:
    if asset not in ASSETS:
        raise NotFound(f"no console file '{asset[:60]}'")
    return _file(asset)
