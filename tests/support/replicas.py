"""Replicas: `wagate serve` processes on one throwaway PostgreSQL database and one Redis,
and a gRPC event stream read in the background (tests/realtime, tests/scale)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import grpc

from tests.support.procs import Gateway, Postgres, RedisServer
from tests.support.tenants import ACME_KEY
from wagate.v1 import event_pb2
from wagate.v1 import event_service_pb2 as pb
from wagate.v1 import event_service_pb2_grpc as pb_grpc


def start_replicas(
    postgres: Postgres,
    redis_server: RedisServer,
    gateways: Callable[..., Gateway],
    config: dict[str, Any],
    count: int = 2,
    env: dict[str, str] | None = None,
) -> list[Gateway]:
    """`count` replicas with `config` on one new database and `redis_server`."""
    url = postgres.create_database(f"replicas_{uuid.uuid4().hex[:12]}")
    shared = {"WAGATE_REDIS_URL": redis_server.url, "WAGATE_REALTIME_SECRET": "shared-secret"}
    return [gateways(config, database_url=url, env={**shared, **(env or {})}) for _ in range(count)]


class Stream:
    """StreamEvents on one replica (acme's key), read in the background."""

    def __init__(self, gw: Gateway, after_event_id: str = "") -> None:
        self.channel = grpc.aio.insecure_channel(gw.grpc_target)
        stub = pb_grpc.EventServiceStub(self.channel)
        metadata = (("authorization", f"Bearer {ACME_KEY}"),)
        request = pb.StreamEventsRequest(after_event_id=after_event_id)
        self.call = stub.StreamEvents(request, metadata=metadata)
        self.events: list[event_pb2.Event] = []
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> Stream:
        await self.call.initial_metadata()
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for event in self.call:
            self.events.append(event)

    def wamids(self) -> list[str]:
        return [e.message_new.provider_message_id for e in self.events if e.HasField("message_new")]

    async def close(self) -> None:
        self.call.cancel()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.channel.close()
