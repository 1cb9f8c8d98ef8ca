"""The admin REST API on the embedded default (one `wagate serve`, SQLite): every route's
success and failure, and what a tenant, key, channel or bot chain made through it does
at once on that process: webhooks, sends, Socket.IO, bots, deletes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import grpc
import pytest
import socketio

from providers.testing import FakeGraphAPI
from tests.support import bots
from tests.support.admin import (
    ADMIN_ENV,
    ADMIN_KEY,
    ALEX,
    PHONE,
    admin,
    assert_one_whole_patch,
    meta_channel,
    ok,
    onboard,
    tenant_api,
    webhook,
)
from tests.support.gateway_db import db_rows
from tests.support.polling import eventually
from tests.support.procs import Gateway, start_gateway
from tests.support.realtime import Client, text_webhook
from tests.support.tenants import ACME_KEY, ACME_PHONE_ID, two_tenant_config
from wagate.v1 import bot_service_pb2 as bot_pb
from wagate.v1 import bot_service_pb2_grpc as bot_grpc
from wagate.v1 import event_service_pb2 as pb
from wagate.v1 import event_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration

WABA = "102290129340398"


@pytest.fixture
def gw(gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI) -> Gateway:
    """acme and globex from the file; the admin API on."""
    return gateways(two_tenant_config(fake_graph.base_url), env=ADMIN_ENV)


async def test_the_admin_api_is_absent_without_an_admin_key(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    for method, path in (("GET", "/tenants"), ("POST", "/tenants"), ("GET", "/audit")):
        status, body = await admin(http, gateway, method, path, {"id": "x"})
        assert status == 404, (method, path, body)
        assert body["error"]["code"] == "not_found"


async def test_admin_keys_only(gw: Gateway, http: aiohttp.ClientSession) -> None:
    assert (await admin(http, gw, "GET", "/tenants", key=None))[0] == 401
    assert (await admin(http, gw, "GET", "/tenants", key="not-a-key"))[0] == 401
    status, body = await admin(http, gw, "GET", "/tenants", key=ACME_KEY)
    assert status == 403 and body["error"]["code"] == "permission_denied"
    assert (await admin(http, gw, "GET", "/tenants"))[0] == 200
    assert ADMIN_KEY not in gw.logs()


async def test_admin_keys_from_the_file(
    gateways: Callable[..., Gateway], http: aiohttp.ClientSession
) -> None:
    gw = gateways({"admin_keys": ["file-admin-key-1"], "tenants": []})
    assert (await admin(http, gw, "GET", "/tenants", key="file-admin-key-1"))[0] == 200
    assert (await admin(http, gw, "GET", "/tenants", key=ADMIN_KEY))[0] == 401


async def test_tenants(gw: Gateway, http: aiohttp.ClientSession) -> None:
    listed = await ok(http, gw, "GET", "/tenants")
    assert [(t["id"], t["managedBy"]) for t in listed["tenants"]] == [
        ("acme", "config"),
        ("globex", "config"),
    ]
    assert listed["tenants"][0]["channels"] == ["acme-meta"]

    status, created = await admin(http, gw, "POST", "/tenants", {"id": "beta"})
    assert status == 201
    assert created["id"] == "beta" and created["managedBy"] == "api"
    assert created["createdAt"] and created["channels"] == [] and created["apiKeys"] == []
    assert await ok(http, gw, "GET", "/tenants/beta") == created
    assert [t["id"] for t in (await ok(http, gw, "GET", "/tenants"))["tenants"]][-1] == "beta"

    for body, status_code, code in (
        ({"id": "beta"}, 409, "conflict"),
        ({"id": "acme"}, 409, "conflict"),
        ({"id": "Not Valid"}, 400, "invalid_argument"),
        ({}, 400, "invalid_argument"),
        ({"id": "gamma", "colour": "red"}, 400, "invalid_argument"),
        (["gamma"], 400, "invalid_argument"),
    ):
        status, body_ = await admin(http, gw, "POST", "/tenants", body)
        assert (status, body_["error"]["code"]) == (status_code, code), (body, body_)
    status, bad = await admin(http, gw, "POST", "/tenants", {"id": "Not Valid"})
    assert bad["error"]["message"] == "id: tenant id 'Not Valid' must match [a-z0-9-]+"

    assert (await admin(http, gw, "GET", "/tenants/nobody"))[0] == 404
    assert (await admin(http, gw, "DELETE", "/tenants/nobody"))[0] == 404
    assert (await admin(http, gw, "DELETE", "/tenants/acme"))[0] == 409
    assert await admin(http, gw, "DELETE", "/tenants/beta") == (204, None)
    assert (await admin(http, gw, "GET", "/tenants/beta"))[0] == 404
    assert (await admin(http, gw, "DELETE", "/tenants/beta"))[0] == 404
    # The id of a deleted tenant keeps its history: it is not handed out again.
    assert (await admin(http, gw, "POST", "/tenants", {"id": "beta"}))[0] == 409


async def test_api_keys(gw: Gateway, http: aiohttp.ClientSession) -> None:
    await ok(http, gw, "POST", "/tenants", {"id": "beta"})
    status, created = await admin(http, gw, "POST", "/tenants/beta/api-keys")
    assert status == 201 and set(created) == {"id", "key"}
    key = created["key"]
    assert (await tenant_api(http, gw, "GET", "/conversations", key))[0] == 200
    tenant = await ok(http, gw, "GET", "/tenants/beta")
    assert [k["id"] for k in tenant["apiKeys"]] == [created["id"]]
    assert key not in json.dumps(tenant)
    # Stored as its hash only.
    stored = db_rows(gw, "SELECT key_hash FROM admin_api_key")
    assert len(stored) == 1 and key not in stored[0][0]

    client = await Client().connect(gw, key, "websocket")
    await client.close()

    assert (await admin(http, gw, "DELETE", f"/tenants/beta/api-keys/{created['id']}"))[0] == 204
    assert (await tenant_api(http, gw, "GET", "/conversations", key))[0] == 401
    assert (await admin(http, gw, "DELETE", f"/tenants/beta/api-keys/{created['id']}"))[0] == 404
    assert (await admin(http, gw, "POST", "/tenants/nobody/api-keys"))[0] == 404
    assert (await admin(http, gw, "POST", "/tenants/acme/api-keys"))[0] == 409
    assert (await admin(http, gw, "DELETE", "/tenants/acme/api-keys/x"))[0] == 409
    assert (await tenant_api(http, gw, "GET", "/conversations", ACME_KEY))[0] == 200


async def test_a_channel_takes_webhooks_and_sends_as_soon_as_it_is_created(
    gw: Gateway, http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    key = await onboard(http, gw, fake_graph)
    # No wait at all: the 201 means the channel is live on this process.
    body = text_webhook([("wamid.beta-1", "hello beta", ALEX)], PHONE)
    assert await webhook(http, gw, body, "beta-secret") == 200
    assert await webhook(http, gw, body, "wrong-secret") == 401

    async def conversations() -> list[Any]:
        status, page = await tenant_api(http, gw, "GET", "/conversations", key)
        assert status == 200
        items: list[Any] = page["items"]
        return items

    (conv,) = await eventually(conversations, what="beta's conversation")
    assert conv["channelId"] == "beta-meta"
    # Isolation: acme sees nothing of beta's, and cannot send on beta's channel.
    assert (await tenant_api(http, gw, "GET", "/conversations", ACME_KEY))[1]["items"] == []
    send = {"channelId": "beta-meta", "to": ALEX, "text": {"body": "hi from beta"}}
    assert (await tenant_api(http, gw, "POST", "/messages", ACME_KEY, send))[0] == 403
    status, sent = await tenant_api(http, gw, "POST", "/messages", key, send)
    assert status == 200, sent
    await eventually(lambda: fake_graph.messages(), what="the send at the Graph API")
    (request,) = [r for r in fake_graph.requests if r.path.endswith(f"/{PHONE}/messages")]
    assert request.headers["Authorization"] == "Bearer beta-meta-token"


async def test_channel_routes(
    gw: Gateway, http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    await ok(http, gw, "POST", "/tenants", {"id": "beta"})
    channel = meta_channel("beta-meta", PHONE, "beta-secret", fake_graph.base_url, waba_id=WABA)
    status, created = await admin(http, gw, "POST", "/tenants/beta/channels", channel)
    assert status == 201
    masked = {**channel, "app_secret": "***", "verify_token": "***", "access_token": "***"}
    assert created == masked
    assert await ok(http, gw, "GET", "/tenants/beta/channels") == {"channels": [masked]}
    assert await ok(http, gw, "GET", "/tenants/beta/channels/beta-meta") == masked
    assert (await ok(http, gw, "GET", "/tenants/beta"))["channels"] == ["beta-meta"]
    # The file's channels read the same way, secrets masked.
    acme = await ok(http, gw, "GET", "/tenants/acme/channels/acme-meta")
    assert acme["phone_number_id"] == ACME_PHONE_ID and acme["app_secret"] == "***"

    def bad(**change: Any) -> dict[str, Any]:
        return {k: v for k, v in {**channel, **change}.items() if v is not None}

    for body, status_code, message in (
        (
            bad(id="beta-2", phone_number_id="1", colour="red"),
            400,
            "channel beta-2: unknown key 'colour' for meta_cloud",
        ),
        (bad(id="beta-2", provider="carrier-pigeon"), 400, "carrier-pigeon"),
        (
            bad(id="beta-2", phone_number_id="1", app_secret=None),
            400,
            "channel beta-2: missing secret 'app_secret'",
        ),
        (bad(id="bad id!"), 400, "id: missing or invalid channel id 'bad id!'"),
        (bad(id="beta-2", phone_number_id="1", rate_limit=-1), 400, "rate_limit: must be positive"),
        (bad(), 409, "channel id 'beta-meta' is already in use"),
        (bad(id="acme-meta", phone_number_id="2"), 409, "channel id 'acme-meta' is already in use"),
        (bad(id="beta-2"), 409, f"meta_cloud route '{PHONE}' is already in use"),
        (bad(id="beta-2", phone_number_id=ACME_PHONE_ID), 409, "is already in use"),
    ):
        status, answer = await admin(http, gw, "POST", "/tenants/beta/channels", body)
        assert status == status_code, (body, answer)
        assert message in answer["error"]["message"], answer
    assert (await admin(http, gw, "POST", "/tenants/beta/channels", "x"))[0] == 400
    assert (await admin(http, gw, "POST", "/tenants/nobody/channels", channel))[0] == 404
    assert (await admin(http, gw, "POST", "/tenants/acme/channels", bad(id="a2")))[0] == 409
    assert (await admin(http, gw, "GET", "/tenants/beta/channels/nothing"))[0] == 404
    assert (await admin(http, gw, "GET", "/tenants/nobody/channels"))[0] == 404

    # PATCH merges; "***" keeps a secret; id and provider stay.
    patched = await ok(
        http, gw, "PATCH", "/tenants/beta/channels/beta-meta", {"waba_id": "7", "app_secret": "***"}
    )
    assert patched == {**masked, "waba_id": "7"}
    status, answer = await admin(
        http, gw, "PATCH", "/tenants/beta/channels/beta-meta", {"id": "other"}
    )
    assert status == 400 and answer["error"]["message"].startswith("id: cannot be changed")
    status, answer = await admin(
        http, gw, "PATCH", "/tenants/beta/channels/beta-meta", {"colour": "red"}
    )
    assert status == 400 and "unknown key 'colour'" in answer["error"]["message"]
    status, answer = await admin(
        http, gw, "PATCH", "/tenants/beta/channels/beta-meta", {"access_token": None}
    )
    assert status == 400 and "missing secret 'access_token'" in answer["error"]["message"]
    assert (await admin(http, gw, "PATCH", "/tenants/beta/channels/nothing", {}))[0] == 404
    assert (await admin(http, gw, "PATCH", "/tenants/acme/channels/acme-meta", {"waba_id": "1"}))[
        0
    ] == 409
    assert (await admin(http, gw, "DELETE", "/tenants/acme/channels/acme-meta"))[0] == 409
    assert (await admin(http, gw, "DELETE", "/tenants/beta/channels/nothing"))[0] == 404

    # Secrets are sealed at rest: none is in the database in plain text.
    (stored,) = db_rows(gw, "SELECT config FROM admin_channel")
    assert "beta-secret" not in stored[0] and "beta-meta-token" not in stored[0]
    assert json.loads(stored[0])["app_secret"].startswith("v1.")


async def test_a_rotated_secret_takes_the_next_webhook(
    gw: Gateway, http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    await onboard(http, gw, fake_graph)
    body = text_webhook([("wamid.rot-1", "before", ALEX)], PHONE)
    assert await webhook(http, gw, body, "beta-secret") == 200
    await ok(http, gw, "PATCH", "/tenants/beta/channels/beta-meta", {"app_secret": "rotated"})
    body = text_webhook([("wamid.rot-2", "after", ALEX)], PHONE)
    assert await webhook(http, gw, body, "beta-secret") == 401
    assert await webhook(http, gw, body, "rotated") == 200


async def test_deleting_a_channel(
    gw: Gateway, http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    key = await onboard(http, gw, fake_graph)
    body = text_webhook([("wamid.del-1", "kept", ALEX)], PHONE)
    assert await webhook(http, gw, body, "beta-secret") == 200

    async def messages() -> list[Any]:
        _, page = await tenant_api(http, gw, "GET", "/conversations", key)
        if not page["items"]:
            return []
        conv = page["items"][0]["id"]
        _, msgs = await tenant_api(http, gw, "GET", f"/conversations/{conv}/messages", key)
        items: list[Any] = msgs["items"]
        return items

    await eventually(messages, what="the message stored")
    assert await admin(http, gw, "DELETE", "/tenants/beta/channels/beta-meta") == (204, None)
    body = text_webhook([("wamid.del-2", "after", ALEX)], PHONE)
    assert await webhook(http, gw, body, "beta-secret") == 404
    async with http.post(
        f"{gw.url}/webhooks/meta/beta-meta", data=body, headers={"X-Hub-Signature-256": "x"}
    ) as resp:
        assert resp.status == 404
    send = {"channelId": "beta-meta", "to": ALEX, "text": {"body": "no"}}
    assert (await tenant_api(http, gw, "POST", "/messages", key, send))[0] == 404
    # Its history stays readable.
    assert [m["providerMessageId"] for m in await messages()] == ["wamid.del-1"]
    assert (await ok(http, gw, "GET", "/tenants/beta"))["channels"] == []
    # Another tenant cannot take the id over (the history under it is beta's).
    await ok(http, gw, "POST", "/tenants", {"id": "gamma"})
    channel = meta_channel("beta-meta", "999", "s", fake_graph.base_url)
    assert (await admin(http, gw, "POST", "/tenants/gamma/channels", channel))[0] == 409


async def test_deleting_a_tenant_revokes_its_keys_and_disconnects_it(
    gw: Gateway, http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    key = await onboard(http, gw, fake_graph)
    status, minted = await tenant_api(http, gw, "POST", "/realtime-tokens", key, {})
    assert status == 201, minted
    client = await Client().connect(gw, key, "websocket")
    by_token = await Client().connect(gw, minted["token"], "polling")
    acme = await Client().connect(gw, ACME_KEY, "websocket")
    channel = grpc.aio.insecure_channel(gw.grpc_target)
    metadata = (("authorization", f"Bearer {key}"),)
    stream = pb_grpc.EventServiceStub(channel).StreamEvents(
        pb.StreamEventsRequest(), metadata=metadata
    )
    await stream.initial_metadata()
    open_ = asyncio.Event()

    async def bot_messages() -> AsyncIterator[bot_pb.BotMessage]:
        yield bot_pb.BotMessage(register=bot_pb.BotRegister(name="remote", priority=50))
        await open_.wait()

    bot = bot_grpc.BotServiceStub(channel).Connect(bot_messages(), metadata=metadata)
    assert (await bot.read()).registered.tenant_id == "beta"
    try:
        assert await admin(http, gw, "DELETE", "/tenants/beta") == (204, None)
        assert (await tenant_api(http, gw, "GET", "/conversations", key))[0] == 401
        await eventually(
            lambda: not client.sio.connected and not by_token.sio.connected,
            what="beta's Socket.IO clients cut",
        )
        for call in (stream, bot):
            with pytest.raises(grpc.aio.AioRpcError) as ended:
                await asyncio.wait_for(call.read(), 10)
            assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert acme.sio.connected  # another tenant's client stays
        body = text_webhook([("wamid.gone", "x", ALEX)], PHONE)
        assert await webhook(http, gw, body, "beta-secret") == 404
        for token in (key, minted["token"]):
            with pytest.raises(socketio.exceptions.ConnectionError):
                await Client().connect(gw, token, "websocket")
    finally:
        open_.set()
        for c in (client, by_token, acme):
            await c.close()
        await channel.close()


async def test_a_bot_chain_set_at_run_time_answers(
    gw: Gateway, http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    await onboard(http, gw, fake_graph)
    menu = [{"plugin": "flows", "flows_file": "menu.yaml"}]
    assert await ok(http, gw, "PUT", "/tenants/beta/bots", {"bots": menu}) == {"bots": menu}
    assert await ok(http, gw, "GET", "/tenants/beta/bots") == {"bots": menu}
    body = text_webhook([("wamid.bot-1", "Olá", ALEX)], PHONE)
    assert await webhook(http, gw, body, "beta-secret") == 200
    (reply,) = await bots.wait_replies(fake_graph, 1, ALEX)
    assert reply.startswith("Hi Contact")

    ai = [{"plugin": "ai", "provider": "openai", "model": "m", "api_key": "sk-very-secret"}]
    assert await ok(http, gw, "PUT", "/tenants/beta/bots", ai) == {
        "bots": [{**ai[0], "api_key": "***"}]
    }
    assert (await ok(http, gw, "GET", "/tenants/beta/bots"))["bots"][0]["api_key"] == "***"
    (stored,) = db_rows(gw, "SELECT bots FROM admin_tenant WHERE id = 'beta'")
    assert "sk-very-secret" not in stored[0]

    for bots_body, message in (
        ([{"plugin": "telepathy"}], "bots[0]: unknown plugin 'telepathy'"),
        ([{"plugin": "flows", "flows": [], "tone": "x"}], "bots[0]: unknown key 'tone'"),
        ({"bots": "menu"}, "bots: expected a list"),
    ):
        status, answer = await admin(http, gw, "PUT", "/tenants/beta/bots", bots_body)
        assert status == 400, answer
        assert answer["error"]["message"].startswith(message), answer
    assert (await admin(http, gw, "PUT", "/tenants/acme/bots", menu))[0] == 409
    assert (await admin(http, gw, "PUT", "/tenants/nobody/bots", menu))[0] == 404


async def test_the_audit_log(
    gw: Gateway, http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    await onboard(http, gw, fake_graph)
    await ok(http, gw, "PATCH", "/tenants/beta/channels/beta-meta", {"app_secret": "rotated"})
    await ok(http, gw, "POST", "/tenants", {"id": "gamma"})
    entries = (await ok(http, gw, "GET", "/audit"))["entries"]
    assert [(e["action"], e["tenantId"], e["target"]) for e in entries] == [
        ("tenant.create", "beta", "beta"),
        ("api_key.create", "beta", entries[1]["target"]),
        ("channel.create", "beta", "beta-meta"),
        ("channel.update", "beta", "beta-meta"),
        ("tenant.create", "gamma", "gamma"),
    ]
    assert {e["actor"] for e in entries} == {entries[0]["actor"]}
    assert entries[0]["actor"].startswith("admin:") and ADMIN_KEY not in entries[0]["actor"]
    assert entries[3]["details"] == {"changes": {"app_secret": "***"}}
    text = json.dumps(entries)
    for secret in ("beta-secret", "rotated", "beta-meta-token", ADMIN_KEY):
        assert secret not in text
        assert secret not in gw.logs()
    first = await ok(http, gw, "GET", "/audit?tenant=beta&limit=2")
    assert [e["id"] for e in first["entries"]] == [entries[0]["id"], entries[1]["id"]]
    rest = await ok(http, gw, "GET", f"/audit?tenant=beta&after={first['next']}")
    assert [e["target"] for e in rest["entries"]] == ["beta-meta", "beta-meta"]
    assert rest["next"] is None
    assert (await admin(http, gw, "GET", "/audit?limit=0"))[0] == 400
    assert (await admin(http, gw, "GET", "/audit?after=x"))[0] == 400


async def test_concurrent_patches_never_leave_a_mix(
    gw: Gateway, http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    key = await onboard(http, gw, fake_graph)
    path = "/tenants/beta/channels/beta-meta"
    changes = [{"app_secret": f"secret-{i}", "access_token": f"token-{i}"} for i in range(12)]
    await asyncio.gather(*(ok(http, gw, "PATCH", path, c) for c in changes))
    await assert_one_whole_patch(http, [gw], key, fake_graph, len(changes))


async def test_without_a_secret_key_nothing_is_stored(
    gateways: Callable[..., Gateway], http: aiohttp.ClientSession
) -> None:
    gw = gateways({"tenants": []}, env={"WAGATE_ADMIN_KEY": ADMIN_KEY})
    status, answer = await admin(http, gw, "POST", "/tenants", {"id": "beta"})
    assert status == 422, answer
    assert "WAGATE_SECRET_KEY is not set" in answer["error"]["message"]
    assert (await ok(http, gw, "GET", "/tenants")) == {"tenants": []}


async def test_stored_secrets_and_no_key_refuse_the_start(
    gw: Gateway, http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    await onboard(http, gw, fake_graph)
    gw.stop()
    env = {"WAGATE_ADMIN_KEY": ADMIN_KEY, "WAGATE_SECRET_KEY": ""}
    with pytest.raises(RuntimeError) as failed:
        start_gateway(gw.config, database_url=gw.database_url, env=env, workdir=gw.workdir)
    # One line, the reason.
    assert "\nwagate: config error: WAGATE_SECRET_KEY is not set" in str(failed.value)
