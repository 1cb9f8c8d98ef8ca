"""Fake provider servers for tests and the demo: real HTTP on 127.0.0.1.

`FakeGraphAPI` answers like Meta's Graph API for the calls the gateway makes
(https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages
and the media endpoints): sending messages, mark-read/typing, media
upload/URL/download/delete.
It records every request, can be told to fail the next calls with Meta-shaped
errors (`fail_next`) or raw bodies (`fail_next_raw`), and can be slowed (`delay`).

Provider-specific fakes (e.g. Kapso's Meta-compatible proxy) subclass it and
override `path_prefix`, `check_auth` / `auth_failure` or `answer_message`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import secrets
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Protocol, Self

import orjson
from aiohttp import web

_JSON = "application/json"
_MAX_UPLOAD = 128 * 1024 * 1024  # Meta's largest media (documents) is 100 MB


@dataclass
class RecordedRequest:
    """One request the fake received (recorded on arrival, answer filled in after)."""

    method: str
    path: str
    headers: dict[str, str]
    # Decoded JSON body; None when the body is empty, not JSON, or a form.
    json: Any = None
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # Non-file fields of a multipart/form request (media upload).
    form: dict[str, str] = field(default_factory=dict)
    # What the fake answered: HTTP status and JSON (or text) body; 0/None while pending.
    status: int = 0
    response: Any = None

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass(frozen=True)
class StoredMedia:
    data: bytes
    mime_type: str
    filename: str = ""

    @property
    def sha256(self) -> str:
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode()


@dataclass(frozen=True)
class _Failure:
    http_status: int
    payload: Any  # a JSON-able object, or str/bytes sent raw
    content_type: str = _JSON
    headers: tuple[tuple[str, str], ...] = ()


def meta_error_body(
    code: int,
    message: str,
    *,
    details: str | None = None,
    error_type: str = "OAuthException",
    prefixed: bool = True,
) -> dict[str, Any]:
    """A Graph error body shaped like Meta's: `{"error": {"message", "type", "code",
    "error_data": {"details"}, "fbtrace_id"}}` (providers/meta_cloud/errors.py lists the
    codes). WhatsApp errors read "(#<code>) <title>"; Graph-level ones (auth, unknown
    object) are not `prefixed`."""
    text = f"(#{code}) {message}" if prefixed and not message.startswith("(#") else message
    error: dict[str, Any] = {"message": text, "type": error_type, "code": code}
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
    return {"error": error}


class FakeGraphAPI:
    """A Meta Graph API stand-in on a real socket.

    Routes (`{p}` = `path_prefix`, `{v}` = any version string):

    - `POST {p}/{v}/{phone_number_id}/messages`: a message -> Meta's success body with
      a fresh wamid; a mark-read/typing body (`"status":"read"`) -> `{"success": true}`;
      a body Meta would reject outright (no messaging_product, to, type...) -> error 100.
    - `POST {p}/{v}/{phone_number_id}/media` (multipart `file`, `type`) -> `{"id"}`.
    - `GET {p}/{v}/{media_id}` -> media URL JSON; `DELETE` -> `{"success": true}`.
    - `GET /whatsapp_business/attachments/?mid=<media_id>` -> the media bytes (the
      "lookaside" download URL handed out by the GET above; needs auth like Meta's).

    With `expected_token` set, requests without `Authorization: Bearer <token>` get a
    401 with Meta's code-190 body.
    """

    # Where the Graph routes live; a proxy fake sets e.g. "/meta/whatsapp".
    path_prefix: ClassVar[str] = ""
    download_path: ClassVar[str] = "/whatsapp_business/attachments/"

    def __init__(
        self, *, expected_token: str | None = None, version: str = "v23.0", delay: float = 0.0
    ) -> None:
        self.expected_token = expected_token
        self.version = version
        # Seconds to wait before answering any request (after recording it).
        self.delay = delay
        self.requests: list[RecordedRequest] = []
        self.media: dict[str, StoredMedia] = {}
        self._failures: dict[str, deque[_Failure]] = {"messages": deque(), "media": deque()}
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._host = ""
        self._port = 0

    # -- lifecycle -------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("fake server already started")
        app = web.Application(client_max_size=_MAX_UPLOAD)
        self.add_routes(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._host, self._port = runner.addresses[0][:2]

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._runner is None:
            raise RuntimeError("fake server not started")
        return self._port

    @property
    def origin(self) -> str:
        """`http://127.0.0.1:<port>`."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Graph base URL including the version, e.g. `http://127.0.0.1:PORT/v23.0`."""
        return f"{self.origin}{self.path_prefix}/{self.version}"

    def messages_url(self, phone_number_id: str) -> str:
        return f"{self.base_url}/{phone_number_id}/messages"

    def add_routes(self, app: web.Application) -> None:
        p = self.path_prefix
        # The download route first: it must win over the generic media-id route.
        app.router.add_get(self.download_path, self._handle_download)
        app.router.add_post(p + "/{version}/{phone_number_id}/messages", self._handle_messages)
        app.router.add_post(p + "/{version}/{phone_number_id}/media", self._handle_upload)
        app.router.add_get(p + "/{version}/{media_id}", self._handle_media_info)
        app.router.add_delete(p + "/{version}/{media_id}", self._handle_media_delete)

    # -- test controls ------------------------------------------------------------------

    def fail_next(
        self,
        code: int,
        *,
        http_status: int = 400,
        times: int = 1,
        message: str = "Injected error",
        details: str | None = None,
        endpoint: str = "messages",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next `times` requests to `endpoint` ("messages", or "media" for
        upload/URL/delete) with a Meta error `code` (and extra response `headers`, e.g.
        Retry-After). Auth failures still come first."""
        details = message if details is None else details
        extra = tuple((headers or {}).items())
        for _ in range(times):
            body = meta_error_body(code, message, details=details)
            self._queue(endpoint).append(_Failure(http_status, body, _JSON, extra))

    def fail_next_raw(
        self,
        http_status: int,
        body: str | bytes = "<html><body>Internal Server Error</body></html>",
        *,
        content_type: str = "text/html",
        times: int = 1,
        endpoint: str = "messages",
    ) -> None:
        """Answer the next `times` requests to `endpoint` with a raw (non-Meta) body."""
        for _ in range(times):
            self._queue(endpoint).append(_Failure(http_status, body, content_type))

    def clear(self) -> None:
        """Forget recorded requests and pending failures (stored media stays)."""
        self.requests.clear()
        for queue in self._failures.values():
            queue.clear()

    def add_media(
        self, data: bytes, mime_type: str, *, media_id: str | None = None, filename: str = ""
    ) -> str:
        """Store media as if uploaded (or received in a webhook); returns its id."""
        media_id = media_id or self._new_media_id()
        self.media[media_id] = StoredMedia(data, mime_type, filename)
        return media_id

    def messages(self, *, accepted_only: bool = False) -> list[dict[str, Any]]:
        """Message bodies received (not mark-read/typing), in order; with
        `accepted_only`, only those the fake answered with success."""
        return [
            r.json
            for r in self._message_calls(accepted_only)
            if "status" not in r.json and "type" in r.json
        ]

    def read_receipts(self) -> list[dict[str, Any]]:
        """Mark-read / typing-indicator bodies received, in order."""
        return [r.json for r in self._message_calls(False) if r.json.get("status") == "read"]

    async def wait_for_requests(
        self,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109 -- a test helper's deadline
    ) -> list[RecordedRequest]:
        """Wait until at least `n` requests were recorded; TimeoutError otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.requests) < n:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"fake Graph API got {len(self.requests)} requests, expected {n}"
                )
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue
        return list(self.requests)

    # -- overridable behaviour -------------------------------------------------------

    def check_auth(self, request: web.Request) -> bool:
        """Whether the request carries the expected credentials."""
        if self.expected_token is None:
            return True
        return request.headers.get("Authorization") == f"Bearer {self.expected_token}"

    def auth_failure(self, request: web.Request) -> tuple[int, Any]:
        """Status and body for a request that fails `check_auth` (never echoes it)."""
        message = "Invalid OAuth access token - Cannot parse access token"
        return 401, meta_error_body(190, message, prefixed=False)

    def answer_message(self, phone_number_id: str, body: Any) -> tuple[int, Any]:
        """Status and body for an authorized, non-failed `/messages` call."""
        if not isinstance(body, dict):
            return 400, meta_error_body(100, "Invalid parameter", details="Body is not JSON")
        if body.get("messaging_product") != "whatsapp":
            return 400, self._param_error("messaging_product")
        if body.get("status") == "read":
            if not isinstance(body.get("message_id"), str) or not body["message_id"]:
                return 400, self._param_error("message_id")
            return 200, {"success": True}
        to = body.get("to")
        kind = body.get("type", "text")
        if not isinstance(to, str) or not to:
            return 400, self._param_error("to")
        if not isinstance(kind, str) or not isinstance(body.get(kind), dict | list):
            return 400, self._param_error(str(kind))
        contact: dict[str, Any] = {"input": to}
        if any(ch.isalpha() for ch in to):  # a BSUID: answered with the user id
            contact["wa_id"] = ""
            contact["user_id"] = to
        else:
            contact["wa_id"] = "".join(ch for ch in to if ch.isdigit())
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [contact],
            "messages": [{"id": self._new_wamid(phone_number_id)}],
        }

    # -- handlers --------------------------------------------------------------------

    async def _admit(
        self, request: web.Request, endpoint: str = "messages"
    ) -> tuple[RecordedRequest, web.Response | None]:
        """Record, delay, check auth and injected failures: the answer to give now, if any."""
        record = await self._record(request)
        await self._pause()
        if not self.check_auth(request):
            return record, self._reply(record, *self.auth_failure(request))
        failure = self._next_failure(endpoint)
        return record, (self._fail(record, failure) if failure is not None else None)

    async def _handle_messages(self, request: web.Request) -> web.StreamResponse:
        record, early = await self._admit(request)
        if early is not None:
            return early
        phone_number_id = request.match_info["phone_number_id"]
        return self._reply(record, *self.answer_message(phone_number_id, record.json))

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        record = await self._record(request, read_body=False)
        form = await request.post()
        upload: web.FileField | None = None
        for name, value in form.items():
            if isinstance(value, web.FileField):
                if name == "file":
                    upload = value
            else:
                record.form[name] = value if isinstance(value, str) else bytes(value).decode()
        await self._pause()
        if not self.check_auth(request):
            return self._reply(record, *self.auth_failure(request))
        failure = self._next_failure("media")
        if failure is not None:
            return self._fail(record, failure)
        if record.form.get("messaging_product") != "whatsapp":
            return self._reply(record, 400, self._param_error("messaging_product"))
        if upload is None:
            return self._reply(record, 400, self._param_error("file"))
        mime_type = record.form.get("type") or upload.content_type
        if not mime_type:
            return self._reply(record, 400, self._param_error("type"))
        data = upload.file.read()
        record.body = data
        media_id = self.add_media(data, mime_type, filename=upload.filename)
        return self._reply(record, 200, {"id": media_id})

    async def _handle_media_info(self, request: web.Request) -> web.StreamResponse:
        record = await self._record(request)
        await self._pause()
        if not self.check_auth(request):
            return self._reply(record, *self.auth_failure(request))
        failure = self._next_failure("media")
        if failure is not None:
            return self._fail(record, failure)
        media_id = request.match_info["media_id"]
        media = self.media.get(media_id)
        if media is None:
            return self._reply(record, 400, self._missing_object(media_id))
        return self._reply(
            record,
            200,
            {
                "messaging_product": "whatsapp",
                "url": f"{self.origin}{self.download_path}?mid={media_id}",
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": str(len(media.data)),
                "id": media_id,
            },
        )

    async def _handle_media_delete(self, request: web.Request) -> web.StreamResponse:
        record = await self._record(request)
        await self._pause()
        if not self.check_auth(request):
            return self._reply(record, *self.auth_failure(request))
        failure = self._next_failure("media")
        if failure is not None:
            return self._fail(record, failure)
        media_id = request.match_info["media_id"]
        if self.media.pop(media_id, None) is None:
            return self._reply(record, 400, self._missing_object(media_id))
        return self._reply(record, 200, {"success": True})

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        record = await self._record(request)
        await self._pause()
        if not self.check_auth(request):
            return self._reply(record, *self.auth_failure(request))
        media = self.media.get(request.query.get("mid", ""))
        if media is None:
            return self._reply(record, 404, "Not Found", "text/plain")
        record.status, record.response = 200, None
        return web.Response(body=media.data, content_type=media.mime_type)

    # -- helpers -----------------------------------------------------------------------

    async def _record(self, request: web.Request, *, read_body: bool = True) -> RecordedRequest:
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            query=dict(request.query),
        )
        if read_body and request.can_read_body:
            record.body = await request.read()
            if record.body:
                try:
                    record.json = orjson.loads(record.body)
                except orjson.JSONDecodeError:
                    record.json = None
        self.requests.append(record)
        self._changed.set()
        return record

    async def _pause(self) -> None:
        if self.delay > 0:
            await asyncio.sleep(self.delay)

    def _queue(self, endpoint: str) -> deque[_Failure]:
        try:
            return self._failures[endpoint]
        except KeyError:
            raise ValueError(
                f"unknown endpoint {endpoint!r}; expected one of {sorted(self._failures)}"
            ) from None

    def _next_failure(self, endpoint: str) -> _Failure | None:
        queue = self._failures[endpoint]
        return queue.popleft() if queue else None

    def _fail(self, record: RecordedRequest, failure: _Failure) -> web.Response:
        response = self._reply(record, failure.http_status, failure.payload, failure.content_type)
        for name, value in failure.headers:
            response.headers[name] = value
        return response

    @staticmethod
    def _reply(
        record: RecordedRequest, status: int, payload: Any, content_type: str = _JSON
    ) -> web.Response:
        record.status, record.response = status, payload
        if isinstance(payload, bytes):
            return web.Response(status=status, body=payload, content_type=content_type)
        if isinstance(payload, str) and content_type != _JSON:
            return web.Response(status=status, text=payload, content_type=content_type)
        return web.Response(status=status, body=orjson.dumps(payload), content_type=_JSON)

    def _message_calls(self, accepted_only: bool) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.method == "POST"
            and r.path.endswith("/messages")
            and isinstance(r.json, dict)
            and (not accepted_only or 200 <= r.status < 300)
        ]

    @staticmethod
    def _param_error(name: str) -> dict[str, Any]:
        return meta_error_body(
            100, "Invalid parameter", details=f"The parameter {name} is required or invalid."
        )

    @staticmethod
    def _missing_object(object_id: str) -> dict[str, Any]:
        return meta_error_body(
            100,
            f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation.",
            error_type="GraphMethodException",
            prefixed=False,
        )

    def _new_wamid(self, phone_number_id: str) -> str:
        raw = f"{phone_number_id}:{next(self._ids)}:{secrets.token_hex(8)}".encode()
        return "wamid." + base64.b64encode(raw).decode()

    def _new_media_id(self) -> str:
        return str(10**15 + next(self._ids) * 1000 + secrets.randbelow(1000))


# -- the provider contract suite's kit ------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One webhook delivery of a provider: its body and unsigned headers.

    `expect` lists the event payload kinds (`message_new`, `message_status`,
    `session_updated`, `provider_event`) that parsing must produce, in order.
    """

    name: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    expect: tuple[str, ...] = ()


class FakeServer(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ContractKit(ABC):
    """What the shared contract suite (tests/providers/test_contract.py) needs from a
    provider: its sample deliveries, how to sign them, and a fake server to send to.

    A provider exposes its kit from `Provider.contract_kit()`.
    """

    @abstractmethod
    def samples(self, fixtures_dir: Path) -> list[Sample]:
        """Every sample delivery. `fixtures_dir` is the caller's folder of provider payloads
        (tests/fixtures/ in this repository); a kit that ships its own may ignore it."""

    @abstractmethod
    def fake_server(self) -> FakeServer:
        """A fake provider API, not started yet."""

    @abstractmethod
    def settings(self, server: Any) -> dict[str, Any]:
        """Channel settings (with a webhook secret) that send through `server`."""

    @abstractmethod
    def sign(self, body: bytes, settings: Mapping[str, Any]) -> dict[str, str]:
        """Headers that authenticate `body` for a channel with `settings`."""

    @abstractmethod
    def sent(self, server: Any) -> list[Any]:
        """The JSON bodies of the message sends `server` accepted, in order."""


def load_samples(
    folder: Path, expectations: Mapping[str, tuple[str, ...]], **headers: Mapping[str, str]
) -> list[Sample]:
    """Samples for the files named in `expectations` (name -> expected kinds), read
    as exact bytes from `folder`; `headers[name]` adds that sample's headers."""
    return [
        Sample(name, (folder / f"{name}.json").read_bytes(), headers.get(name, {}), expect)
        for name, expect in expectations.items()
    ]
