"""Fake OpenAI and Anthropic HTTP APIs on 127.0.0.1, speaking their documented JSON.

The real SDKs are pointed at them through `base_url`. Every request is recorded
with its headers (so tests can check each tenant's key). `delay` makes the model
slow; `fail_next(n)` answers the next n calls with a 500 error.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web


@dataclass
class AiCall:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeAI:
    """Serves `POST /v1/chat/completions` (OpenAI) and `POST /v1/messages` (Anthropic)."""

    delay: float = 0.0
    reply: str = "Hello from the model"
    calls: list[AiCall] = field(default_factory=list)
    _failures: int = 0
    _runner: web.AppRunner | None = None
    _port: int = 0
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/v1/messages", self._anthropic)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def openai_url(self) -> str:
        """For the OpenAI SDK's `base_url` (it appends /chat/completions)."""
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def anthropic_url(self) -> str:
        """For the Anthropic SDK's `base_url` (it appends /v1/messages)."""
        return f"http://127.0.0.1:{self._port}"

    def fail_next(self, n: int) -> None:
        self._failures += n

    async def _answer(
        self, request: web.Request, build: Callable[[dict[str, Any], int, int], dict[str, Any]]
    ) -> web.Response:
        """Record the call, wait `delay`, then fail or answer with `build(body, n, tokens)`."""
        headers = {k.lower(): v for k, v in request.headers.items()}  # names case-folded
        call = AiCall(request.path, headers, await request.json())
        self.calls.append(call)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._failures:
            self._failures -= 1
            return web.json_response(
                {"error": {"type": "server_error", "message": "overloaded"}}, status=500
            )
        prompt = sum(len(str(m.get("content", ""))) for m in call.body["messages"])
        return web.json_response(build(call.body, next(self._ids), prompt))

    async def _openai(self, request: web.Request) -> web.Response:
        return await self._answer(request, self._completion)

    async def _anthropic(self, request: web.Request) -> web.Response:
        return await self._answer(request, self._message)

    def _completion(self, body: dict[str, Any], n: int, prompt: int) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": 1767225660,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.reply, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": len(self.reply),
                "total_tokens": prompt + len(self.reply),
            },
        }

    def _message(self, body: dict[str, Any], n: int, prompt: int) -> dict[str, Any]:
        return {
            "id": f"msg_{n:024d}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": self.reply}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": prompt, "output_tokens": len(self.reply)},
        }
