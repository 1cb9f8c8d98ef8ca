"""The admin configuration, live on every replica: applied from the database.

A change is committed first (storage/admin.py bumps the config version), then applied
here on the process that made it (before the API answers), then announced on the bus
(`Bus.announce`, Redis between replicas). Every process applies what the database
holds above the version it has applied, when it hears an announcement and on a short
poll besides: a missed announcement (Redis down, a restart) costs at most `POLL_S`.

Applying a tenant rebuilds its channels and keys (one swap of `Tenants`) and, when its
chain changed, its bot chain (`BotHost.set_chain`). A deleted tenant's keys stop
working at once, and its Socket.IO clients, gRPC streams and remote bots are
disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from core.errors import ConfigError
from gateway.admin.sealed import open_bots, open_channel
from gateway.admin.secrets import SecretBox
from gateway.bots.host import BotHost
from gateway.bus import Bus
from gateway.config import ChannelConfig, bots_config, channel_config
from gateway.tenants import Tenants, TenantSpec
from storage import admin as store
from storage.writer import writer

log = logging.getLogger("wagate.admin")

POLL_S = 1.0


@dataclass(frozen=True)
class Disconnect:
    """What ends a deleted tenant's connections on this process."""

    sockets: Callable[[str], Awaitable[int]]
    streams: Callable[[str], int]


async def check_stored(box: SecretBox | None, config_tenants: Iterable[str]) -> None:
    """At start, before anything runs: ConfigError (one line) when the database holds
    sealed secrets and WAGATE_SECRET_KEY is not set, or when the config file declares a
    tenant the admin API created."""
    if box is None and await writer().read(store.holds_secrets):
        raise ConfigError(
            "WAGATE_SECRET_KEY is not set, but the database holds channel or bot secrets"
            " stored through the admin API: set the key they were sealed with"
        )
    declared = set(config_tenants)
    for row in await writer().read(store.tenants):
        if row.id in declared:
            raise ConfigError(
                f"tenant '{row.id}' is in the config file and was also created through"
                " the admin API: remove one of them"
            )


class LiveConfig:
    def __init__(
        self,
        box: SecretBox | None,
        tenants: Tenants,
        bots: BotHost,
        bus: Bus,
        disconnect: Disconnect,
        poll_s: float = POLL_S,
    ) -> None:
        self.box = box
        self.tenants = tenants
        self.bots = bots
        self.bus = bus
        self.disconnect = disconnect
        self.poll_s = poll_s
        self.version = 0
        self._config_tenants = {t.id for t in tenants.settings.tenants}
        self._chains: dict[str, str] = {}  # tenant → the sealed chain applied
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def load(self) -> None:
        """At start, before serving: every tenant of the admin API."""
        await self.catch_up()

    def start(self) -> None:
        self.bus.on_control(self._heard)
        self._task = asyncio.create_task(self._poll(), name="admin-config-poll")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def announce(self, version: int) -> None:
        """Tell the other processes (after the commit, and after applying it here)."""
        await self.bus.announce(json.dumps({"admin_version": version}).encode())

    async def _heard(self, data: bytes) -> None:
        try:
            version = int(json.loads(data).get("admin_version", 0))
        except (ValueError, AttributeError):
            return  # another kind of control message
        if version > self.version:
            await self.catch_up()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.catch_up()
            except Exception as exc:  # the database is away: the next poll tries again
                log.warning("admin config not read", extra={"error": type(exc).__name__})

    async def catch_up(self) -> int:
        """Apply every tenant changed above the applied version; the version applied."""
        async with self._lock:
            version, states = await writer().read(store.tenants_after, self.version)
            if states:
                await self._apply(states)
            self.version = max(self.version, version)
            return self.version

    async def _apply(self, states: list[store.TenantState]) -> None:
        specs, removed = [], []
        for state in states:
            tenant_id = state.tenant.id
            if tenant_id in self._config_tenants:
                continue  # refused at start; the config file wins
            if state.tenant.deleted_at is not None:
                if self.tenants.exists(tenant_id):  # not a deletion this process never saw
                    removed.append(tenant_id)
                continue
            specs.append(
                TenantSpec(
                    tenant_id,
                    frozenset(bytes.fromhex(k.key_hash) for k in state.keys),
                    tuple(self._channels(state)),
                )
            )
        self.tenants.put(specs, removed)
        for state in states:
            if state.tenant.deleted_at is None and state.tenant.id not in self._config_tenants:
                self._chain(state.tenant)
        for tenant_id in removed:
            self._chains.pop(tenant_id, None)
            self.bots.drop_tenant(tenant_id)
            sockets = await self.disconnect.sockets(tenant_id)
            streams = self.disconnect.streams(tenant_id)
            log.info(
                "tenant deleted",
                extra={"tenant": tenant_id, "sockets": sockets, "streams": streams},
            )
        if specs or removed:
            log.info(
                "admin config applied",
                extra={"tenants": [s.id for s in specs], "removed": removed},
            )

    def _channels(self, state: store.TenantState) -> list[ChannelConfig]:
        out = []
        for row in state.channels:
            try:
                plain = open_channel(self.box, row.tenant_id, row.config)
                out.append(channel_config(plain, "", set()))
            except ConfigError as exc:  # e.g. sealed with a key no longer held
                log.error(
                    "admin channel not loaded",
                    extra={"tenant": row.tenant_id, "channel": row.id, "reason": str(exc)},
                )
        return out

    def _chain(self, row: store.TenantRow) -> None:
        if self._chains.get(row.id, "") == row.bots and row.id in self._chains:
            return
        try:
            bots = bots_config(open_bots(self.box, row.id, row.bots), "bots", set())
        except ConfigError as exc:
            log.error("admin bot chain not loaded", extra={"tenant": row.id, "reason": str(exc)})
            return
        self.bots.set_chain(row.id, bots, row.timezone)
        self._chains[row.id] = row.bots
