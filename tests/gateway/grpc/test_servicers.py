"""MessagingService and SessionService servicers under grpc_testing (no socket): the real
AuthInterceptor in front, a real Outbox and SQLite database behind, Meta's Graph API faked
on 127.0.0.1. The same services over a real channel are in test_messaging.py."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import grpc_testing
import pytest

from gateway.bus import InProcessBus
from gateway.config import build_settings
from gateway.grpc.auth import AuthInterceptor
from gateway.grpc.messaging import MessagingServicer
from gateway.grpc.sessions import SessionServicer
from gateway.outbox import Outbox
from gateway.tenants import Tenants
from providers.testing import FakeGraphAPI
from realtime.typing import TypingTimers
from storage import repo, sessions
from storage.db import close_database
from storage.writer import writer
from tests.support.databases import open_fresh
from tests.support.grpc_bridge import Outcome, bridge_server, call_unary
from tests.support.tenants import ACME_KEY, GLOBEX_KEY, two_tenant_config
from wagate.v1 import event_pb2 as E
from wagate.v1 import message_pb2 as m
from wagate.v1 import messaging_service_pb2 as mpb
from wagate.v1 import messaging_service_pb2_grpc as mpb_grpc
from wagate.v1 import session_service_pb2 as spb
from wagate.v1 import session_service_pb2_grpc as spb_grpc

MESSAGING = mpb.DESCRIPTOR.services_by_name["MessagingService"]
SESSIONS = spb.DESCRIPTOR.services_by_name["SessionService"]
TO = "+15551234567"


def config(graph_url: str) -> dict[str, Any]:
    """The two-tenant config, plus a QR-session channel for acme (its engine never called)."""
    data = two_tenant_config(graph_url)
    data["tenants"][0]["channels"].append(
        {
            "id": "acme-qr",
            "provider": "qr_session",
            "session_id": "main",
            "engine_base_url": "http://127.0.0.1:9",
        }
    )
    return data


@pytest.fixture
async def tenants(
    tmp_path: Path, migrated_sqlite: Path, fake_graph: FakeGraphAPI
) -> AsyncIterator[Tenants]:
    """The channels of the config over a fresh database, with a real HTTP client."""
    settings = build_settings(config(fake_graph.base_url), {})
    shutil.copyfile(migrated_sqlite, tmp_path / "wagate.sqlite3")
    await open_fresh(f"sqlite://{tmp_path}/wagate.sqlite3")
    await repo.sync_tenants(
        [(t.id, [(c.id, c.provider) for c in t.channels]) for t in settings.tenants]
    )
    tenants = Tenants(settings)
    http = aiohttp.ClientSession()
    tenants.bind_http(http)
    try:
        yield tenants
    finally:
        await http.close()
        await close_database()


@pytest.fixture
async def server(tenants: Tenants) -> AsyncIterator[grpc_testing.Server]:
    """The two services built as gateway.compose builds them, each with only what it uses."""
    bus = InProcessBus()
    outbox = Outbox(tenants, bus)
    typing = TypingTimers(bus.publish)
    outbox.start()
    try:
        yield bridge_server(
            AuthInterceptor(tenants),
            {
                MESSAGING: (
                    mpb_grpc.add_MessagingServiceServicer_to_server,
                    MessagingServicer(outbox, typing),
                ),
                SESSIONS: (spb_grpc.add_SessionServiceServicer_to_server, SessionServicer(tenants)),
            },
        )
    finally:
        typing.close()
        await outbox.stop()


async def messaging(
    server: grpc_testing.Server, rpc: str, request: Any, key: str | None = ACME_KEY
) -> Outcome:
    return await call_unary(server, MESSAGING.methods_by_name[rpc], request, key)


async def session_rpc(
    server: grpc_testing.Server, rpc: str, request: Any, key: str | None = ACME_KEY
) -> Outcome:
    return await call_unary(server, SESSIONS.methods_by_name[rpc], request, key)


def text(body: str, channel_id: str = "acme-meta") -> mpb.SendMessageRequest:
    return mpb.SendMessageRequest(channel_id=channel_id, to=TO, text=m.TextContent(body=body))


@pytest.mark.parametrize("key", [None, "not-a-key"])
@pytest.mark.parametrize(
    ("service", "rpc", "request_"),
    [
        ("messaging", "SendMessage", text("hi")),
        ("messaging", "ListConversations", mpb.ListConversationsRequest()),
        ("sessions", "ListSessions", spb.ListSessionsRequest()),
    ],
)
async def test_without_a_valid_key_nothing_runs(
    server: grpc_testing.Server,
    fake_graph: FakeGraphAPI,
    key: str | None,
    service: str,
    rpc: str,
    request_: Any,
) -> None:
    call = messaging if service == "messaging" else session_rpc
    outcome = await call(server, rpc, request_, key)
    assert outcome.code == grpc.StatusCode.UNAUTHENTICATED, outcome.details
    assert outcome.response is None
    assert fake_graph.requests == []
    assert await repo.list_conversations("acme", "", 10, None) == ([], None)


async def test_send_is_stored_sent_and_read_back(
    server: grpc_testing.Server, fake_graph: FakeGraphAPI
) -> None:
    sent = await messaging(server, "SendMessage", text("Ships today"))
    assert sent.code == grpc.StatusCode.OK, sent.details
    message = sent.response.message
    assert message.id and message.channel_id == "acme-meta"
    (post,) = [r for r in fake_graph.requests if r.path.endswith("/messages")]
    assert post.json["text"] == {"body": "Ships today"} and post.json["to"] == TO

    got = await messaging(server, "GetMessage", mpb.GetMessageRequest(id=message.id))
    assert got.code == grpc.StatusCode.OK, got.details
    assert got.response.message.text.body == "Ships today"
    assert got.response.message.status == m.MESSAGE_STATUS_SENT
    assert got.response.message.provider_message_id

    conversations = await messaging(server, "ListConversations", mpb.ListConversationsRequest())
    (conversation,) = conversations.response.conversations
    listed = await messaging(
        server, "ListMessages", mpb.ListMessagesRequest(conversation_id=conversation.id)
    )
    assert [x.id for x in listed.response.messages] == [message.id]


async def test_a_tenant_sees_only_its_own_messages(server: grpc_testing.Server) -> None:
    sent = await messaging(server, "SendMessage", text("for acme only"))
    request = mpb.GetMessageRequest(id=sent.response.message.id)
    other = await messaging(server, "GetMessage", request, GLOBEX_KEY)
    assert other.code == grpc.StatusCode.NOT_FOUND
    listed = await messaging(
        server, "ListConversations", mpb.ListConversationsRequest(), GLOBEX_KEY
    )
    assert listed.code == grpc.StatusCode.OK and list(listed.response.conversations) == []
    foreign = await messaging(server, "SendMessage", text("hi", "acme-meta"), GLOBEX_KEY)
    assert foreign.code == grpc.StatusCode.PERMISSION_DENIED, foreign.details


async def test_domain_errors_map_to_status_codes(
    server: grpc_testing.Server, fake_graph: FakeGraphAPI
) -> None:
    empty = mpb.SendMessageRequest(channel_id="acme-meta", to=TO)
    assert (await messaging(server, "SendMessage", empty)).code == grpc.StatusCode.INVALID_ARGUMENT
    missing = await messaging(server, "GetMessage", mpb.GetMessageRequest(id="msg_nope"))
    assert missing.code == grpc.StatusCode.NOT_FOUND and "msg_nope" in missing.details
    assert fake_graph.requests == []


async def test_sessions_list_configured_and_reported_state(server: grpc_testing.Server) -> None:
    listed = await session_rpc(server, "ListSessions", spb.ListSessionsRequest())
    assert listed.code == grpc.StatusCode.OK, listed.details
    (unseen,) = listed.response.sessions
    assert (unseen.session_id, unseen.status) == ("main", E.SESSION_STATUS_SESSION_NOT_CONNECTED)

    report = E.Event(
        channel_id="acme-qr",
        session_updated=E.SessionState(
            session_id="main", status=E.SESSION_STATUS_QR_GENERATED, qr="2@abc"
        ),
    )
    await writer().run(sessions.apply_sessions, [("acme", report)])  # as ingest stores it
    got = await session_rpc(server, "GetSession", spb.GetSessionRequest(session_id="main"))
    assert got.code == grpc.StatusCode.OK, got.details
    assert got.response.session.status == E.SESSION_STATUS_QR_GENERATED
    assert got.response.session.needs_qr and got.response.session.qr == "2@abc"

    unknown = await session_rpc(server, "GetSession", spb.GetSessionRequest(session_id="other"))
    assert unknown.code == grpc.StatusCode.NOT_FOUND
    theirs = await session_rpc(
        server, "GetSession", spb.GetSessionRequest(session_id="main"), GLOBEX_KEY
    )
    assert theirs.code == grpc.StatusCode.NOT_FOUND
