"""The Sanic app factory: routes and listeners. The object graph is built by
`gateway.compose` when the server starts, and kept on `app.ctx.runtime`."""

from __future__ import annotations

import gc
import logging
import socket
from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from core.errors import ApiError
from gateway import access_log, http_metrics
from gateway.admin.rest import bp as admin_api
from gateway.apidocs import bp as apidocs
from gateway.bots.rest import bp as bots_api
from gateway.compose import close_realtime, compose, shutdown
from gateway.config import Settings
from gateway.console import bp as console
from gateway.media import bp as media
from gateway.rest import api, error_response, health, http_error_response
from gateway.runtime import Runtime
from gateway.sessions import bp as sessions
from gateway.simulator import bp as simulator
from gateway.simulator import start_simulator
from gateway.webhooks import bp as webhooks
from gateway.worker_sessions import WorkerSessions
from realtime.asgi import AsgiApp, mount_asgi

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
    app.blueprint(admin_api)
    app.blueprint(sessions)
    app.blueprint(media)
    app.blueprint(simulator)
    app.blueprint(health)
    mount_asgi(app, "/socket.io/", _socketio, name="socketio")
    app.blueprint(bots_api)
    app.blueprint(apidocs)
    app.blueprint(console)
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
        if any(c.simulator for t in current.tenants for c in t.channels):
            app.ctx.simulator, current = await start_simulator(current)
        if not current.tenants:
            log.warning("the config has no tenants: every API call answers 401 until one is added")
        app.ctx.runtime = await compose(current)
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

    @app.before_server_stop
    async def stop_realtime(app: Sanic[Any, Any]) -> None:
        # Before Sanic drains connections: long-polls and WebSockets end now, and
        # gRPC event streams end with UNAVAILABLE instead of holding up the stop.
        rt: Runtime | None = getattr(app.ctx, "runtime", None)
        if rt is not None:
            await close_realtime(rt)

    @app.after_server_stop
    async def stop(app: Sanic[Any, Any]) -> None:
        rt: Runtime | None = getattr(app.ctx, "runtime", None)
        if rt is not None:
            await shutdown(rt)
        for fakes in ("demo", "simulator"):
            if getattr(app.ctx, fakes, None) is not None:
                await getattr(app.ctx, fakes).stop()
        log.info("wagate stopped")

    return app


def run_app(app: Sanic[Any, Any], settings: Settings, sock: socket.socket | None = None) -> None:
    """Serve `app` in this process until SIGTERM/SIGINT, then stop gracefully.

    `sock`: a socket a worker bound to the shared HTTP port (gateway/workers.py);
    without it, Sanic binds settings' host and port itself, exclusively.
    """
    where: dict[str, Any] = (
        {"sock": sock} if sock else {"host": settings.http_host, "port": settings.http_port}
    )
    app.run(**where, single_process=True, access_log=False, motd=False)


def _socketio(request: Request) -> AsgiApp:
    sessions: WorkerSessions | None = getattr(request.app.ctx, "worker_sessions", None)
    if sessions is not None:  # one of several workers: the session may be another's
        elsewhere = sessions.owner(request.args.get("sid"))
        if elsewhere is not None:
            return elsewhere
    rt: Runtime = request.app.ctx.runtime
    return rt.realtime.sockets.asgi
