"""Node.js realtime clients against a real gateway: socket.io-client (both transports, and on
replica B for what replica A accepted) and a @grpc/grpc-js StreamEvents client
(tests/node/socketio_client.js, stream_events.js)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from tests.support.node import NodeLines
from tests.support.paths import NODE_DIR
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.realtime import GLOBEX, api, post, text_webhook
from tests.support.tenants import ACME_KEY, GLOBEX_KEY

pytestmark = pytest.mark.integration

ALEX = "15551230001"


class NodeClient(NodeLines):
    def events(self, key: str = "event") -> list[Any]:
        return [line for line in self.lines if key in line]


@pytest.fixture
async def node() -> AsyncIterator[Callable[..., Any]]:
    binary = shutil.which("node")
    assert binary, "node is not installed"
    assert (NODE_DIR / "node_modules" / "socket.io-client").is_dir(), "run `make install`"
    started: list[NodeClient] = []

    async def run(script: str, *args: str) -> NodeClient:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAGATE_")}
        proc = await asyncio.create_subprocess_exec(
            binary,
            str(NODE_DIR / script),
            *args,
            cwd=NODE_DIR,
            env=env,
            stdout=asyncio.subprocess.PIPE,
        )
        started.append(NodeClient(proc))
        return started[-1]

    yield run
    for client in started:
        if client.proc.returncode is None:
            client.proc.kill()
            await client.proc.wait()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_socket_io_client(
    gateway: Gateway, http: aiohttp.ClientSession, node: Any, transport: str
) -> None:
    await post(http, gateway, text_webhook([("wamid.n-0", "first", ALEX)]))

    async def alex_conversation() -> str | None:
        _, data = await api(http, gateway, "GET", "/conversations", ACME_KEY)
        return data["items"][0]["id"] if data["items"] else None

    conv = await eventually(alex_conversation)
    _, minted = await api(http, gateway, "POST", "/realtime-tokens", ACME_KEY, {})
    common = ["--url", gateway.url, "--transport", transport]
    acme = await node(
        "socketio_client.js", *common, "--count", "2", "--token", minted["token"], "--join", conv
    )
    globex = await node(
        "socketio_client.js", *common, "--count", "1", "--token", GLOBEX_KEY, "--join", conv
    )
    await acme.until(lambda line: "ready" in line)
    await globex.until(lambda line: "ready" in line)
    assert acme.lines[0] == {"connected": True, "transport": transport}
    assert acme.events("ack") == [
        {"ack": "join:conversation", "data": {"ok": True, "conversationId": conv}}
    ]
    assert globex.events("ack")[0]["data"]["ok"] is False

    await post(http, gateway, text_webhook([("wamid.n-g", "x", "15550009999")], GLOBEX[0]), GLOBEX)
    await post(http, gateway, text_webhook([("wamid.n-1", "second", ALEX)]))
    await post(http, gateway, text_webhook([("wamid.n-2", "third", ALEX)]))
    assert await acme.finish() == 0
    assert await globex.finish() == 0
    # In its tenant room and the conversation room, the client gets each event once.
    assert [(e["event"], e["data"]["message"]["providerMessageId"]) for e in acme.events()] == [
        ("message:new", "wamid.n-1"),
        ("message:new", "wamid.n-2"),
    ]
    assert acme.events()[0]["data"]["conversationId"] == conv
    assert [e["data"]["message"]["tenantId"] for e in globex.events()] == ["globex"]
    assert "timeout" not in str(acme.lines + globex.lines)

    refused = await node("socketio_client.js", *common, "--token", "nope")
    assert await refused.finish() == 1
    assert refused.lines == [
        {"connect_error": {"message": "invalid API key", "data": {"code": "unauthenticated"}}}
    ]


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_socket_io_client_on_replica_b_gets_what_replica_a_accepted(
    replicas: tuple[Gateway, Gateway], http: aiohttp.ClientSession, node: Any, transport: str
) -> None:
    a, b = replicas
    args = ["--url", b.url, "--transport", transport, "--token", ACME_KEY, "--count", "2"]
    on_b = await node("socketio_client.js", *args)
    await on_b.until(lambda line: "ready" in line)
    await post(http, a, text_webhook([("wamid.nb-1", "from A", ALEX)]))
    await post(http, a, text_webhook([("wamid.nb-2", "again from A", ALEX)]))
    assert await on_b.finish() == 0  # exits after 2 events
    assert [(e["event"], e["data"]["message"]["providerMessageId"]) for e in on_b.events()] == [
        ("message:new", "wamid.nb-1"),
        ("message:new", "wamid.nb-2"),
    ]
    assert "timeout" not in str(on_b.lines)


async def test_grpc_js_stream(gateway: Gateway, http: aiohttp.ClientSession, node: Any) -> None:
    await post(http, gateway, text_webhook([("wamid.s-0", "zero", ALEX)]))
    await post(http, gateway, text_webhook([("wamid.s-1", "one", ALEX)]))
    common = ["--target", gateway.grpc_target, "--key", ACME_KEY, "--count", "4"]
    every = await node("stream_events.js", *common, "--after", "0")
    news = await node(
        "stream_events.js", *common[:-2], "--count", "2", "--kind", "EVENT_KIND_MESSAGE_NEW"
    )
    await every.until(lambda line: "message_new" in line, count=2)  # replayed first
    await news.until(lambda line: "metadata" in line)  # subscribed (live only)
    await post(http, gateway, text_webhook([("wamid.s-2", "two", ALEX)]))
    await post(http, gateway, text_webhook([("wamid.s-3", "three", ALEX)]))
    assert await every.finish() == 0
    assert await news.finish() == 0
    events = every.events("message_new")
    assert [e["message_new"]["provider_message_id"] for e in events] == [
        f"wamid.s-{i}" for i in range(4)
    ]
    assert [int(e["id"]) for e in events] == sorted(int(e["id"]) for e in events)
    assert all(e["tenant_id"] == "acme" and e["payload"] == "message_new" for e in events)
    assert [e["message_new"]["text"]["body"] for e in news.events("message_new")] == [
        "two",
        "three",
    ]

    denied = await node("stream_events.js", "--target", gateway.grpc_target, "--key", GLOBEX_KEY,
                        "--channel", "acme-meta")  # fmt: skip
    assert await denied.finish() == 1
    assert denied.lines[-1]["name"] == "PERMISSION_DENIED"
