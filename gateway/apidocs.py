"""`GET /openapi.json`, `GET /docs` (Swagger UI) and `GET /`, the way in.

The page's scripts and styles come from the `swagger-ui-bundle` package and are
served by the gateway itself, so the docs work on a machine with no internet.
"""

from __future__ import annotations

import mimetypes
from functools import cache
from importlib.metadata import version
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, json, raw
from swagger_ui_bundle import swagger_ui_path

from core.errors import NotFound
from gateway.openapi import document

bp = Blueprint("apidocs")

# The files the page loads; nothing else in the package is served.
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>wagate API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null
    });
  </script>
</body>
</html>
"""


@cache
def _document() -> dict[str, Any]:
    return document(version("wagate"))


@cache
def _asset(name: str) -> bytes:
    data: bytes = (swagger_ui_path / name).read_bytes()
    return data


@bp.get("/openapi.json")
async def openapi_json(request: Request) -> HTTPResponse:
    return json(_document())


@bp.get("/docs")
async def docs(request: Request) -> HTTPResponse:
    return html(_PAGE)


@bp.get("/docs/<asset>")
async def docs_asset(request: Request, asset: str) -> HTTPResponse:
    if asset not in ASSETS:
        raise NotFound(f"no docs asset '{asset[:60]}'")
    content_type = mimetypes.guess_type(asset)[0] or "application/octet-stream"
    return raw(
        _asset(asset),
        content_type=content_type,
        headers={"Cache-Control": "public, max-age=86400"},
    )


@bp.get("/")
async def index(request: Request) -> HTTPResponse:
    """A pointer for a person who opens the gateway's address in a browser or with curl."""
    links = {"docs": "/docs", "openapi": "/openapi.json", "health": "/healthz"}
    if any(route.path.startswith("console") for route in request.app.router.routes):
        links = {"console": "/console", **links}
    return json({"name": "wagate", "version": version("wagate"), **links})
