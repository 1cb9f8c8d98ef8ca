"""Everything a running gateway holds, built once at start and kept on `app.ctx.runtime`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp

from gateway.bus import Bus
from gateway.config import Settings
from gateway.ingest import Ingest
from gateway.outbox import Outbox
from gateway.tenants import Tenants

if TYPE_CHECKING:
    from realtime.server import Realtime


@dataclass
class Runtime:
    settings: Settings
    tenants: Tenants
    bus: Bus
    ingest: Ingest
    outbox: Outbox
    http: aiohttp.ClientSession
    # Socket.IO, event-stream hub, realtime tokens, typing timers (set at start).
    realtime: Realtime | None = None
