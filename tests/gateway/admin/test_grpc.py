"""gRPC AdminService against a real gateway over a real channel: every call's success and
its error codes, and that what it makes is the same thing REST makes and reads (the
REST side itself is tests/gateway/admin/test_rest.py)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import grpc
import pytest
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct

from providers.testing import FakeGraphAPI
from tests.support import bots
from tests.support.admin import (
    ADMIN_ENV,
    ADMIN_KEY,
    ALEX,
    PHONE,
    meta_channel,
    ok,
    tenant_api,
    webhook,
)
from tests.support.node import NodeLines
from tests.support.paths import NODE_DIR
from tests.support.procs import Gateway
from tests.support.realtime import text_webhook
from tests.support.tenants import ACME_KEY, two_tenant_config
from wagate.v1 import admin_service_pb2 as pb
from wagate.v1 import admin_service_pb2_grpc as pb_grpc
from wagate.v1 import messaging_service_pb2 as mpb
from wagate.v1 import messaging_service_pb2_grpc as mpb_grpc

pytestmark = pytest.mark.integration

MASKED = {"app_secret": "***", "verify_token": "***", "access_token": "***"}


def struct(value: dict[str, Any]) -> Struct:
    s = Struct()
    s.update(value)
    return s


def plain(s: Struct) -> dict[str, Any]:
    return json_format.MessageToDict(s)


def auth(key: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {key}"),)


class Admin:
    """AdminService calls with the admin key (or `key`), and what a failed one answers."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.stub = pb_grpc.AdminServiceStub(channel)

    async def __call__(self, method: str, request: Any, key: str | None = ADMIN_KEY) -> Any:
        metadata = auth(key) if key is not None else ()
        return await getattr(self.stub, method)(request, metadata=metadata, timeout=15)

    async def fails(self, method: str, request: Any, key: str | None = ADMIN_KEY) -> Any:
        """The status code of a call that must fail (and its details, for messages)."""
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await self(method, request, key)
        return failed.value.code(), failed.value.details()


@pytest.fixture
def gw(gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI) -> Gateway:
    """acme and globex from the file; the admin API on."""
    return gateways(two_tenant_config(fake_graph.base_url), env=ADMIN_ENV)


@pytest.fixture
async def channel(gw: Gateway) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(gw.grpc_target) as ch:
        yield ch


async def test_absent_without_an_admin_key(gateway: Gateway) -> None:
    """No admin key configured: UNIMPLEMENTED (REST's 404), with any key or none."""
    async with grpc.aio.insecure_channel(gateway.grpc_target) as ch:
        call = Admin(ch)
        for key in (None, ACME_KEY, "anything"):
            code, _ = await call.fails("ListTenants", pb.ListTenantsRequest(), key)
            assert code == grpc.StatusCode.UNIMPLEMENTED
        code, _ = await call.fails("CreateTenant", pb.CreateTenantRequest(id="beta"), None)
        assert code == grpc.StatusCode.UNIMPLEMENTED


async def test_admin_keys_only(gw: Gateway, channel: grpc.aio.Channel) -> None:
    call = Admin(channel)
    request = pb.ListTenantsRequest()
    assert (await call.fails("ListTenants", request, None))[0] == grpc.StatusCode.UNAUTHENTICATED
    assert (await call.fails("ListTenants", request, "nope"))[0] == grpc.StatusCode.UNAUTHENTICATED
    code, details = await call.fails("ListTenants", request, ACME_KEY)
    assert code == grpc.StatusCode.PERMISSION_DENIED and "admin key" in details
    assert len((await call("ListTenants", request)).tenants) == 2
    # And the admin key is no tenant key: the tenant services refuse it.
    messaging = mpb_grpc.MessagingServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await messaging.ListConversations(
            mpb.ListConversationsRequest(), metadata=auth(ADMIN_KEY), timeout=15
        )
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert ADMIN_KEY not in gw.logs()


async def test_every_call(
    gw: Gateway, channel: grpc.aio.Channel, http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    call = Admin(channel)
    E = grpc.StatusCode
    request: Any
    change: dict[str, Any]

    # Tenants.
    listed = (await call("ListTenants", pb.ListTenantsRequest())).tenants
    assert [(t.id, t.managed_by, list(t.channel_ids)) for t in listed] == [
        ("acme", pb.MANAGED_BY_CONFIG, ["acme-meta"]),
        ("globex", pb.MANAGED_BY_CONFIG, ["globex-meta"]),
    ]
    beta = (await call("CreateTenant", pb.CreateTenantRequest(id="beta"))).tenant
    assert (beta.id, beta.managed_by) == ("beta", pb.MANAGED_BY_API)
    assert beta.HasField("created_at") and beta.created_at.seconds > 0
    assert (await call("GetTenant", pb.GetTenantRequest(id="beta"))).tenant == beta
    rest = await ok(http, gw, "GET", "/tenants/beta")  # the same tenant on REST
    assert rest["managedBy"] == "api" and rest["createdAt"].startswith(
        beta.created_at.ToDatetime().isoformat()[:19]
    )
    for request, code, message in (
        (pb.CreateTenantRequest(id="beta"), E.ALREADY_EXISTS, "already exists"),
        (pb.CreateTenantRequest(id="acme"), E.ALREADY_EXISTS, "already exists"),
        (pb.CreateTenantRequest(id="Not Valid"), E.INVALID_ARGUMENT, "must match [a-z0-9-]+"),
        (pb.CreateTenantRequest(), E.INVALID_ARGUMENT, "must match"),
    ):
        failed_code, details = await call.fails("CreateTenant", request)
        assert failed_code == code and message in details, (request, details)
    assert (await call.fails("GetTenant", pb.GetTenantRequest(id="nobody")))[0] == E.NOT_FOUND
    assert (await call.fails("DeleteTenant", pb.DeleteTenantRequest(id="acme")))[0] == (
        E.ALREADY_EXISTS
    )

    # API keys.
    created = await call("CreateApiKey", pb.CreateApiKeyRequest(tenant_id="beta"))
    assert created.id and created.key.startswith("wag_")
    key = created.key
    assert (await tenant_api(http, gw, "GET", "/conversations", key))[0] == 200
    (listed_key,) = (await call("GetTenant", pb.GetTenantRequest(id="beta"))).tenant.api_keys
    assert listed_key.id == created.id and listed_key.HasField("created_at")
    for tenant, code in (("nobody", E.NOT_FOUND), ("acme", E.ALREADY_EXISTS)):
        request = pb.CreateApiKeyRequest(tenant_id=tenant)
        assert (await call.fails("CreateApiKey", request))[0] == code

    # Channels: a Struct in, the same object masked out; REST reads the same channel.
    body = meta_channel("beta-meta", PHONE, "beta-secret", fake_graph.base_url, rate_limit=5)
    request = pb.CreateChannelRequest(tenant_id="beta", channel=struct(body))
    made = plain((await call("CreateChannel", request)).channel)
    assert made == {**body, **MASKED}
    assert isinstance(made["rate_limit"], float)  # a Struct number; the stored one is 5
    assert await ok(http, gw, "GET", "/tenants/beta/channels/beta-meta") == {**body, **MASKED}
    got = await call("GetChannel", pb.GetChannelRequest(tenant_id="beta", channel_id="beta-meta"))
    assert plain(got.channel) == made
    (only,) = (await call("ListChannels", pb.ListChannelsRequest(tenant_id="beta"))).channels
    assert plain(only) == made
    config_channel = await call(
        "GetChannel", pb.GetChannelRequest(tenant_id="acme", channel_id="acme-meta")
    )
    assert plain(config_channel.channel)["app_secret"] == "***"
    for tenant, change, code, message in (
        ("beta", {"colour": "red"}, E.INVALID_ARGUMENT, "unknown key 'colour' for meta_cloud"),
        ("beta", {}, E.ALREADY_EXISTS, "channel id 'beta-meta' is already in use"),
        ("beta", {"id": "beta-2"}, E.ALREADY_EXISTS, f"route '{PHONE}' is already in use"),
        ("nobody", {"id": "n-1", "phone_number_id": "1"}, E.NOT_FOUND, "nobody"),
        ("acme", {"id": "a-2", "phone_number_id": "2"}, E.ALREADY_EXISTS, "config file"),
    ):
        request = pb.CreateChannelRequest(tenant_id=tenant, channel=struct({**body, **change}))
        failed_code, details = await call.fails("CreateChannel", request)
        assert failed_code == code and message in details, (change, details)
    request = pb.CreateChannelRequest(tenant_id="beta")  # no channel at all
    assert (await call.fails("CreateChannel", request))[0] == E.INVALID_ARGUMENT
    missing = pb.GetChannelRequest(tenant_id="beta", channel_id="nothing")
    assert (await call.fails("GetChannel", missing))[0] == E.NOT_FOUND
    request = pb.ListChannelsRequest(tenant_id="nobody")
    assert (await call.fails("ListChannels", request))[0] == E.NOT_FOUND

    # The channel is live: a webhook signed with its secret, a send through it.
    body_1 = text_webhook([("wamid.g-1", "hi", ALEX)], PHONE)
    assert await webhook(http, gw, body_1, "beta-secret") == 200
    assert await webhook(http, gw, body_1, "x") == 401

    # UpdateChannel merges (a number comes back an int: rate_limit 7, not 7.0).
    request = pb.UpdateChannelRequest(
        tenant_id="beta",
        channel_id="beta-meta",
        channel=struct({"app_secret": "rotated", "rate_limit": 7, "waba_id": "123"}),
    )
    updated = plain((await call("UpdateChannel", request)).channel)
    assert updated == {**made, "rate_limit": 7, "waba_id": "123"}
    stored = await ok(http, gw, "GET", "/tenants/beta/channels/beta-meta")
    assert stored["rate_limit"] == 7 and type(stored["rate_limit"]) is int
    body_2 = text_webhook([("wamid.g-2", "after", ALEX)], PHONE)
    assert await webhook(http, gw, body_2, "beta-secret") == 401
    assert await webhook(http, gw, body_2, "rotated") == 200
    for tenant, cid, change, code in (
        ("beta", "beta-meta", {"id": "other"}, E.INVALID_ARGUMENT),
        ("beta", "beta-meta", {"access_token": None}, E.INVALID_ARGUMENT),
        ("beta", "nothing", {}, E.NOT_FOUND),
        ("acme", "acme-meta", {"waba_id": "1"}, E.ALREADY_EXISTS),
    ):
        request = pb.UpdateChannelRequest(tenant_id=tenant, channel_id=cid, channel=struct(change))
        assert (await call.fails("UpdateChannel", request))[0] == code, change

    # Bots: entries as Structs; secrets masked on the way back.
    flows = {
        "plugin": "flows",
        "name": "hours",
        "flows": [
            {
                "name": "hours",
                "triggers": [{"word": "hours"}],
                "nodes": {"answer": {"type": "end", "text": "Open 9 to 5."}},
            }
        ],
    }
    chain = await call("SetBots", pb.SetBotsRequest(tenant_id="beta", bots=[struct(flows)]))
    assert [plain(b) for b in chain.bots] == [flows]
    got_bots = await call("GetBots", pb.GetBotsRequest(tenant_id="beta"))
    assert [plain(b) for b in got_bots.bots] == [flows]
    assert (await ok(http, gw, "GET", "/tenants/beta/bots")) == {"bots": [flows]}
    body_3 = text_webhook([("wamid.g-3", "hours", ALEX)], PHONE)
    assert await webhook(http, gw, body_3, "rotated") == 200
    assert await bots.wait_replies(fake_graph, 1, ALEX) == ["Open 9 to 5."]
    ai = {"plugin": "ai", "provider": "openai", "model": "m", "api_key": "sk-grpc-secret"}
    chain = await call(
        "SetBots", pb.SetBotsRequest(tenant_id="beta", bots=[struct(flows), struct(ai)])
    )
    assert [plain(b) for b in chain.bots] == [flows, {**ai, "api_key": "***"}]
    for tenant, entries, code in (
        ("beta", [{"plugin": "telepathy"}], E.INVALID_ARGUMENT),
        ("acme", [flows], E.ALREADY_EXISTS),
        ("nobody", [flows], E.NOT_FOUND),
    ):
        request = pb.SetBotsRequest(tenant_id=tenant, bots=[struct(b) for b in entries])
        assert (await call.fails("SetBots", request))[0] == code, tenant
    assert (await call.fails("GetBots", pb.GetBotsRequest(tenant_id="nobody")))[0] == E.NOT_FOUND
    await call("SetBots", pb.SetBotsRequest(tenant_id="beta"))  # an empty chain
    assert list((await call("GetBots", pb.GetBotsRequest(tenant_id="beta"))).bots) == []

    # The audit log, paged.
    everything = (await call("ListAuditEntries", pb.ListAuditEntriesRequest())).entries
    actions = [e.action for e in everything]
    assert actions == [
        "tenant.create",
        "api_key.create",
        "channel.create",
        "channel.update",
        "bots.put",
        "bots.put",
        "bots.put",
    ]
    first = everything[0]
    assert (first.tenant_id, first.target) == ("beta", "beta")
    assert first.actor.startswith("admin:") and first.HasField("at")
    assert plain(everything[3].details) == {
        "changes": {"app_secret": "***", "rate_limit": 7, "waba_id": "123"}
    }
    for secret in ("beta-secret", "rotated", "sk-grpc-secret", ADMIN_KEY):
        assert secret not in str(everything)
    page = await call("ListAuditEntries", pb.ListAuditEntriesRequest(tenant_id="beta", page_size=3))
    assert [e.id for e in page.entries] == [e.id for e in everything[:3]]
    assert page.next_page_token == everything[2].id
    rest_page = await call(
        "ListAuditEntries",
        pb.ListAuditEntriesRequest(tenant_id="beta", page_token=page.next_page_token),
    )
    assert [e.id for e in rest_page.entries] == [e.id for e in everything[3:]]
    assert rest_page.next_page_token == ""
    rest_entries = (await ok(http, gw, "GET", "/audit"))["entries"]
    assert [e["id"] for e in rest_entries] == [e.id for e in everything]
    for request, message in (
        (pb.ListAuditEntriesRequest(page_size=201), "page_size must be between 1 and 200"),
        (pb.ListAuditEntriesRequest(page_token="x"), "invalid page_token"),
    ):
        assert await call.fails("ListAuditEntries", request) == (E.INVALID_ARGUMENT, message)
    other = pb.ListAuditEntriesRequest(tenant_id="acme")
    assert list((await call("ListAuditEntries", other)).entries) == []

    # Revoke a key, delete a channel, delete the tenant.
    revoke = pb.RevokeApiKeyRequest(tenant_id="beta", key_id=created.id)
    assert await call("RevokeApiKey", revoke) == pb.RevokeApiKeyResponse()
    assert (await tenant_api(http, gw, "GET", "/conversations", key))[0] == 401
    assert (await call.fails("RevokeApiKey", revoke))[0] == E.NOT_FOUND
    revoke = pb.RevokeApiKeyRequest(tenant_id="acme", key_id="x")
    assert (await call.fails("RevokeApiKey", revoke))[0] == E.ALREADY_EXISTS
    key = (await call("CreateApiKey", pb.CreateApiKeyRequest(tenant_id="beta"))).key

    delete = pb.DeleteChannelRequest(tenant_id="beta", channel_id="beta-meta")
    assert await call("DeleteChannel", delete) == pb.DeleteChannelResponse()
    assert await webhook(http, gw, body_2, "rotated") == 404
    send = {"channelId": "beta-meta", "to": ALEX, "text": {"body": "gone"}}
    assert (await tenant_api(http, gw, "POST", "/messages", key, send))[0] == 404
    assert (await call.fails("DeleteChannel", delete))[0] == E.NOT_FOUND
    delete = pb.DeleteChannelRequest(tenant_id="acme", channel_id="acme-meta")
    assert (await call.fails("DeleteChannel", delete))[0] == E.ALREADY_EXISTS

    assert await call("DeleteTenant", pb.DeleteTenantRequest(id="beta")) == (
        pb.DeleteTenantResponse()
    )
    assert (await tenant_api(http, gw, "GET", "/conversations", key))[0] == 401
    assert (await call.fails("GetTenant", pb.GetTenantRequest(id="beta")))[0] == E.NOT_FOUND
    assert (await call.fails("DeleteTenant", pb.DeleteTenantRequest(id="beta")))[0] == (E.NOT_FOUND)
    assert [t.id for t in (await call("ListTenants", pb.ListTenantsRequest())).tenants] == [
        "acme",
        "globex",
    ]
    for secret in ("beta-secret", "rotated", "sk-grpc-secret", ADMIN_KEY, key):
        assert secret not in gw.logs()


async def test_a_node_client_onboards_a_customer(
    gw: Gateway, http: aiohttp.ClientSession, fake_graph: FakeGraphAPI
) -> None:
    """tests/node/admin_client.js (@grpc/grpc-js): tenant, key, channel, then a send with
    the new key; the tenant key it was given is refused on the admin service."""
    node = shutil.which("node")
    assert node, "node is not installed"
    assert (NODE_DIR / "node_modules" / "@grpc" / "grpc-js").is_dir(), "run `make install`"
    channel = meta_channel("node-meta", PHONE, "node-secret", fake_graph.base_url)
    proc = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "admin_client.js"),
        *("--target", gw.grpc_target, "--admin-key", ADMIN_KEY, "--tenant", "node-co"),
        *("--channel", json.dumps(channel), "--to", ALEX, "--text", "Hello from Node"),
        cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out = NodeLines(proc)
    assert await out.finish() == 0, out.lines
    steps = {line["step"]: line for line in out.lines}
    assert list(steps) == [
        "tenant",
        "api_key",
        "channel",
        "get_channel",
        "send",
        "tenant_key_on_admin",
    ]
    tenant = steps["tenant"]["response"]["tenant"]
    assert (tenant["id"], tenant["managed_by"]) == ("node-co", "MANAGED_BY_API")
    assert steps["api_key"]["response"]["key_length"] > 40
    assert steps["channel"]["response"]["channel"] == {**channel, **MASKED}
    assert steps["get_channel"]["response"]["channel"] == {**channel, **MASKED}
    message = steps["send"]["response"]["message"]
    assert (message["status"], message["channel_id"]) == ("MESSAGE_STATUS_SENT", "node-meta")
    assert message["tenant_id"] == "node-co"
    (sent,) = [r for r in fake_graph.requests if r.path.endswith(f"/{PHONE}/messages")]
    assert sent.headers["Authorization"] == "Bearer node-meta-token"
    refused = steps["tenant_key_on_admin"]["refused"]
    assert refused["name"] == "PERMISSION_DENIED"
    # What the Node client made is what REST reads.
    listed = await ok(http, gw, "GET", "/tenants/node-co")
    assert listed["channels"] == ["node-meta"] and len(listed["apiKeys"]) == 1
