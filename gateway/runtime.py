"""Everything a running gateway holds, built once at start and kept on `app.ctx.runtime`."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from gateway.bus import Bus
from gateway.config import Settings
from gateway.ingest import Ingest
from gateway.outbox import Outbox
from gateway.tenants import Tenants


@dataclass
class Runtime:
    settings: Settings
    tenants: Tenants
    bus: Bus
    ingest: Ingest
    outbox: Outbox
    http: aiohttp.ClientSession
