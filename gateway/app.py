"""The Sanic app factory. State lives on `app.ctx.runtime`, built in listeners."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import aiohttp
from sanic import Request, Sanic
from sanic.response import HTTPResponse

from core.errors import ApiError
from gateway import access_log, http_metrics
from gateway.apidocs import bp as apidocs
from gateway.bots.host import BotHost
from gateway.bots.rest import bp as bots_api
from gateway.bus import InProcessBus
from gateway.config import Settings
from gateway.grpc.server import start_grpc
from gateway.ingest import Ingest
from gateway.outbox import Outbox
from gateway.rest import api, error_response, health, http_error_response
from gateway.runtime import Runtime
from gateway.sessions import bp as sessions
from gateway.tenants import Tenants
from gateway.webhooks import bp as webhooks
from realtime import server as realtime
from storage import repo
from storage.db import close_database, open_database

log = logging.getLogger("wagate")


def create_app(settings: Settings, name: str = "wagate") -> Sanic[Any, Any]:
    app: Sanic[Any, Any] = Sanic(name, configure_logging=False)
    app.config.REQUEST_MAX_SIZE = 4 * 1024 * 1024  # Meta: payloads up to 3 MB
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 10
    app.config.KEEP_ALIVE_TIMEOUT = 75
    app.ctx.settings = settings
    http_metrics.instrument(app)
    app.blueprint(webhooks)
    app.blueprint(api)
    app.blueprint(sessions)
    app.blueprint(health)
    realtime.mount(app)
    app.blueprint(bots_api)
    app.blueprint(apidocs)
    if settings.access_log:
        access_log.install(app)

    @app.exception(ApiError)
    async def on_api_error(request: Request, exc: ApiError) -> HTTPResponse:
        return error_response(exc)

    @app.exception(Exception)
    async def on_error(request: Request, exc: Exception) -> HTTPResponse:
        status = getattr(exc, "status_code", 500)
        if status >= 500:
            log.exception("unhandled error", extra={"path": request.path})
        return http_error_response(status, str(exc) if status < 500 else "internal error")

    @app.before_server_start
    async def start(app: Sanic[Any, Any]) -> None:
        current = app.ctx.settings
        if current.demo:
            from gateway.demo import start_demo

            app.ctx.demo, current = await start_demo(current)
        if not current.tenants:
            log.warning("the config has no tenants: every API call answers 401 until one is added")
        await open_database(current.database_url)
        await repo.sync_tenants(
            [(t.id, [(c.id, c.provider) for c in t.channels]) for t in current.tenants]
        )
        tenants = Tenants(current)
        http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=300),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        tenants.bind_http(http)
        bus = InProcessBus()
        rt = Runtime(current, tenants, bus, Ingest(tenants, bus), Outbox(tenants, bus), http)
        app.ctx.runtime = rt
        rt.realtime = realtime.start(rt)
        app.ctx.bots = BotHost(current, rt.outbox, bus)
        app.ctx.bots.start()
        await bus.start()
        rt.ingest.start()
        rt.outbox.start()
        app.ctx.grpc = await start_grpc(rt, current.http_host, current.grpc_port, app.ctx.bots)
        # Everything loaded so far lives as long as the process: keep it out of the
        # collector, or each full collection walks it all (tens of ms, loop blocked).
        gc.collect()
        gc.freeze()
        log.info(
            "wagate started",
            extra={
                "http": f"{current.http_host}:{current.http_port}",
                "grpc": f"{current.http_host}:{current.grpc_port}",
                "tenants": len(current.tenants),
            },
        )

    @app.after_server_stop
    async def stop(app: Sanic[Any, Any]) -> None:
        rt: Runtime = app.ctx.runtime
        await app.ctx.grpc.stop(grace=5)
        # Each step is bounded: whatever is not applied yet stays `pending` in the
        # inbox and is replayed at the next start, so a stuck step costs nothing.
        for name, step in (
            ("bots", app.ctx.bots.stop),
            ("outbox", rt.outbox.stop),
            ("ingest", rt.ingest.stop),
            ("bus", rt.bus.stop),
            ("http", rt.http.close),
            ("database", close_database),
        ):
            try:
                await asyncio.wait_for(step(), timeout=10)
            except TimeoutError:
                log.error("shutdown step timed out; continuing", extra={"step": name})
        if getattr(app.ctx, "demo", None) is not None:
            await app.ctx.demo.stop()
        log.info("wagate stopped")

    return app
