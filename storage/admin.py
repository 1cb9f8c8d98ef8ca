"""The admin API's runtime configuration in the database (gateway/admin): tenants, API
keys (hashed), channels (secrets sealed by the caller), bot chains, the config version
and the audit log.

Every change is one transaction that begins with `_begin`: it bumps the single
`admin_version` row, which row-locks it on PostgreSQL (and SQLite has one writer), so
admin changes are serialized and commit in version order. A replica that has applied
version `v` catches up by reading the tenants whose `version` is above it
(`tenants_after`). Every function here is a `storage.writer` transaction body
(`fn(sql, ...)`): it only awaits `Sql` methods.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.errors import Conflict, NotFound
from storage.sql import Sql
from storage.times import db_datetime, db_datetime_or_none


@dataclass(frozen=True)
class Change:
    """Who changes what, for the audit log (`details` already masked)."""

    actor: str
    action: str
    tenant_id: str
    at: datetime
    target: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TenantRow:
    id: str
    created_at: datetime
    deleted_at: datetime | None
    version: int
    bots: str
    timezone: str


@dataclass(frozen=True)
class ChannelRow:
    id: str
    tenant_id: str
    provider: str
    route: str | None
    # The channel object, secret values sealed.
    config: dict[str, Any]


@dataclass(frozen=True)
class KeyRow:
    id: str
    tenant_id: str
    key_hash: str
    created_at: datetime


@dataclass(frozen=True)
class TenantState:
    """One tenant as the database holds it: what a replica applies."""

    tenant: TenantRow
    keys: list[KeyRow]
    channels: list[ChannelRow]


# -- the version and the audit log ---------------------------------------------------


async def _begin(sql: Sql, change: Change) -> int:
    """Bump the config version (locking its row until commit) and log the change."""
    rows = await sql.rows(
        "INSERT INTO admin_version (id, version) VALUES (1, 1)"
        " ON CONFLICT (id) DO UPDATE SET version = admin_version.version + 1"
        " RETURNING version"
    )
    await sql.run(
        "INSERT INTO admin_audit (at, actor, action, tenant_id, target, details)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            change.at,
            change.actor,
            change.action,
            change.tenant_id,
            change.target,
            json.dumps(change.details, sort_keys=True),
        ],
    )
    return int(rows[0]["version"])


async def _touch(sql: Sql, tenant_id: str, version: int) -> None:
    await sql.run("UPDATE admin_tenant SET version = ? WHERE id = ?", [version, tenant_id])


async def current_version(sql: Sql) -> int:
    rows = await sql.rows("SELECT version FROM admin_version WHERE id = 1")
    return int(rows[0]["version"]) if rows else 0


async def audit(
    sql: Sql, tenant_id: str | None, after: int | None, limit: int
) -> list[dict[str, Any]]:
    """Entries oldest first, after the entry id `after`."""
    where = ["id > ?"]
    args: list[Any] = [after or 0]
    if tenant_id:
        where.append("tenant_id = ?")
        args.append(tenant_id)
    rows = await sql.rows(
        "SELECT id, at, actor, action, tenant_id, target, details FROM admin_audit"
        f" WHERE {' AND '.join(where)} ORDER BY id LIMIT ?",
        [*args, limit],
    )
    return [
        {
            "id": str(r["id"]),
            "at": db_datetime(r["at"]),
            "actor": r["actor"],
            "action": r["action"],
            "tenantId": r["tenant_id"],
            "target": r["target"],
            "details": json.loads(r["details"] or "{}"),
        }
        for r in rows
    ]


# -- reads ----------------------------------------------------------------------------


def _tenant(r: dict[str, Any]) -> TenantRow:
    return TenantRow(
        id=r["id"],
        created_at=db_datetime(r["created_at"]),
        deleted_at=db_datetime_or_none(r["deleted_at"]),
        version=int(r["version"]),
        bots=r["bots"] or "",
        timezone=r["timezone"],
    )


def _channel(r: dict[str, Any]) -> ChannelRow:
    return ChannelRow(r["id"], r["tenant_id"], r["provider"], r["route"], json.loads(r["config"]))


_TENANT_COLUMNS = "id, created_at, deleted_at, version, bots, timezone"


async def tenant(sql: Sql, tenant_id: str) -> TenantRow | None:
    rows = await sql.rows(f"SELECT {_TENANT_COLUMNS} FROM admin_tenant WHERE id = ?", [tenant_id])
    return _tenant(rows[0]) if rows else None


async def live_tenant(sql: Sql, tenant_id: str) -> TenantRow:
    """The tenant, not deleted; NotFound otherwise."""
    row = await tenant(sql, tenant_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(f"tenant '{tenant_id}' not found")
    return row


async def tenants(sql: Sql) -> list[TenantRow]:
    """Every tenant not deleted, oldest first."""
    rows = await sql.rows(
        f"SELECT {_TENANT_COLUMNS} FROM admin_tenant WHERE deleted_at IS NULL"
        " ORDER BY created_at, id"
    )
    return [_tenant(r) for r in rows]


async def tenants_after(sql: Sql, version: int) -> tuple[int, list[TenantState]]:
    """The config version, and every tenant changed after `version` (deleted ones too),
    each with its keys and channels: what a replica at `version` has to apply."""
    now = await current_version(sql)
    if now <= version:
        return now, []
    rows = await sql.rows(
        f"SELECT {_TENANT_COLUMNS} FROM admin_tenant WHERE version > ? ORDER BY version",
        [version],
    )
    return now, [await _state(sql, _tenant(r)) for r in rows]


async def _state(sql: Sql, row: TenantRow) -> TenantState:
    return TenantState(row, await keys(sql, row.id), await channels(sql, row.id))


async def keys(sql: Sql, tenant_id: str) -> list[KeyRow]:
    rows = await sql.rows(
        "SELECT id, tenant_id, key_hash, created_at FROM admin_api_key WHERE tenant_id = ?"
        " ORDER BY created_at, id",
        [tenant_id],
    )
    return [
        KeyRow(r["id"], r["tenant_id"], r["key_hash"], db_datetime(r["created_at"])) for r in rows
    ]


async def channels(sql: Sql, tenant_id: str) -> list[ChannelRow]:
    rows = await sql.rows(
        "SELECT id, tenant_id, provider, route, config FROM admin_channel WHERE tenant_id = ?"
        " ORDER BY created_at, id",
        [tenant_id],
    )
    return [_channel(r) for r in rows]


async def channel(sql: Sql, tenant_id: str, channel_id: str) -> ChannelRow:
    rows = await sql.rows(
        "SELECT id, tenant_id, provider, route, config FROM admin_channel"
        " WHERE id = ? AND tenant_id = ?",
        [channel_id, tenant_id],
    )
    if not rows:
        raise NotFound(f"channel '{channel_id}' not found")
    return _channel(rows[0])


async def holds_secrets(sql: Sql) -> bool:
    """Whether any sealed value is stored (channels, or a bot chain)."""
    rows = await sql.rows(
        "SELECT (SELECT COUNT(*) FROM admin_channel)"
        " + (SELECT COUNT(*) FROM admin_tenant WHERE bots <> '') AS n"
    )
    return int(rows[0]["n"]) > 0


# -- changes --------------------------------------------------------------------------


async def create_tenant(sql: Sql, change: Change) -> TenantRow:
    version = await _begin(sql, change)
    tenant_id = change.tenant_id
    if await tenant(sql, tenant_id) is not None:
        raise Conflict(f"tenant '{tenant_id}' already exists (or existed: its history is kept)")
    if await sql.rows("SELECT id FROM tenant WHERE id = ?", [tenant_id]):
        raise Conflict(f"tenant '{tenant_id}' already exists")
    await sql.run(
        f"INSERT INTO admin_tenant ({_TENANT_COLUMNS}) VALUES (?, ?, NULL, ?, '', 'UTC')",
        [tenant_id, change.at, version],
    )
    # The tenant table that history rows are kept beside (storage.repo.sync_tenants).
    await sql.run("INSERT INTO tenant (id, created_at) VALUES (?, ?)", [tenant_id, change.at])
    return await live_tenant(sql, tenant_id)


async def delete_tenant(sql: Sql, change: Change) -> None:
    """Keys and channels go; the row stays, marked, so every replica sees the deletion."""
    version = await _begin(sql, change)
    await live_tenant(sql, change.tenant_id)
    await sql.run("DELETE FROM admin_api_key WHERE tenant_id = ?", [change.tenant_id])
    await sql.run("DELETE FROM admin_channel WHERE tenant_id = ?", [change.tenant_id])
    await sql.run(
        "UPDATE admin_tenant SET deleted_at = ?, bots = '', version = ? WHERE id = ?",
        [change.at, version, change.tenant_id],
    )


async def create_key(sql: Sql, change: Change, key_id: str, key_hash: str) -> None:
    version = await _begin(sql, change)
    await live_tenant(sql, change.tenant_id)
    await sql.run(
        "INSERT INTO admin_api_key (id, tenant_id, key_hash, created_at) VALUES (?, ?, ?, ?)",
        [key_id, change.tenant_id, key_hash, change.at],
    )
    await _touch(sql, change.tenant_id, version)


async def revoke_key(sql: Sql, change: Change, key_id: str) -> None:
    await _delete(sql, change, "admin_api_key", key_id, f"API key '{key_id}'")


async def _delete(sql: Sql, change: Change, table: str, row_id: str, what: str) -> None:
    """Delete one row of the tenant's (NotFound if it has none by that id)."""
    version = await _begin(sql, change)
    await live_tenant(sql, change.tenant_id)
    gone = await sql.rows(
        f"DELETE FROM {table} WHERE id = ? AND tenant_id = ? RETURNING id",
        [row_id, change.tenant_id],
    )
    if not gone:
        raise NotFound(f"{what} not found")
    await _touch(sql, change.tenant_id, version)


async def _check_free(sql: Sql, row: ChannelRow, *, new: bool) -> None:
    """Conflict when the channel id is another's, or its provider route is in use."""
    if new:
        if await sql.rows("SELECT id FROM admin_channel WHERE id = ?", [row.id]):
            raise Conflict(f"channel id '{row.id}' is already in use")
        # A channel id whose history belongs to another tenant is never handed over.
        owner = await sql.rows("SELECT tenant_id FROM channel WHERE id = ?", [row.id])
        if owner and owner[0]["tenant_id"] != row.tenant_id:
            raise Conflict(f"channel id '{row.id}' is already in use")
    if row.route is not None:
        taken = await sql.rows(
            "SELECT id FROM admin_channel WHERE provider = ? AND route = ? AND id <> ?",
            [row.provider, row.route, row.id],
        )
        if taken:
            raise Conflict(
                f"{row.provider} route '{row.route}' is already in use by another channel"
            )


async def create_channel(sql: Sql, change: Change, row: ChannelRow) -> None:
    version = await _begin(sql, change)
    await live_tenant(sql, change.tenant_id)
    await _check_free(sql, row, new=True)
    await sql.run(
        "INSERT INTO admin_channel (id, tenant_id, provider, route, config, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            row.id,
            row.tenant_id,
            row.provider,
            row.route,
            json.dumps(row.config),
            change.at,
            change.at,
        ],
    )
    await sql.run(
        "INSERT INTO channel (id, tenant_id, provider) VALUES (?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET provider = excluded.provider",
        [row.id, row.tenant_id, row.provider],
    )
    await _touch(sql, change.tenant_id, version)


async def update_channel(
    sql: Sql, change: Change, channel_id: str, merge: Callable[[ChannelRow], ChannelRow]
) -> ChannelRow:
    """Read, `merge` (pure), write: under the version lock, so concurrent updates of one
    channel apply one after the other, each to the result of the one before."""
    version = await _begin(sql, change)
    await live_tenant(sql, change.tenant_id)
    new = merge(await channel(sql, change.tenant_id, channel_id))
    await _check_free(sql, new, new=False)
    await sql.run(
        "UPDATE admin_channel SET route = ?, config = ?, updated_at = ? WHERE id = ?",
        [new.route, json.dumps(new.config), change.at, channel_id],
    )
    await _touch(sql, change.tenant_id, version)
    return new


async def delete_channel(sql: Sql, change: Change, channel_id: str) -> None:
    """The channel row in `channel` stays: its history is kept under its id."""
    await _delete(sql, change, "admin_channel", channel_id, f"channel '{channel_id}'")


async def set_bots(sql: Sql, change: Change, sealed: str) -> None:
    version = await _begin(sql, change)
    await live_tenant(sql, change.tenant_id)
    await sql.run(
        "UPDATE admin_tenant SET bots = ?, version = ? WHERE id = ?",
        [sealed, version, change.tenant_id],
    )
