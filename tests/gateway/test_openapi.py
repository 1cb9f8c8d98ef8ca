"""`GET /openapi.json` is a valid OpenAPI 3 document listing every route the app serves,
`GET /docs` browses it with nothing loaded from outside the gateway, and the routes
nobody registered answer with the error envelope."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from itertools import count
from typing import Any

import aiohttp
import orjson
from openapi_spec_validator import validate
from swagger_ui_bundle import swagger_ui_path

from gateway.app import create_app
from gateway.config import Settings
from tests.support.procs import Gateway

# Socket.IO speaks its own protocol on its mount (docs/realtime.md), not REST.
NOT_REST = ("/socket.io",)
_PARAM = re.compile(r"<(\w+)(?::[^>]*)?>")
_names = count()


def registered_routes() -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route the app factory registers."""
    app = create_app(Settings(), name=f"wagate-openapi-{next(_names)}")
    app.router.finalize()
    routes: set[tuple[str, str]] = set()
    for route in app.router.routes:
        path = "/" + _PARAM.sub(r"{\1}", route.path)
        if path.startswith(NOT_REST):
            continue
        routes.update((m.lower(), path) for m in route.methods if m not in ("HEAD", "OPTIONS"))
    return routes


def documented_routes(doc: dict[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "post", "put", "patch", "delete"}
    return {(m, path) for path, item in doc["paths"].items() for m in item if m in methods}


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, str, bytes]:
    async with http.get(url) as resp:
        return resp.status, resp.content_type, await resp.read()


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    status, content_type, body = await get(http, url)
    assert (status, content_type) == (200, "application/json"), url
    return orjson.loads(body)


async def test_the_document_is_valid_and_lists_every_route(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    doc = await get_json(http, f"{gateway.url}/openapi.json")
    validate(doc)
    assert doc["openapi"].startswith("3.")
    routes = registered_routes()
    assert ("post", "/api/v1/messages") in routes  # the app's routes were found at all
    assert routes - documented_routes(doc) == set(), "routes without documentation"
    assert documented_routes(doc) - routes == set(), "documented routes the app does not serve"


async def test_every_operation_has_responses_and_errors_use_the_envelope(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    doc = await get_json(http, f"{gateway.url}/openapi.json")
    error = doc["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert op["responses"], (method, path)
            for status, answer in op["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if path.startswith("/api/") and status.startswith("4"):
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, status)
    send = doc["paths"]["/api/v1/messages"]["post"]
    body = send["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/SendMessageRequest"}
    request = doc["components"]["schemas"]["SendMessageRequest"]["properties"]
    assert {"channelId", "to", "idempotencyKey", "text", "interactive"} <= set(request)
    assert request["text"] == {"$ref": "#/components/schemas/TextContent"}


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


async def test_docs_page_and_its_assets_come_from_the_gateway(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    status, content_type, page = await get(http, f"{gateway.url}/docs")
    assert (status, content_type) == (200, "text/html")
    text = page.decode()
    assert "http://" not in text and "https://" not in text  # works offline
    assert '"/openapi.json"' in text
    parser = _Assets()
    parser.feed(text)
    assert {u.rsplit(".", 1)[-1] for u in parser.urls} >= {"js", "css"}
    for url in parser.urls:
        assert url.startswith("/docs/"), url
        status, content_type, data = await get(http, gateway.url + url)
        assert status == 200, url
        assert data == (swagger_ui_path / url.removeprefix("/docs/")).read_bytes(), url
        expected = {"js": "javascript", "css": "text/css", "png": "image/png"}[url.rsplit(".")[-1]]
        assert expected in content_type, (url, content_type)
    status, _, data = await get(http, f"{gateway.url}/docs/index.j2")
    assert status == 404  # only the page's own files are served


async def test_root_points_the_way_and_unknown_routes_answer_not_found(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    root = await get_json(http, f"{gateway.url}/")
    assert root["docs"] == "/docs" and root["openapi"] == "/openapi.json"
    for method, path, status, code in [
        ("GET", "/nope", 404, "not_found"),
        ("GET", "/api/v1/nope", 404, "not_found"),
        ("DELETE", "/healthz", 405, "method_not_allowed"),
    ]:
        async with http.request(method, f"{gateway.url}{path}") as resp:
            assert resp.status == status, path
            body = await resp.json()
        assert body["error"]["code"] == code and body["error"]["message"], body
