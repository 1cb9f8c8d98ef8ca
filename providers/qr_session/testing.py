"""A fake WAHA-compatible engine on 127.0.0.1, webhook helpers, and the contract kit.

`FakeWahaEngine` reuses FakeGraphAPI's socket, request recording, failure
injection (`fail_next_raw`, endpoint "messages") and delay; only the routes differ.
It answers the WAHA calls the gateway makes (sending, seen, typing, reactions; see
https://waha.devlike.pro/docs/how-to/send-messages/) and can post engine
events to the gateway like a real engine (`emit`), including the acks that
follow a send (`auto_ack`).
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from providers.signing import hmac_hex
from providers.testing import ContractKit, FakeGraphAPI, RecordedRequest, Sample, load_samples

SESSION_ID = "default"  # the WAHA samples' session
API_KEY = "waha-test-api-key"
WEBHOOK_SECRET = "test-waha-key"  # the samples' test vector key

SEND_PATHS = (
    "/api/sendText",
    "/api/sendImage",
    "/api/sendFile",
    "/api/sendVoice",
    "/api/sendVideo",
    "/api/sendLocation",
    "/api/sendContactVcard",
)
ACTION_PATHS = ("/api/sendSeen", "/api/startTyping", "/api/stopTyping")


def waha_headers(body: bytes, secret: str | None) -> dict[str, str]:
    """The headers WAHA sends with a webhook: request id, ms timestamp, HMAC-SHA512."""
    headers = {
        "Content-Type": "application/json",
        "X-Webhook-Request-Id": secrets.token_hex(13),
        "X-Webhook-Timestamp": str(int(time.time() * 1000)),
    }
    if secret:
        headers["X-Webhook-Hmac"] = hmac_hex(secret, body, "sha512")
        headers["X-Webhook-Hmac-Algorithm"] = "sha512"
    return headers


def waha_envelope(event: str, payload: Any, session: str = SESSION_ID) -> bytes:
    return orjson.dumps(
        {
            "id": "evt_" + secrets.token_hex(13),
            "timestamp": int(time.time() * 1000),
            "event": event,
            "session": session,
            "payload": payload,
            "engine": "WEBJS",
        }
    )


class FakeWahaEngine(FakeGraphAPI):
    """WAHA's HTTP API: `X-Api-Key` auth (when `expected_token` is set), sends answer a
    WEBJS-style message with a fresh serialized id."""

    def __init__(
        self,
        *,
        expected_token: str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        auto_ack: bool = False,
        delay: float = 0.0,
    ) -> None:
        super().__init__(expected_token=expected_token, delay=delay)
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.auto_ack = auto_ack
        self._counter = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        return self.origin

    def add_routes(self, app: web.Application) -> None:
        for path in (*SEND_PATHS, *ACTION_PATHS):
            app.router.add_post(path, self._handle_call)
        app.router.add_put("/api/reaction", self._handle_call)
        app.router.add_post("/api/sessions/{session}/{action}", self._handle_session)
        app.router.add_get("/api/files/{session}/{media_id}", self._handle_file)

    def file_url(self, media_id: str, session: str = SESSION_ID) -> str:
        """Where the engine serves media it received (WAHA: `/api/files/...`)."""
        return f"{self.origin}/api/files/{session}/{media_id}"

    async def scan(self, session: str = SESSION_ID) -> int:
        """As if the phone scanned the QR: the session becomes ready."""
        info = {"pushname": "Simulated phone", "wid": {"_serialized": "15550000000@c.us"}}
        return await self.emit_bridge("ready", {"info": info}, session=session)

    async def emit_bridge(self, event: str, data: Any, *, session: str = SESSION_ID) -> int:
        """POST a whatsapp-web.js bridge event (`{"event", "data"}`): the envelope that
        carries QR strings, which WAHA's own webhooks do not."""
        body = orjson.dumps({"event": event, "data": data, "session": session})
        return await self._post_webhook(body)

    def check_auth(self, request: web.Request) -> bool:
        if self.expected_token is None:
            return True
        return request.headers.get("X-Api-Key") == self.expected_token

    def auth_failure(self, request: web.Request) -> tuple[int, Any]:
        return 401, {"statusCode": 401, "message": "Unauthorized"}

    def sends(self, *, accepted_only: bool = False) -> list[RecordedRequest]:
        """Message sends (not seen/typing/reactions), in order."""
        return [
            r
            for r in self.requests
            if r.path in SEND_PATHS and (not accepted_only or 200 <= r.status < 300)
        ]

    def calls(self, path: str) -> list[Any]:
        """JSON bodies of the requests to `path`, in order."""
        return [r.json for r in self.requests if r.path == path]

    async def _handle_call(self, request: web.Request) -> web.StreamResponse:
        record, early = await self._admit(request)
        if early is not None:
            return early
        body = record.json
        if not isinstance(body, dict) or not body.get("session"):
            return self._reply(record, 422, {"statusCode": 422, "message": "session is required"})
        if request.path == "/api/reaction":
            return self._reply(record, 200, {})
        chat = body.get("chatId")
        if not isinstance(chat, str) or "@" not in chat:
            return self._reply(record, 422, {"statusCode": 422, "message": "invalid chatId"})
        if request.path in ACTION_PATHS:
            return self._reply(record, 201, {})
        ident = f"true_{chat}_3EB0{next(self._counter):06X}{secrets.token_hex(6).upper()}"
        answer = {
            "id": {"fromMe": True, "remote": chat, "_serialized": ident},
            "timestamp": int(time.time()),
            "from": "15557654321@c.us",
            "to": chat,
            "fromMe": True,
            "body": body.get("text") or body.get("caption") or "",
            "ack": 0,
        }
        if self.auto_ack and self.webhook_url:
            self._spawn(self._acks(ident, chat, str(body["session"])))
        return self._reply(record, 201, answer)

    # -- engine -> gateway webhooks --------------------------------------------------

    async def emit(
        self, event: str, payload: Any, *, session: str = SESSION_ID, url: str | None = None
    ) -> int:
        """POST a WAHA webhook (signed when `webhook_secret` is set); the HTTP status."""
        return await self._post_webhook(waha_envelope(event, payload, session), url)

    async def _post_webhook(self, body: bytes, url: str | None = None) -> int:
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook_url to emit to")
        async with (
            aiohttp.ClientSession() as http,
            http.post(target, data=body, headers=waha_headers(body, self.webhook_secret)) as resp,
        ):
            return resp.status

    async def _handle_session(self, request: web.Request) -> web.StreamResponse:
        """WAHA's session control: start shows a QR, stop and logout disconnect."""
        record, early = await self._admit(request)
        if early is not None:
            return early
        session, action = request.match_info["session"], request.match_info["action"]
        if action not in ("start", "stop", "logout"):
            return self._reply(record, 404, {"statusCode": 404, "message": "Not Found"})
        if self.webhook_url:
            if action == "start":
                qr = f"2@{secrets.token_urlsafe(24)},{secrets.token_urlsafe(16)}"
                self._spawn(self.emit_bridge("qr", {"qr": qr}, session=session))
            else:
                reason = "LOGOUT" if action == "logout" else "STOPPED"
                self._spawn(self.emit_bridge("disconnected", {"reason": reason}, session=session))
        status = "STARTING" if action == "start" else "STOPPED"
        return self._reply(record, 201, {"name": session, "status": status})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        record, early = await self._admit(request)
        if early is not None:
            return early
        media = self.media.get(request.match_info["media_id"])
        if media is None:
            return self._reply(record, 404, {"statusCode": 404, "message": "Not Found"})
        record.status = 200
        return web.Response(body=media.data, content_type=media.mime_type)

    async def _acks(self, ident: str, chat: str, session: str) -> None:
        await asyncio.sleep(0.05)
        for ack, name in ((1, "SERVER"), (2, "DEVICE"), (3, "READ")):
            payload = {"id": ident, "from": chat, "fromMe": True, "ack": ack, "ackName": name}
            await self.emit("message.ack", payload, session=session)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


# -- the contract kit ------------------------------------------------------------------

_SESSION = ("session_updated",)
_MESSAGE = ("message_new",)
_STATUS = ("message_status",)
WWEBJS_SAMPLES: dict[str, tuple[str, ...]] = {
    "qr": _SESSION,
    "code": _SESSION,
    "authenticated": _SESSION,
    "auth_failure": _SESSION,
    "ready": _SESSION,
    "loading_screen": _SESSION,
    "change_state": _SESSION,
    "change_state_conflict": _SESSION,
    "disconnected": _SESSION,
    "disconnected_max_qr": _SESSION,
    "disconnected_unpaired": _SESSION,
    "message": _MESSAGE,
    "message_image": _MESSAGE,
    "message_voice": _MESSAGE,
    "message_group": _MESSAGE,
    "message_lid": _MESSAGE,
    "message_quoted_reply": _MESSAGE,
    "message_create_fromme": _MESSAGE,
    "message_ack": _STATUS,
    "message_ack_error": _STATUS,
    "message_revoke_everyone": _MESSAGE,
    "message_edit": _MESSAGE,
    "message_reaction": _MESSAGE,
    "call": _MESSAGE,
    "group_join": ("provider_event",),
}
WAHA_SAMPLES: dict[str, tuple[str, ...]] = {
    "session_status_starting": _SESSION,
    "session_status_scan_qr": _SESSION,
    "session_status_working": _SESSION,
    "session_status_failed": _SESSION,
    "session_status_legacy": _SESSION,
    "message_text": _MESSAGE,
    "message_media": _MESSAGE,
    "message_group": _MESSAGE,
    "message_reply": _MESSAGE,
    "message_lid": _MESSAGE,
    "message_any_fromme_api": _STATUS,
    "message_ack": _STATUS,
    "message_reaction": _MESSAGE,
    "message_revoked": _MESSAGE,
    "call_received": _MESSAGE,
}


class QrSessionKit(ContractKit):
    def samples(self, fixtures_dir: Path) -> list[Sample]:
        wwebjs = load_samples(fixtures_dir / "wwebjs", WWEBJS_SAMPLES)
        waha = load_samples(fixtures_dir / "waha", WAHA_SAMPLES)
        return [Sample(f"wwebjs/{s.name}", s.body, s.headers, s.expect) for s in wwebjs] + [
            Sample(f"waha/{s.name}", s.body, s.headers, s.expect) for s in waha
        ]

    def fake_server(self) -> FakeWahaEngine:
        return FakeWahaEngine(expected_token=API_KEY)

    def settings(self, server: Any) -> dict[str, Any]:
        return {
            "session_id": SESSION_ID,
            "webhook_secret": WEBHOOK_SECRET,
            "engine_base_url": server.base_url,
            "engine_api_key": API_KEY,
        }

    def sign(self, body: bytes, settings: Mapping[str, Any]) -> dict[str, str]:
        return {"X-Webhook-Hmac": hmac_hex(str(settings["webhook_secret"]), body, "sha512")}

    def sent(self, server: Any) -> list[Any]:
        return [r.json for r in server.sends(accepted_only=True)]
