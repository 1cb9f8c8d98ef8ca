"""Everything a running gateway holds: built whole by `gateway.compose`, kept on `app.ctx.runtime`.

The HTTP handlers read it (they cannot be handed their parts one by one); every
other part was given only what it uses when it was built. It is never changed
after it is built. `rt` always names a `Runtime`.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from grpc import aio

from gateway.admin.service import AdminService
from gateway.bots.host import BotHost
from gateway.bus import Bus
from gateway.config import Settings
from gateway.ingest import Ingest
from gateway.outbox import Outbox
from gateway.tenants import Tenants
from realtime.hub import Hub
from realtime.server import Realtime
from realtime.typing import TypingTimers


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    http: aiohttp.ClientSession
    tenants: Tenants
    bus: Bus
    ingest: Ingest
    outbox: Outbox
    # gRPC event streams (StreamEvents), fed from the bus.
    streams: Hub
    typing: TypingTimers
    # Realtime tokens and the Socket.IO server.
    realtime: Realtime
    bots: BotHost
    grpc: aio.Server
    # The admin API (tenants, keys, channels and bots at run time).
    admin: AdminService
