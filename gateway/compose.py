"""The composition root: the whole object graph of a running gateway, built in one place.

`compose` reads top to bottom: storage, the HTTP client and the channels, the bus,
ingest and outbox, the stream hub, typing timers, Socket.IO, the bot host, the bus's
subscribers, then the gRPC server; each part gets only what it uses. `Runtime`
holds the result for the HTTP handlers (`app.ctx.runtime`) and is never changed
afterwards. `close_realtime` and `shutdown` take it down in the reverse order.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import aiohttp

from gateway.admin.auth import AdminAuth
from gateway.admin.grpc import AdminServicer
from gateway.admin.live import Disconnect, LiveConfig, check_stored
from gateway.admin.secrets import SecretBox
from gateway.admin.service import AdminService
from gateway.bots.host import BotHost
from gateway.bots.remote import BotServicer
from gateway.bus import Bus, InProcessBus
from gateway.config import Settings
from gateway.grpc.auth import AuthInterceptor
from gateway.grpc.events import EventServicer
from gateway.grpc.messaging import MessagingServicer
from gateway.grpc.server import start_grpc
from gateway.grpc.sessions import SessionServicer
from gateway.ingest import Ingest
from gateway.outbox import Outbox
from gateway.redis_bus import RedisBus
from gateway.runtime import Runtime
from gateway.tenants import Tenants
from realtime.hub import Hub
from realtime.server import Realtime, SocketServer
from realtime.tokens import TokenSigner
from realtime.typing import TypingTimers
from storage import repo
from storage.db import close_database, open_database

log = logging.getLogger("wagate")


async def compose(settings: Settings) -> Runtime:
    """Open storage, build every part bottom to top, wire the bus, start; return the whole."""
    await open_database(settings.database_url)
    box = SecretBox.from_env(settings.secret_key)
    await check_stored(box, (t.id for t in settings.tenants))
    await repo.sync_tenants(
        [(t.id, [(c.id, c.provider) for c in t.channels]) for t in settings.tenants]
    )
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=300),
        timeout=aiohttp.ClientTimeout(total=30),
    )
    tenants = Tenants(settings)
    tenants.bind_http(http)
    bus: Bus = RedisBus(settings.redis_url) if settings.redis_url else InProcessBus()
    ingest = Ingest(tenants, bus, max_backlog=settings.max_backlog)
    outbox = Outbox(tenants, bus, lease=timedelta(seconds=settings.send_lease))
    streams = Hub()  # gRPC event streams
    typing = TypingTimers(bus.publish)
    signer = TokenSigner(settings.realtime_secret)
    if signer.ephemeral:
        log.info("realtime tokens are signed with a per-process key (set realtime_secret)")
    sockets = SocketServer(tenants.tenant_for_key, tenants.exists, signer, settings.realtime_buffer)
    realtime = Realtime(signer, sockets)
    bots = BotHost(settings, outbox, bus)
    grpc_auth = AuthInterceptor(tenants)
    # The admin API's tenants, live from the database (gateway/admin/live.py).
    live = LiveConfig(
        box, tenants, bots, bus, Disconnect(sockets.disconnect_tenant, grpc_auth.disconnect_tenant)
    )
    await live.load()
    admin = AdminService(
        AdminAuth(settings.admin_keys, tenants.tenant_for_key), live, box, settings.tenants
    )

    # Every event reaches the bus's subscribers in this order.
    bus.subscribe("streams", streams.on_event)
    bus.subscribe("socket.io", sockets.on_event)
    bus.subscribe("typing", typing.on_event)
    bots.start()  # subscribes "bots"
    sockets.start()
    await bus.start()
    ingest.start()
    outbox.start()
    live.start()

    try:
        grpc = await start_grpc(
            settings.http_host,
            settings.grpc_port,
            grpc_auth,
            messaging=MessagingServicer(outbox, typing),
            sessions=SessionServicer(tenants),
            events=EventServicer(tenants, streams, realtime, settings.realtime_buffer),
            bots=BotServicer(bots),
            admin=AdminServicer(admin),
            shared_port=settings.workers > 1,
        )
    except OSError:  # its port was taken: stop what runs, or the process cannot exit
        await _stop_parts(bots, outbox, ingest, bus, http, live)
        raise
    return Runtime(
        settings=settings,
        http=http,
        tenants=tenants,
        bus=bus,
        ingest=ingest,
        outbox=outbox,
        streams=streams,
        typing=typing,
        realtime=realtime,
        bots=bots,
        grpc=grpc,
        admin=admin,
    )


async def close_realtime(rt: Runtime) -> None:
    """Before the HTTP server drains: streams end with UNAVAILABLE, Socket.IO clients close."""
    rt.streams.close()
    rt.typing.close()
    await rt.realtime.close()


async def shutdown(rt: Runtime) -> None:
    """After the HTTP server stopped: everything else, each step bounded.

    Whatever is not applied yet stays `pending` in the inbox and is replayed at the
    next start, so a stuck step costs nothing.
    """
    await rt.grpc.stop(grace=5)
    await _stop_parts(rt.bots, rt.outbox, rt.ingest, rt.bus, rt.http, rt.admin.live)


async def _stop_parts(
    bots: BotHost,
    outbox: Outbox,
    ingest: Ingest,
    bus: Bus,
    http: aiohttp.ClientSession,
    live: LiveConfig | None = None,
) -> None:
    if live is not None:
        await live.stop()
    for name, step in (
        ("bots", bots.stop),
        ("outbox", outbox.stop),
        ("ingest", ingest.stop),
        ("bus", bus.stop),
        ("http", http.close),
        ("database", close_database),
    ):
        try:
            await asyncio.wait_for(step(), timeout=10)
        except TimeoutError:
            log.error("shutdown step timed out; continuing", extra={"step": name})
