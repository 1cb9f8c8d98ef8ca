"""Acme's fake API and its contract kit (built on wagate's public test helpers)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from providers.signing import hmac_hex
from providers.testing import ContractKit, FakeGraphAPI, Sample, load_samples

SECRET = "acme-webhook-secret"
TOKEN = "acme-api-token"


class FakeAcmeAPI(FakeGraphAPI):
    """`POST /send` with `Authorization: Token <token>` -> `{"id": "acme-out-N"}`."""

    def __init__(self, *, expected_token: str | None = TOKEN) -> None:
        super().__init__(expected_token=expected_token)
        self._numbers = itertools.count(1)

    @property
    def base_url(self) -> str:
        return self.origin

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/send", self._handle_send)

    def check_auth(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Token {self.expected_token}"

    async def _handle_send(self, request: web.Request) -> web.StreamResponse:
        record = await self._record(request)
        if not self.check_auth(request):
            return self._reply(record, 401, {"error": "bad token"})
        if not isinstance(record.json, dict) or not record.json.get("text"):
            return self._reply(record, 400, {"error": "text is required"})
        return self._reply(record, 200, {"id": f"acme-out-{next(self._numbers):04d}"})

    def sent(self) -> list[Any]:
        return [r.json for r in self.requests if r.path == "/send" and r.status == 200]


class AcmeKit(ContractKit):
    def samples(self, fixtures_dir: Path) -> list[Sample]:
        expect = {
            "text": ("message_new",),
            "delivered": ("message_status",),
            "batch": ("message_new", "message_status"),
        }
        return load_samples(Path(__file__).parent / "samples", expect)

    def fake_server(self) -> FakeAcmeAPI:
        return FakeAcmeAPI()

    def settings(self, server: Any) -> dict[str, Any]:
        return {"api_base_url": server.base_url, "api_token": TOKEN, "secret": SECRET}

    def sign(self, body: bytes, settings: Mapping[str, Any]) -> dict[str, str]:
        return {"X-Acme-Signature": hmac_hex(str(settings["secret"]), body)}

    def sent(self, server: Any) -> list[Any]:
        messages: list[Any] = server.sent()
        return messages
