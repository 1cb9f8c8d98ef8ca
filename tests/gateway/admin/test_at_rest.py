"""What the admin API leaves in the database: no secret and no API key in plain text (the
SQLite file's bytes; `pg_dump` of PostgreSQL), and everything working again after a
restart, through a rotation of WAGATE_SECRET_KEY as docs/admin.md describes it."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.admin.secrets import SecretBox
from providers.testing import FakeGraphAPI
from tests.support import bots
from tests.support.admin import (
    ADMIN_ENV,
    ADMIN_KEY,
    ALEX,
    PHONE,
    SECRET_KEY,
    admin,
    meta_channel,
    ok,
    tenant_api,
    webhook,
)
from tests.support.gateway_db import db_rows
from tests.support.procs import Gateway, Postgres
from tests.support.realtime import text_webhook

pytestmark = pytest.mark.integration

# Every secret the onboarding below hands the admin API, by where it goes.
SECRETS = {
    "meta app_secret": "at-rest-meta-app-secret-1",
    "meta verify_token": "at-rest-meta-verify-2",
    "meta access_token": "at-rest-meta-access-3",
    "kapso webhook_secret": "at-rest-kapso-hook-4",
    "kapso api_key": "at-rest-kapso-key-5",
    "qr webhook_secret": "at-rest-qr-hook-6",
    "qr engine_api_key": "at-rest-qr-engine-7",
    "ai api_key": "at-rest-ai-key-8",
    "rotated app_secret": "at-rest-meta-rotated-9",
}
HOURS = "We are open Monday to Friday, 9:00 to 18:00."
CHAIN = [
    {
        "plugin": "flows",
        "name": "opening-hours",
        "flows": [
            {
                "name": "hours",
                "triggers": [{"word": "hours"}],
                "nodes": {"answer": {"type": "end", "text": HOURS}},
            }
        ],
    },
    # Never reached ("hours" is the flow's), but its key is a secret to keep.
    {"plugin": "ai", "provider": "openai", "model": "m", "api_key": SECRETS["ai api_key"]},
]


async def onboard_everything(
    http: aiohttp.ClientSession, gw: Gateway, graph: FakeGraphAPI
) -> dict[str, str]:
    """Tenant `vault` with a Meta, a Kapso and a QR channel, a bot chain with an AI key, a
    rotated app secret, a live key and a revoked one; the API keys made, by name."""
    await ok(http, gw, "POST", "/tenants", {"id": "vault"})
    live = (await ok(http, gw, "POST", "/tenants/vault/api-keys"))["key"]
    revoked = await ok(http, gw, "POST", "/tenants/vault/api-keys")
    await ok(http, gw, "DELETE", f"/tenants/vault/api-keys/{revoked['id']}")
    meta = meta_channel(
        "vault-meta",
        PHONE,
        SECRETS["meta app_secret"],
        graph.base_url,
        verify_token=SECRETS["meta verify_token"],
        access_token=SECRETS["meta access_token"],
    )
    kapso = {
        "id": "vault-kapso",
        "provider": "kapso",
        "phone_number_id": "597907523419999",
        "webhook_secret": SECRETS["kapso webhook_secret"],
        "api_key": SECRETS["kapso api_key"],
    }
    qr = {
        "id": "vault-qr",
        "provider": "qr_session",
        "session_id": "vault-main",
        "webhook_secret": SECRETS["qr webhook_secret"],
        "engine_base_url": "http://127.0.0.1:9",
        "engine_api_key": SECRETS["qr engine_api_key"],
    }
    for channel in (meta, kapso, qr):
        await ok(http, gw, "POST", "/tenants/vault/channels", channel)
    await ok(http, gw, "PUT", "/tenants/vault/bots", {"bots": CHAIN})
    patch = {"app_secret": SECRETS["rotated app_secret"]}
    await ok(http, gw, "PATCH", "/tenants/vault/channels/vault-meta", patch)
    # Traffic too, so the message tables hold rows: a webhook (the bot answers) and a send.
    await works(http, gw, graph, live, "wamid.at-rest-1")
    return {"live key": live, "revoked key": revoked["key"]}


async def works(
    http: aiohttp.ClientSession, gw: Gateway, graph: FakeGraphAPI, key: str, wamid: str
) -> None:
    """The tenant works on `gw`: its key, its (rotated) secret, its token, its bot chain."""
    assert (await tenant_api(http, gw, "GET", "/conversations", key))[0] == 200
    body = text_webhook([(wamid, "hours", ALEX)], PHONE)
    assert await webhook(http, gw, body, SECRETS["meta app_secret"]) == 401
    before = len(bots.replies(graph, ALEX))
    assert await webhook(http, gw, body, SECRETS["rotated app_secret"]) == 200
    assert (await bots.wait_replies(graph, before + 1, ALEX))[-1] == HOURS
    send = {"channelId": "vault-meta", "to": ALEX, "text": {"body": f"after {wamid}"}}
    status, sent = await tenant_api(http, gw, "POST", "/messages", key, send)
    assert status == 200 and sent["message"]["status"] == "MESSAGE_STATUS_SENT", sent
    assert graph.requests[-1].headers["Authorization"] == f"Bearer {SECRETS['meta access_token']}"


def assert_no_plain_secret(dump: bytes, keys: dict[str, str]) -> None:
    # The dump is the real thing: what is not secret is there in plain text.
    for visible in (PHONE.encode(), b"vault-kapso", b"vault-main"):
        assert visible in dump, visible
    assert b'"v1.' in dump  # sealed values
    for what, secret in {**SECRETS, **keys, "admin key": ADMIN_KEY, "box key": SECRET_KEY}.items():
        assert secret.encode() not in dump, f"{what} is in the database in plain text"


async def test_the_sqlite_file_holds_no_secret(
    gateways: Callable[..., Gateway], http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    gw = gateways({"tenants": []}, env=ADMIN_ENV)
    keys = await onboard_everything(http, gw, fake_graph)
    assert gw.stop() == 0
    path = Path(gw.database_url.removeprefix("sqlite://"))
    files = sorted(path.parent.glob(path.name + "*"))  # the file, and a WAL if one is left
    assert path in files
    assert_no_plain_secret(b"".join(f.read_bytes() for f in files), keys)


def pg_dump(pg: Postgres, url: str) -> bytes:
    database = url.rsplit("/", 1)[1]
    cmd = ["pg_dump", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", database]
    if pg.user:
        cmd = ["runuser", "-u", pg.user, "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, timeout=60).stdout


async def test_a_postgres_dump_holds_no_secret(
    gateways: Callable[..., Gateway],
    http: aiohttp.ClientSession,
    fake_graph: FakeGraphAPI,
    postgres: Postgres,
) -> None:
    url = postgres.create_database(f"at_rest_{uuid.uuid4().hex[:12]}")
    gw = gateways({"tenants": []}, database_url=url, env=ADMIN_ENV)
    keys = await onboard_everything(http, gw, fake_graph)
    dump = pg_dump(postgres, url)
    assert b"COPY public.admin_channel" in dump
    assert_no_plain_secret(dump, keys)


def sealed_with(gw: Gateway) -> set[str]:
    """The key ids of every sealed value stored (channel secrets and bot chains)."""
    ids = set()
    for (config,) in db_rows(gw, "SELECT config FROM admin_channel"):
        ids |= {part.split(".")[1] for part in config.split('"') if part.startswith("v1.")}
    for (chain,) in db_rows(gw, "SELECT bots FROM admin_tenant WHERE bots != ''"):
        ids.add(chain.split(".")[1])
    return ids


async def test_restart_survival_and_a_secret_key_rotation(
    gateways: Callable[..., Gateway], http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    gw = gateways({"tenants": []}, env=ADMIN_ENV)
    keys = await onboard_everything(http, gw, fake_graph)
    before = await ok(http, gw, "GET", "/tenants/vault")
    channels = await ok(http, gw, "GET", "/tenants/vault/channels")
    old_id = SecretBox([SECRET_KEY]).key_id
    assert sealed_with(gw) == {old_id}

    def restart(secret_key: str) -> Gateway:
        nonlocal gw
        assert gw.stop() == 0
        env: dict[str, Any] = {**ADMIN_ENV, "WAGATE_SECRET_KEY": secret_key}
        gw = gateways(gw.config, database_url=gw.database_url, env=env, workdir=gw.workdir)
        return gw

    # A plain restart: everything as it was, the revoked key still revoked.
    restart(SECRET_KEY)
    assert await ok(http, gw, "GET", "/tenants/vault") == before
    assert await ok(http, gw, "GET", "/tenants/vault/channels") == channels
    await works(http, gw, fake_graph, keys["live key"], "wamid.at-rest-2")
    assert (await tenant_api(http, gw, "GET", "/conversations", keys["revoked key"]))[0] == 401

    # Rotation, step 1: the new key first, the old one after it.
    new_key = "the-new-secret-key-after-rotation"
    new_id = SecretBox([new_key]).key_id
    restart(f"{new_key},{SECRET_KEY}")
    await works(http, gw, fake_graph, keys["live key"], "wamid.at-rest-3")
    assert sealed_with(gw) == {old_id}
    # Step 2: re-seal (an empty PATCH per channel, the chain PUT again).
    for channel in channels["channels"]:
        await ok(http, gw, "PATCH", f"/tenants/vault/channels/{channel['id']}", {})
    await ok(http, gw, "PUT", "/tenants/vault/bots", {"bots": CHAIN})
    assert sealed_with(gw) == {new_id}
    # Step 3: the old key dropped.
    restart(new_key)
    assert await ok(http, gw, "GET", "/tenants/vault/channels") == channels
    await works(http, gw, fake_graph, keys["live key"], "wamid.at-rest-4")


async def test_a_dropped_key_is_reported_not_guessed(
    gateways: Callable[..., Gateway], http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    """Dropping the old key before re-sealing: the channel is not served, and the log says
    which key it needs (docs/admin.md, rotation step 3)."""
    gw = gateways({"tenants": []}, env=ADMIN_ENV)
    await ok(http, gw, "POST", "/tenants", {"id": "vault"})
    channel = meta_channel("vault-meta", PHONE, SECRETS["meta app_secret"], fake_graph.base_url)
    await ok(http, gw, "POST", "/tenants/vault/channels", channel)
    assert gw.stop() == 0
    env = {**ADMIN_ENV, "WAGATE_SECRET_KEY": "a-new-key-only"}
    gw = gateways(gw.config, database_url=gw.database_url, env=env, workdir=gw.workdir)
    body = text_webhook([("wamid.dropped", "hi", ALEX)], PHONE)
    assert await webhook(http, gw, body, SECRETS["meta app_secret"]) == 404
    old_id = SecretBox([SECRET_KEY]).key_id
    logs = gw.logs()
    assert "admin channel not loaded" in logs and f"sealed with key {old_id}" in logs
    assert SECRETS["meta app_secret"] not in logs
    # The admin API still reads it (masked), so it can be fixed by putting the key back.
    status, _ = await admin(http, gw, "GET", "/tenants/vault/channels/vault-meta")
    assert status == 200
