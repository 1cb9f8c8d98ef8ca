"""One interceptor for every wagate.v1 RPC: bearer-key auth and domain-error mapping.

The tenant is handed to servicers through a context variable, so a servicer
can never act for a tenant the caller did not authenticate as. AdminService
calls carry an admin key, not a tenant key: they pass through untouched to
gateway/admin/grpc.py, which checks the admin key itself.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc import aio

from core.errors import ApiError, Unauthenticated
from core.metrics import GRPC_STREAMS
from gateway.bearer import bearer_token
from gateway.tenants import Tenants

log = logging.getLogger("wagate.grpc")

current_tenant: contextvars.ContextVar[str] = contextvars.ContextVar("current_tenant")

PROTECTED_PREFIX = "/wagate.v1."
ADMIN_PREFIX = "/wagate.v1.AdminService/"


def tenant() -> str:
    return current_tenant.get()


def metadata_token(metadata: Any) -> str | None:
    """The key of the call's `authorization: Bearer <key>` metadata; None without one."""
    for key, value in metadata or ():
        token = bearer_token(value) if key == "authorization" else None
        if token is not None:
            return token
    return None


def _token(metadata: Any) -> str:
    token = metadata_token(metadata)
    if token is None:
        raise Unauthenticated("missing 'authorization: Bearer <api key>' metadata")
    return token


class AuthInterceptor(aio.ServerInterceptor):
    def __init__(self, tenants: Tenants) -> None:
        self.tenants = tenants
        # The tasks serving each tenant's streams (events, remote bots), so that deleting
        # a tenant ends them; `_ended` are those being ended for that reason.
        self._streams: dict[str, set[asyncio.Task[Any]]] = {}
        self._ended: set[asyncio.Task[Any]] = set()

    def disconnect_tenant(self, tenant_id: str) -> int:
        """End a deleted tenant's open streams on this process with UNAUTHENTICATED."""
        tasks = self._streams.pop(tenant_id, set())
        for task in tasks:
            self._ended.add(task)
            task.cancel()
        return len(tasks)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler: Any = await continuation(details)
        if handler is None or not details.method.startswith(PROTECTED_PREFIX):
            return handler
        if details.method.startswith(ADMIN_PREFIX):  # an admin key, checked by the servicer
            return handler
        tenants = self.tenants

        def authorize(context: aio.ServicerContext[Any, Any]) -> contextvars.Token[str]:
            return current_tenant.set(tenants.tenant_for_key(_token(context.invocation_metadata())))

        if handler.unary_unary:
            inner_uu = handler.unary_unary

            async def unary_unary(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
                try:
                    token = authorize(context)
                    try:
                        return await inner_uu(request, context)
                    finally:
                        current_tenant.reset(token)
                except ApiError as exc:
                    await context.abort(exc.grpc_code, exc.message)

            return grpc.unary_unary_rpc_method_handler(
                unary_unary,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        # Server-streaming and bidi handlers differ only in their first argument.
        method = details.method.removeprefix(PROTECTED_PREFIX)  # EventService/StreamEvents
        for kind, factory in (
            ("unary_stream", grpc.unary_stream_rpc_method_handler),
            ("stream_stream", grpc.stream_stream_rpc_method_handler),
        ):
            inner = getattr(handler, kind)
            if inner:
                return factory(
                    self._streaming(inner, authorize, method, self._streams, self._ended),
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
        return handler

    @staticmethod
    def _streaming(
        inner: Callable[..., AsyncIterator[Any]],
        authorize: Callable[[aio.ServicerContext[Any, Any]], contextvars.Token[str]],
        method: str,
        streams: dict[str, set[asyncio.Task[Any]]],
        ended: set[asyncio.Task[Any]],
    ) -> Callable[..., AsyncIterator[Any]]:
        async def wrapped(
            request: Any, context: aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            task = asyncio.current_task()
            try:
                token = authorize(context)
                tenant_id = current_tenant.get()
                if task is not None:
                    streams.setdefault(tenant_id, set()).add(task)
                try:
                    with GRPC_STREAMS.labels(method).track_inprogress():
                        async for item in inner(request, context):
                            yield item
                except asyncio.CancelledError:
                    if task not in ended:
                        raise
                    ended.discard(task)
                    task.uncancel()
                    raise Unauthenticated("the tenant was deleted") from None
                finally:
                    current_tenant.reset(token)
                    if task is not None and task in streams.get(tenant_id, ()):
                        streams[tenant_id].discard(task)
            except ApiError as exc:
                await context.abort(exc.grpc_code, exc.message)

        return wrapped
