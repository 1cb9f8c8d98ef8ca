"""The gateway's unary gRPC servicers under grpc_testing, without a socket.

grpc_testing (https://grpc.github.io/grpc/python/grpc_testing.html) calls a servicer's
methods synchronously, each from a thread of its own. The gateway's servicers are grpc.aio
coroutines behind an aio interceptor (gateway.grpc.auth.AuthInterceptor). `bridge_server`
gives grpc_testing one plain method per RPC that runs the interceptor-wrapped handler, the
same one a grpc.aio server would run, on the test's event loop and waits for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import grpc_testing
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from grpc import aio

Metadata = Sequence[tuple[str, str]]
AddServicer = Callable[[Any, Any], None]  # a generated add_<Service>Servicer_to_server


class _Aborted(Exception):
    """Ends a handler the way grpc.aio's `context.abort` does (by raising)."""


class _AioContext:
    """What the gateway's handlers use of `aio.ServicerContext`, over grpc_testing's context."""

    def __init__(self, context: grpc.ServicerContext) -> None:
        self._context = context

    def invocation_metadata(self) -> Any:
        return self._context.invocation_metadata()

    async def abort(self, code: grpc.StatusCode, details: str = "") -> None:
        self._context.set_code(code)
        self._context.set_details(details)
        raise _Aborted


@dataclass(frozen=True)
class _CallDetails(grpc.HandlerCallDetails):
    method: str
    invocation_metadata: Any


class _Capture:
    """Takes the place of an aio.Server to collect the handlers a servicer registers."""

    def __init__(self) -> None:
        self.handlers: dict[str, Any] = {}  # grpc.RpcMethodHandler

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        pass  # the same handlers arrive through add_registered_method_handlers

    def add_registered_method_handlers(self, service: str, handlers: Mapping[str, Any]) -> None:
        self.handlers |= {f"/{service}/{name}": h for name, h in handlers.items()}


class _Bridge:
    """One service's RPCs as grpc_testing expects them: blocking methods named like the RPCs."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        interceptor: aio.ServerInterceptor,
        capture: _Capture,
        service: str,
    ) -> None:
        self._loop = loop
        self._interceptor = interceptor
        self._capture = capture
        self._service = service

    def __getattr__(self, rpc: str) -> Callable[[Any, grpc.ServicerContext], Any]:
        path = f"/{self._service}/{rpc}"
        if path not in self._capture.handlers:
            raise AttributeError(rpc)

        def call(request: Any, context: grpc.ServicerContext) -> Any:
            done = asyncio.run_coroutine_threadsafe(self._run(path, request, context), self._loop)
            return done.result()

        return call

    async def _run(self, path: str, request: Any, context: grpc.ServicerContext) -> Any:
        async def continuation(details: grpc.HandlerCallDetails) -> Any:
            return self._capture.handlers[details.method]

        details = _CallDetails(path, context.invocation_metadata())
        handler: Any = await self._interceptor.intercept_service(continuation, details)
        try:
            return await handler.unary_unary(request, _AioContext(context))
        except _Aborted:
            return None  # the code and details are set on the context


def bridge_server(
    interceptor: aio.ServerInterceptor,
    services: Mapping[ServiceDescriptor, tuple[AddServicer, Any]],
) -> grpc_testing.Server:
    """A grpc_testing server for `services` ({descriptor: (add_..._to_server, servicer)}),
    each call through `interceptor`. Call it from the test's event loop."""
    loop = asyncio.get_running_loop()
    bridges = {}
    for descriptor, (add, servicer) in services.items():
        capture = _Capture()
        add(servicer, capture)
        bridges[descriptor] = _Bridge(loop, interceptor, capture, descriptor.full_name)
    return grpc_testing.server_from_dictionary(bridges, grpc_testing.strict_real_time())


@dataclass
class Outcome:
    response: Any
    code: grpc.StatusCode
    details: str


async def call_unary(
    server: grpc_testing.Server, method: MethodDescriptor, request: Any, key: str | None = None
) -> Outcome:
    """One unary RPC, with `authorization: Bearer <key>` metadata when a key is given."""
    metadata: Metadata = (("authorization", f"Bearer {key}"),) if key is not None else ()
    rpc = server.invoke_unary_unary(method, metadata, request, None)
    # termination() blocks until the handler, which runs on this loop, is done.
    response, _, code, details = await asyncio.to_thread(rpc.termination)
    return Outcome(response, code, details)
